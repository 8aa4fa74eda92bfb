/* 4-bit blockwise weights (onnxruntime's MatMulNBits layout): B is n rows of k codes in blocks of
 * `block` (two codes a byte, the lower k in the low nibble), each block with a float scale and a
 * 4-bit zero point (packed two a byte, the lower block in the low nibble; 8 when absent); the
 * weight is (code - zero point) * scale. Products with one to four rows of A read each code once,
 * unpacked in registers; larger products dequantize B into floats for the SGEMM, a cache-sized
 * panel at a time. With int8 activations (MatMulNBits' accuracy_level 4), a row of A is quantized
 * per block and multiplied with the codes in exact integer byte products. */
#include "ferry_kernels.h"
#include "cpu.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ROWS = 4 };

static inline uint8_t nibble(const uint8_t *p, size_t i) { return i & 1 ? p[i / 2] >> 4 : p[i / 2] & 0x0f; }

/* Column j's row of packed zero points (NULL without them). */
static inline const uint8_t *zero_row(const uint8_t *zero_points, size_t blocks, size_t j) {
    return zero_points ? zero_points + j * ((blocks + 1) / 2) : NULL;
}

/* Block b's zero point from its row of packed zero points (8, the middle, without them). */
static inline int zero_code(const uint8_t *zp_row, size_t b) { return zp_row ? nibble(zp_row, b) : 8; }

size_t ferry_nbits4_row_bytes(size_t k, size_t block) { return (k + block - 1) / block * (block / 2); }

/* One column of the product for `rows` rows of A: the sum over k of a[r][i] times the weight, each
 * weight computed as the dequantized matrix holds it. */
static void column_portable(size_t rows, size_t k, const float *a, size_t lda, const uint8_t *codes,
                            const float *scales, const uint8_t *zp_row, size_t block, float *out) {
    float acc[MAX_ROWS] = {0.f, 0.f, 0.f, 0.f};
    for (size_t k0 = 0, bk = 0; k0 < k; k0 += block, bk++) {
        const size_t len = k - k0 < block ? k - k0 : block;
        const uint8_t *c = codes + bk * (block / 2);
        const float scale = scales[bk], zp = (float)zero_code(zp_row, bk);
        for (size_t i = 0; i < len; i++) {
            const float w = ((float)nibble(c, i) - zp) * scale;
            for (size_t r = 0; r < rows; r++) acc[r] += a[r * lda + k0 + i] * w;
        }
    }
    for (size_t r = 0; r < rows; r++) out[r] = acc[r];
}

#if FERRY_X86
FERRY_AVX2_ATTR static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* 16 codes from 8 bytes, in k order (low and high nibbles interleaved), as two float vectors. */
FERRY_AVX2_ATTR static inline void codes16(const uint8_t *c, __m256 *q0, __m256 *q1) {
    const __m128i low = _mm_set1_epi8(0x0f);
    const __m128i packed = _mm_loadl_epi64((const __m128i *)c);
    const __m128i bytes = _mm_unpacklo_epi8(_mm_and_si128(packed, low), _mm_and_si128(_mm_srli_epi16(packed, 4), low));
    *q0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
    *q1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
}

/* Lane sums of A per block: asum[(r * blocks + bk) * 8 + l] sums a[r][k0 + 8 c + l] over the
 * block's whole groups of 16 (what the codes' lanes multiply). */
FERRY_AVX2_ATTR static void lane_sums(size_t rows, size_t k, const float *a, size_t lda, size_t block, float *asum) {
    const size_t blocks = (k + block - 1) / block;
    for (size_t r = 0; r < rows; r++) {
        for (size_t bk = 0; bk < blocks; bk++) {
            const size_t k0 = bk * block, len = k - k0 < block ? k - k0 : block, whole = len / 16 * 16;
            __m256 s = _mm256_setzero_ps();
            for (size_t i = 0; i < whole; i += 8) s = _mm256_add_ps(s, _mm256_loadu_ps(a + r * lda + k0 + i));
            _mm256_storeu_ps(asum + (r * blocks + bk) * 8, s);
        }
    }
}

/* Per block, a * code summed by lanes in two chains per row (four for one row, two groups of 16 a
 * step), then scale * (that - zero point * A's lane sums) added; codes after the block's last whole
 * group of 16 go one by one. `rows` is a constant in each instance below. */
