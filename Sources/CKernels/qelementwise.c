/* Elementwise kernels on 8-bit quantized tensors (see ferry_kernels.h): QLinearAdd/QLinearMul, and
 * any function of one 8-bit tensor through a 256-entry lookup table. */
#include "ferry_kernels.h"
#include "cpu.h"
#include "quantize.h"

/* One value of QLinearAdd / QLinearMul: the dequantized operands added or multiplied, divided by
 * c's scale, quantized. Separate statements, so no multiply-add is contracted. */
static inline int32_t qlinear_one(int32_t a, int32_t b, int multiply, float sa, float za, float sb, float zb, float sc,
                                  float lo, float hi, int32_t zc) {
    const float u = ((float)a - za) * sa;
    const float v = ((float)b - zb) * sb;
    const float r = multiply ? u * v : u + v;
    return round_clamped(r / sc, lo, hi, zc);
}

#if FERRY_X86
/* 8 bytes from p as floats. */
FERRY_AVX2_ATTR static inline __m256 bytes_to_floats(const void *p, int is_signed) {
    const __m128i v = _mm_loadl_epi64((const __m128i *)p);
    return _mm256_cvtepi32_ps(is_signed ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v));
}

/* The vector part of ferry_qlinear_binary_bytes for steps 0 or 1: 8 elements at a time, the same
 * operations in the same order as qlinear_one; returns how many elements it did. */
FERRY_AVX2_ATTR static size_t qlinear_binary_avx2(const void *a, size_t sa, const void *b, size_t sb, size_t n, int is_signed,
                                                  int multiply, float fa, float za, float fb, float zb, float sc, float lo,
                                                  float hi, int32_t zc, void *y) {
    const __m256 vza = _mm256_set1_ps(za), vsa = _mm256_set1_ps(fa), vzb = _mm256_set1_ps(zb), vsb = _mm256_set1_ps(fb);
    const __m256 vsc = _mm256_set1_ps(sc), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const __m256i vzc = _mm256_set1_epi32(zc);
    const __m256 u0 = _mm256_set1_ps(((float)q_at(a, is_signed, 0) - za) * fa);
    const __m256 v0 = _mm256_set1_ps(((float)q_at(b, is_signed, 0) - zb) * fb);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 u = sa ? _mm256_mul_ps(_mm256_sub_ps(bytes_to_floats((const int8_t *)a + i, is_signed), vza), vsa) : u0;
        const __m256 v = sb ? _mm256_mul_ps(_mm256_sub_ps(bytes_to_floats((const int8_t *)b + i, is_signed), vzb), vsb) : v0;
        __m256 r = _mm256_div_ps(multiply ? _mm256_mul_ps(u, v) : _mm256_add_ps(u, v), vsc);
        r = _mm256_min_ps(_mm256_max_ps(r, vlo), vhi);
        const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(r), vzc);
        store_bytes8(q, is_signed, (int8_t *)y + i);
    }
    return i;
}
#endif

void ferry_qlinear_binary_bytes(const void *a, size_t a_step, const void *b, size_t b_step, size_t n, int is_signed,
                                int multiply, float a_scale, int32_t a_zero_point, float b_scale, int32_t b_zero_point,
                                float c_scale, int32_t c_zero_point, int32_t qmin, int32_t qmax, void *y) {
    const float za = (float)a_zero_point, zb = (float)b_zero_point;
    const float lo = (float)(qmin - c_zero_point), hi = (float)(qmax - c_zero_point);
    size_t i = 0;
#if FERRY_X86
    if (ferry_has_avx2() && a_step <= 1 && b_step <= 1)
        i = qlinear_binary_avx2(a, a_step, b, b_step, n, is_signed, multiply, a_scale, za, b_scale, zb, c_scale, lo, hi,
                                c_zero_point, y);
#endif
    for (; i < n; i++) {
        const int32_t q = qlinear_one(q_at(a, is_signed, i * a_step), q_at(b, is_signed, i * b_step), multiply, a_scale, za,
                                      b_scale, zb, c_scale, lo, hi, c_zero_point);
        if (is_signed) ((int8_t *)y)[i] = (int8_t)q;
        else ((uint8_t *)y)[i] = (uint8_t)q;
    }
}

#if FERRY_X86
/* 64 lookups per step: two 128-byte halves of the table by vpermi2b, the index's top bit choosing. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void byte_lookup_vbmi(const uint8_t *x, size_t n,
                                                                                  const uint8_t *table, uint8_t *y) {
    const __m512i t0 = _mm512_loadu_si512((const void *)table), t1 = _mm512_loadu_si512((const void *)(table + 64));
    const __m512i t2 = _mm512_loadu_si512((const void *)(table + 128)), t3 = _mm512_loadu_si512((const void *)(table + 192));
    for (size_t i = 0; i < n; i += 64) {
        const __mmask64 m = n - i >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (n - i)) - 1);
        const __m512i idx = _mm512_maskz_loadu_epi8(m, x + i);
        const __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1), hi = _mm512_permutex2var_epi8(t2, idx, t3);
        _mm512_mask_storeu_epi8(y + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi));
    }
}
#endif

void ferry_byte_lookup(const uint8_t *x, size_t n, const uint8_t *table, uint8_t *y) {
#if FERRY_X86
    if (ferry_has_vbmi()) {
        byte_lookup_vbmi(x, n, table, y);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) y[i] = table[x[i]];
}
