/* The output passes of the int8 kernels (see ferry_kernels.h): int32 sums requantized to int8/uint8,
 * dequantized to float (with the fused activation), or both in turn; and float tensors quantized. */
#include "ferry_kernels.h"
#include "cpu.h"
#include "quantize.h"

/* Requantizes cols [from, cols) of one row. */
static void requantize_tail(const int32_t *c, size_t from, size_t cols, int32_t bias, float scale, float lo, float hi,
                            int32_t zero_point, int out_signed, void *y) {
    for (size_t p = from; p < cols; p++) {
        const int32_t q = requantize_one(c[p], bias, scale, lo, hi, zero_point);
        if (out_signed) ((int8_t *)y)[p] = (int8_t)q;
        else ((uint8_t *)y)[p] = (uint8_t)q;
    }
}

#if FERRY_X86
FERRY_AVX2_ATTR static void requantize_avx2(const int32_t *c, size_t ldc, size_t rows, size_t cols, const int32_t *bias,
                                            const float *scale, int32_t zero_point, float lo, float hi, int out_signed,
                                            void *y, size_t ldy) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const __m256i vz = _mm256_set1_epi32(zero_point);
    for (size_t r = 0; r < rows; r++) {
        const int32_t *cr = c + r * ldc;
        int8_t *yr = (int8_t *)y + r * ldy;
        const int32_t bv = bias ? bias[r] : 0;
        const __m256i vb = _mm256_set1_epi32(bv);
        const __m256 vs = _mm256_set1_ps(scale[r]);
        size_t p = 0;
        for (; p + 8 <= cols; p += 8) {
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(cr + p)), vb)), vs);
            v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
            /* cvtps rounds half to even under the default MXCSR; the values already fit the output type */
            const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), vz);
            store_bytes8(q, out_signed, yr + p);
        }
        requantize_tail(cr, p, cols, bv, scale[r], lo, hi, zero_point, out_signed, yr);
    }
}
#endif

void ferry_requantize(const int32_t *c, size_t ldc, size_t rows, size_t cols, const int32_t *bias,
                      const float *scale, int32_t zero_point, int32_t qmin, int32_t qmax, int out_signed,
                      void *y, size_t ldy) {
    const float lo = (float)(qmin - zero_point), hi = (float)(qmax - zero_point);
#if FERRY_X86
    if (ferry_has_avx2()) {
        requantize_avx2(c, ldc, rows, cols, bias, scale, zero_point, lo, hi, out_signed, y, ldy);
        return;
    }
#endif
    for (size_t r = 0; r < rows; r++)
        requantize_tail(c + r * ldc, 0, cols, bias ? bias[r] : 0, scale[r], lo, hi, zero_point, out_signed,
                        (int8_t *)y + r * ldy);
}

void ferry_dequantize_output(const int32_t *c, size_t ldc, size_t rows, size_t cols, const int32_t *bias,
                             const float *scale, const float *float_bias, int act, float a, float b, float *y,
                             size_t ldy) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t bv = bias ? bias[r] : 0;
        for (size_t p = 0; p < cols; p++) y[r * ldy + p] = (float)add_bias(c[r * ldc + p], bv);
    }
    /* y * scale + 0 is y * scale exactly, with or without a fused multiply-add; a float bias is
     * added to the rounded product in a second pass (a multiply-add would round once) */
    ferry_scale_bias_act(y, rows, cols, ldy, scale, NULL, float_bias ? FERRY_ACT_NONE : act, a, b);
    if (float_bias) ferry_scale_bias_act(y, rows, cols, ldy, NULL, float_bias, act, a, b);
}

#if FERRY_X86
/* The vector part of ferry_quantize_floats: 8 quotients at a time; returns how many it did. */
FERRY_AVX2_ATTR static size_t quantize_floats_avx2(const float *x, size_t n, float scale, int32_t zero_point, float lo,
                                                   float hi, int out_signed, void *y) {
    const __m256 vs = _mm256_set1_ps(scale), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const __m256i vz = _mm256_set1_epi32(zero_point);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        /* maxps returns its second operand when either is NaN */
        __m256 v = _mm256_max_ps(_mm256_div_ps(_mm256_loadu_ps(x + i), vs), vlo);
        v = _mm256_min_ps(v, vhi);
        const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), vz);
        store_bytes8(q, out_signed, (int8_t *)y + i);
    }
    return i;
}
#endif

void ferry_quantize_floats(const float *x, size_t n, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                           int out_signed, void *y) {
    const float lo = (float)(qmin - zero_point), hi = (float)(qmax - zero_point);
    size_t i = 0;
#if FERRY_X86
    if (ferry_has_avx2()) i = quantize_floats_avx2(x, n, scale, zero_point, lo, hi, out_signed, y);
#endif
    for (; i < n; i++) {
        const int32_t q = quantize_one(x[i], scale, lo, hi, zero_point);
        if (out_signed) ((int8_t *)y)[i] = (int8_t)q;
        else ((uint8_t *)y)[i] = (uint8_t)q;
    }
}

void ferry_activate_quantize(const int32_t *c, size_t ldc, size_t rows, size_t cols, const int32_t *bias,
                             const float *scale, int act, float a, float b, float out_scale, int32_t zero_point,
                             int32_t qmin, int32_t qmax, int out_signed, void *y, size_t ldy) {
    enum { ROW_CHUNK = 256 /* floats of one row activated and quantized at a time */ };
    float t[ROW_CHUNK];
    for (size_t r = 0; r < rows; r++)
        for (size_t p = 0; p < cols; p += ROW_CHUNK) {
            const size_t n = cols - p < ROW_CHUNK ? cols - p : ROW_CHUNK;
            ferry_dequantize_output(c + r * ldc + p, ldc, 1, n, bias ? bias + r : NULL, scale + r, NULL, act, a, b, t, n);
            ferry_quantize_floats(t, n, out_scale, zero_point, qmin, qmax, out_signed, (int8_t *)y + r * ldy + p);
        }
}