FERRY_AVX2_ATTR __attribute__((always_inline)) static inline void column_rows_avx2(
    const size_t rows, size_t k, const float *a, size_t lda, const uint8_t *codes, const float *scales,
    const uint8_t *zp_row, size_t block, const float *asum, float *out) {
    const size_t blocks = (k + block - 1) / block;
    __m256 acc[MAX_ROWS];
    float tail[MAX_ROWS] = {0.f, 0.f, 0.f, 0.f};
    for (size_t r = 0; r < rows; r++) acc[r] = _mm256_setzero_ps();
    for (size_t bk = 0; bk < blocks; bk++) {
        const size_t k0 = bk * block, len = k - k0 < block ? k - k0 : block, whole = len / 16 * 16;
        const uint8_t *c = codes + bk * (block / 2);
        const float zp = (float)zero_code(zp_row, bk);
        __m256 s0[MAX_ROWS], s1[MAX_ROWS], s2 = _mm256_setzero_ps(), s3 = s2;
        for (size_t r = 0; r < rows; r++) s0[r] = s1[r] = _mm256_setzero_ps();
        size_t i = 0;
        if (rows == 1) {
            for (; i + 32 <= whole; i += 32) {
                __m256 q0, q1, q2, q3;
                codes16(c + i / 2, &q0, &q1);
                codes16(c + i / 2 + 8, &q2, &q3);
                const float *ar = a + k0 + i;
                s0[0] = _mm256_fmadd_ps(_mm256_loadu_ps(ar), q0, s0[0]);
                s1[0] = _mm256_fmadd_ps(_mm256_loadu_ps(ar + 8), q1, s1[0]);
                s2 = _mm256_fmadd_ps(_mm256_loadu_ps(ar + 16), q2, s2);
                s3 = _mm256_fmadd_ps(_mm256_loadu_ps(ar + 24), q3, s3);
            }
        }
        for (; i < whole; i += 16) {
            __m256 q0, q1;
            codes16(c + i / 2, &q0, &q1);
            for (size_t r = 0; r < rows; r++) {
                const float *ar = a + r * lda + k0 + i;
                s0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(ar), q0, s0[r]);
                s1[r] = _mm256_fmadd_ps(_mm256_loadu_ps(ar + 8), q1, s1[r]);
            }
        }
        const __m256 z = _mm256_set1_ps(zp), scale = _mm256_set1_ps(scales[bk]);
        for (size_t r = 0; r < rows; r++) {
            __m256 sum = _mm256_add_ps(s0[r], s1[r]);
            if (rows == 1) sum = _mm256_add_ps(sum, _mm256_add_ps(s2, s3));
            const __m256 sums = _mm256_loadu_ps(asum + (r * blocks + bk) * 8);
            acc[r] = _mm256_fmadd_ps(scale, _mm256_fnmadd_ps(z, sums, sum), acc[r]);
        }
        for (; i < len; i++) {
            const float w = ((float)nibble(c, i) - zp) * scales[bk];
            for (size_t r = 0; r < rows; r++) tail[r] += a[r * lda + k0 + i] * w;
        }
    }
    for (size_t r = 0; r < rows; r++) out[r] = hsum(acc[r]) + tail[r];
}

typedef void (*column_fn)(size_t, const float *, size_t, const uint8_t *, const float *, const uint8_t *, size_t,
                          const float *, float *);
#define DEFINE_COLUMN(R)                                                                                              \
    FERRY_AVX2_ATTR static void column_avx2_##R(size_t k, const float *a, size_t lda, const uint8_t *codes,           \
                                                const float *scales, const uint8_t *zp_row, size_t block,             \
                                                const float *asum, float *out) {                                      \
        column_rows_avx2(R, k, a, lda, codes, scales, zp_row, block, asum, out);                                    \
    }
DEFINE_COLUMN(1)
DEFINE_COLUMN(2)
DEFINE_COLUMN(3)
DEFINE_COLUMN(4)
#endif

