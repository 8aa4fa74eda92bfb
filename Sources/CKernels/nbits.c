/* 4-bit blockwise weights (onnxruntime's MatMulNBits layout): B is n rows of k codes in blocks of
 * `block` (two codes a byte, the lower k in the low nibble), each block with a float scale and a
 * 4-bit zero point (packed two a byte, the lower block in the low nibble; 8 when absent); the
 * weight is (code - zero point) * scale. Products with one to four rows of A read each code once,
 * unpacked in registers; larger products dequantize B into floats for the SGEMM. */
#include "ferry_kernels.h"
#include "cpu.h"
#include <string.h>

enum { MAX_ROWS = 4 };

static inline uint8_t nibble(const uint8_t *p, size_t i) { return i & 1 ? p[i / 2] >> 4 : p[i / 2] & 0x0f; }

static inline float zero_point(const uint8_t *zp, size_t row_bytes, size_t j, size_t b) {
    return zp ? (float)nibble(zp + j * row_bytes, b) : 8.f;
}

/* Sum over the block of a[i] * (code[i] - zp), for `rows` rows of A (the portable loop). */
static void block_dots_portable(size_t rows, size_t len, const float *a, size_t lda, const uint8_t *codes, float zp,
                                float *dots) {
    for (size_t r = 0; r < rows; r++) {
        float s = 0.f;
        for (size_t i = 0; i < len; i++) s += a[r * lda + i] * ((float)nibble(codes, i) - zp);
        dots[r] = s;
    }
}

#if FERRY_X86
FERRY_AVX2_ATTR static void block_dots_avx2(size_t rows, size_t len, const float *a, size_t lda, const uint8_t *codes,
                                            float zp, float *dots) {
    __m256 acc[MAX_ROWS];
    for (size_t r = 0; r < MAX_ROWS; r++) acc[r] = _mm256_setzero_ps();
    const __m128i low = _mm_set1_epi8(0x0f);
    const __m256 z = _mm256_set1_ps(zp);
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        /* 8 bytes hold 16 codes; interleaving the low and high nibbles puts them in k order */
        const __m128i packed = _mm_loadl_epi64((const __m128i *)(codes + i / 2));
        const __m128i bytes = _mm_unpacklo_epi8(_mm_and_si128(packed, low), _mm_and_si128(_mm_srli_epi16(packed, 4), low));
        const __m256 q0 = _mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)), z);
        const __m256 q1 = _mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8))), z);
        for (size_t r = 0; r < rows; r++) {
            const float *ar = a + r * lda + i;
            acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(ar), q0, acc[r]);
            acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(ar + 8), q1, acc[r]);
        }
    }
    for (size_t r = 0; r < rows; r++) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        float d = _mm_cvtss_f32(s);
        for (size_t t = i; t < len; t++) d += a[r * lda + t] * ((float)nibble(codes, t) - zp);
        dots[r] = d;
    }
}
#endif

size_t ferry_nbits4_row_bytes(size_t k, size_t block) { return (k + block - 1) / block * (block / 2); }

void ferry_nbits4_rows(size_t m, size_t k, const float *a, size_t lda, const uint8_t *b, const float *scales,
                       const uint8_t *zero_points, size_t block, size_t n_begin, size_t n_end, float *y, size_t ldy) {
    void (*dots_fn)(size_t, size_t, const float *, size_t, const uint8_t *, float, float *) = block_dots_portable;
#if FERRY_X86
    if (ferry_has_avx2()) dots_fn = block_dots_avx2;
#endif
    const size_t blocks = (k + block - 1) / block, blob = block / 2, zp_bytes = (blocks + 1) / 2;
    for (size_t r0 = 0; r0 < m; r0 += MAX_ROWS) {
        const size_t rows = m - r0 < MAX_ROWS ? m - r0 : MAX_ROWS;
        const float *ar = a + r0 * lda;
        for (size_t j = n_begin; j < n_end; j++) {
            float acc[MAX_ROWS] = {0.f, 0.f, 0.f, 0.f};
            for (size_t bk = 0; bk < blocks; bk++) {
                const size_t k0 = bk * block, len = k - k0 < block ? k - k0 : block;
                const float scale = scales[j * blocks + bk], zp = zero_point(zero_points, zp_bytes, j, bk);
                float dots[MAX_ROWS];
                dots_fn(rows, len, ar + k0, lda, b + (j * blocks + bk) * blob, zp, dots);
                for (size_t r = 0; r < rows; r++) acc[r] += scale * dots[r];
            }
            for (size_t r = 0; r < rows; r++) y[(r0 + r) * ldy + j] = acc[r];
        }
    }
}

void ferry_nbits4_dequantize(size_t k, const uint8_t *b, const float *scales, const uint8_t *zero_points, size_t block,
                             size_t n_begin, size_t n_end, float *w) {
    const size_t blocks = (k + block - 1) / block, blob = block / 2, zp_bytes = (blocks + 1) / 2;
    for (size_t j = n_begin; j < n_end; j++) {
        float *row = w + j * k;
        for (size_t bk = 0; bk < blocks; bk++) {
            const size_t k0 = bk * block, len = k - k0 < block ? k - k0 : block;
            const uint8_t *codes = b + (j * blocks + bk) * blob;
            const float scale = scales[j * blocks + bk], zp = zero_point(zero_points, zp_bytes, j, bk);
            for (size_t i = 0; i < len; i++) row[k0 + i] = ((float)nibble(codes, i) - zp) * scale;
        }
    }
}
