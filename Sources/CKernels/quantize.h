/* What the kernels that produce or read 8-bit quantized values share (private to CKernels): reading
 * an int8 or uint8 element, widening to int16 centred on a zero point, and the rounding every
 * quantizing output ends with. */
#ifndef FERRY_QUANTIZE_H
#define FERRY_QUANTIZE_H
#include "cpu.h"
#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Element i of an int8 (is_signed) or uint8 array. */
static inline int32_t q_at(const void *p, int is_signed, size_t i) {
    return is_signed ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* dst[i] = src[i] - zero_point for n elements of an int8 or uint8 array. */
static inline void widen(const void *src, int is_signed, size_t n, int32_t zero_point, int16_t *dst) {
    if (is_signed)
        for (size_t i = 0; i < n; i++) dst[i] = (int16_t)(((const int8_t *)src)[i] - zero_point);
    else
        for (size_t i = 0; i < n; i++) dst[i] = (int16_t)(((const uint8_t *)src)[i] - zero_point);
}

/* c + bias modulo 2^32, as vpaddd computes it. */
static inline int32_t add_bias(int32_t c, int32_t bias) { return (int32_t)((uint32_t)c + (uint32_t)bias); }

/* v clamped to [lo, hi] = [qmin, qmax] - zero_point in float (before rounding, as onnxruntime does,
 * so huge values cannot overflow the conversion; NaN gives lo), rounded half to even, shifted by the
 * zero point: the last step of every quantizing output. */
static inline int32_t round_clamped(float v, float lo, float hi, int32_t zero_point) {
    v = v > lo ? v : lo;
    v = v < hi ? v : hi;
    return (int32_t)nearbyintf(v) + zero_point;
}

/* One requantized value: the scaled sum, clamped and rounded. */
static inline int32_t requantize_one(int32_t c, int32_t bias, float scale, float lo, float hi, int32_t zero_point) {
    return round_clamped((float)add_bias(c, bias) * scale, lo, hi, zero_point);
}

#if FERRY_X86
/* Eight int32 values already within the output type's range stored as 8 bytes (int8 or uint8). */
FERRY_AVX2_ATTR __attribute__((always_inline)) static inline void store_bytes8(__m256i q, int out_signed, void *dst) {
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    w = out_signed ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
    _mm_storel_epi64((__m128i *)dst, w);
}
#endif

/* One value quantized: the quotient, clamped and rounded. */
static inline int32_t quantize_one(float x, float scale, float lo, float hi, int32_t zero_point) {
    return round_clamped(x / scale, lo, hi, zero_point);
}

#endif