void ferry_nbits4_rows(size_t m, size_t k, const float *a, size_t lda, const uint8_t *b, const float *scales,
                       const uint8_t *zero_points, size_t block, size_t n_begin, size_t n_end, float *y, size_t ldy) {
    const size_t blocks = (k + block - 1) / block, row_bytes = ferry_nbits4_row_bytes(k, block);
#if FERRY_X86
    float *asum = ferry_has_avx2() ? malloc(MAX_ROWS * blocks * 8 * sizeof(float)) : NULL;
    if (asum) {
        static const column_fn columns[] = {column_avx2_1, column_avx2_2, column_avx2_3, column_avx2_4};
        for (size_t r0 = 0; r0 < m; r0 += MAX_ROWS) {
            const size_t rows = m - r0 < MAX_ROWS ? m - r0 : MAX_ROWS;
            lane_sums(rows, k, a + r0 * lda, lda, block, asum);
            for (size_t j = n_begin; j < n_end; j++) {
                float out[MAX_ROWS];
                columns[rows - 1](k, a + r0 * lda, lda, b + j * row_bytes, scales + j * blocks,
                                  zero_row(zero_points, blocks, j), block, asum, out);
                for (size_t r = 0; r < rows; r++) y[(r0 + r) * ldy + j] = out[r];
            }
        }
        free(asum);
        return;
    }
#endif
    for (size_t r0 = 0; r0 < m; r0 += MAX_ROWS) {
        const size_t rows = m - r0 < MAX_ROWS ? m - r0 : MAX_ROWS;
        for (size_t j = n_begin; j < n_end; j++) {
            float out[MAX_ROWS];
            column_portable(rows, k, a + r0 * lda, lda, b + j * row_bytes, scales + j * blocks,
                            zero_row(zero_points, blocks, j), block, out);
            for (size_t r = 0; r < rows; r++) y[(r0 + r) * ldy + j] = out[r];
        }
    }
}

#if FERRY_X86
/* The whole groups of 16 of a block's len codes as weights at w; returns how many it wrote. */
FERRY_AVX2_ATTR static size_t dequantize_groups_avx2(const uint8_t *codes, size_t len, float zp, float scale,
                                                     float *w) {
    const __m256 z = _mm256_set1_ps(zp), s = _mm256_set1_ps(scale);
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        __m256 q0, q1;
        codes16(codes + i / 2, &q0, &q1);
        _mm256_storeu_ps(w + i, _mm256_mul_ps(_mm256_sub_ps(q0, z), s));
        _mm256_storeu_ps(w + i + 8, _mm256_mul_ps(_mm256_sub_ps(q1, z), s));
    }
    return i;
}
#endif

/* Column j of the weights, k floats at w. */
static void dequantize_column(size_t k, const uint8_t *b, const float *scales, const uint8_t *zero_points, size_t block,
                              size_t j, float *w) {
    const size_t blocks = (k + block - 1) / block, row_bytes = ferry_nbits4_row_bytes(k, block);
    const uint8_t *zp_row = zero_row(zero_points, blocks, j);
#if FERRY_X86
    const int avx2 = ferry_has_avx2();
#endif
    for (size_t bk = 0; bk < blocks; bk++) {
        const size_t k0 = bk * block, len = k - k0 < block ? k - k0 : block;
        const uint8_t *codes = b + j * row_bytes + bk * (block / 2);
        const float scale = scales[j * blocks + bk], zp = (float)zero_code(zp_row, bk);
        size_t i = 0;
#if FERRY_X86
        if (avx2) i = dequantize_groups_avx2(codes, len, zp, scale, w + k0);
#endif
        for (; i < len; i++) w[k0 + i] = ((float)nibble(codes, i) - zp) * scale;
    }
}

void ferry_nbits4_dequantize(size_t k, const uint8_t *b, const float *scales, const uint8_t *zero_points, size_t block,
                             size_t n_begin, size_t n_end, float *w) {
    for (size_t j = n_begin; j < n_end; j++) dequantize_column(k, b, scales, zero_points, block, j, w + j * k);
}

size_t ferry_nbits4_gemm_scratch(size_t k) { return 32 * k; }

void ferry_nbits4_gemm(size_t m, size_t k, size_t n, const float *packed_a, const uint8_t *b, const float *scales,
                       const uint8_t *zero_points, size_t block, size_t panel_begin, size_t panel_end, float *y,
                       size_t ldy, float *scratch) {
    float *columns = scratch, *panel = scratch + 16 * k;
    for (size_t p = panel_begin; p < panel_end; p++) {
        const size_t j0 = p * 16, width = n - j0 < 16 ? n - j0 : 16;
        for (size_t c = 0; c < 16; c++) {
            if (c < width) dequantize_column(k, b, scales, zero_points, block, j0 + c, columns + c * k);
            else memset(columns + c * k, 0, k * sizeof(float));
        }
        ferry_transpose_f32(columns, k, panel, 16, 16, k);
        ferry_sgemm_prepacked(m, width, k, packed_a, panel, y + j0, ldy);
    }
}

/* ---- int8 activations (accuracy_level 4) ---- */

size_t ferry_nbits4_int8_scratch(size_t k, size_t block) {
    const size_t blocks = (k + block - 1) / block;
    return blocks * block + blocks * 8; /* codes of A, then a float scale and an int32 sum per block */
}

/* A's row quantized per block: q = round_half_even(a * 127 / max |a|), the block's scale max |a| /
 * 127 and the sum of its q (zeros past k). */
static void quantize_row(size_t k, size_t block, const float *a, int8_t *q, float *scale, int32_t *sum) {
    for (size_t bk = 0, k0 = 0; k0 < k; k0 += block, bk++) {
        const size_t len = k - k0 < block ? k - k0 : block;
        float m = 0.f;
        for (size_t i = 0; i < len; i++) m = fabsf(a[k0 + i]) > m ? fabsf(a[k0 + i]) : m;
        const float inverse = m > 0.f ? 127.f / m : 0.f;
        int32_t s = 0;
        for (size_t i = 0; i < block; i++) {
            const int v = i < len ? (int)nearbyintf(a[k0 + i] * inverse) : 0;
            q[k0 + i] = (int8_t)v;
            s += v;
        }
        scale[bk] = m / 127.f;
        sum[bk] = s;
    }
}

/* Column j's sum over blocks of scale * a_scale * (sum of code * q - zp * sum of q): exact integer
 * sums per block. */
static float column_int8_portable(size_t blocks, size_t block, const int8_t *q, const float *a_scale,
                                  const int32_t *q_sum, const uint8_t *codes, const float *scales,
                                  const uint8_t *zp_row) {
    float acc = 0.f;
    for (size_t bk = 0; bk < blocks; bk++) {
        int32_t d = 0;
        for (size_t i = 0; i < block; i++) d += (int32_t)nibble(codes + bk * (block / 2), i) * q[bk * block + i];
        acc += scales[bk] * a_scale[bk] * (float)(d - zero_code(zp_row, bk) * q_sum[bk]);
    }
    return acc;
}

#if FERRY_X86
/* The same, 32 codes a step in byte products (codes 0...15 times |q| <= 127, summed in pairs: at
 * most 3810, no 16-bit saturation), each block's integer lanes scaled into float lanes. Blocks of
 * 16 go through the portable loop. */
FERRY_AVX2_ATTR static float column_int8_avx2(size_t blocks, size_t block, const int8_t *q, const float *a_scale,
                                              const int32_t *q_sum, const uint8_t *codes, const float *scales,
                                              const uint8_t *zp_row) {
    const __m128i low = _mm_set1_epi8(0x0f);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    float correction = 0.f;
    for (size_t bk = 0; bk < blocks; bk++) {
        const uint8_t *c = codes + bk * (block / 2);
        const int8_t *qb = q + bk * block;
        __m256i dot = _mm256_setzero_si256();
        for (size_t i = 0; i < block; i += 32) {
            const __m128i v = _mm_loadu_si128((const __m128i *)(c + i / 2));
            const __m128i lo = _mm_and_si128(v, low), hi = _mm_and_si128(_mm_srli_epi16(v, 4), low);
            const __m256i codes32 = _mm256_set_m128i(_mm_unpackhi_epi8(lo, hi), _mm_unpacklo_epi8(lo, hi));
            const __m256i p = _mm256_maddubs_epi16(codes32, _mm256_loadu_si256((const __m256i *)(qb + i)));
            dot = _mm256_add_epi32(dot, _mm256_madd_epi16(p, ones));
        }
        const float f = scales[bk] * a_scale[bk];
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(f), acc);
        correction += f * (float)(zero_code(zp_row, bk) * q_sum[bk]);
    }
    return hsum(acc) - correction;
}
#endif

void ferry_nbits4_row_int8(size_t k, const float *a, const uint8_t *b, const float *scales, const uint8_t *zero_points,
                           size_t block, size_t n_begin, size_t n_end, float *y, void *scratch) {
    const size_t blocks = (k + block - 1) / block, row_bytes = ferry_nbits4_row_bytes(k, block);
    int8_t *q = scratch;
    float *a_scale = (float *)(q + blocks * block);
    int32_t *q_sum = (int32_t *)(a_scale + blocks);
    quantize_row(k, block, a, q, a_scale, q_sum);
    float (*column)(size_t, size_t, const int8_t *, const float *, const int32_t *, const uint8_t *, const float *,
                    const uint8_t *) = column_int8_portable;
#if FERRY_X86
    if (ferry_has_avx2() && block % 32 == 0) column = column_int8_avx2;
#endif
    for (size_t j = n_begin; j < n_end; j++)
        y[j] = column(blocks, block, q, a_scale, q_sum, b + j * row_bytes, scales + j * blocks,
                      zero_row(zero_points, blocks, j));
}
