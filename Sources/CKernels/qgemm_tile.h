/* What the int16 GEMM (qgemm.c) and the byte GEMM (qgemm_bytes.c) share (private to CKernels) besides
 * gemm_driver.h's loops: the 6x16 tile's loop, the stores of a finished tile into C and the
 * matrix-vector product. */
#ifndef FERRY_QGEMM_TILE_H
#define FERRY_QGEMM_TILE_H
#include "cpu.h"
#include "ferry_kernels.h"
#include "gemm_driver.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { MR = GEMM_MR, NR = GEMM_NR };
_Static_assert(GEMM_MR == FERRY_QGEMM_PANEL_ROWS, "the packed A's panels are the driver's row panels");

/* The tile's result goes to C: stored on the first K block, added (modulo 2^32) after. */
static inline void write_tile(const int32_t *tile, int32_t *c, size_t ldc, size_t mr, size_t nr, int accumulate) {
    for (size_t r = 0; r < mr; r++)
        for (size_t j = 0; j < nr; j++)
            c[r * ldc + j] = accumulate ? (int32_t)((uint32_t)c[r * ldc + j] + (uint32_t)tile[r * NR + j]) : tile[r * NR + j];
}

/* The panels holding rows [row_begin, row_end) of a packed A with m rows (row_begin a multiple of MR). */
static inline void qgemv_panels(size_t m, size_t row_begin, size_t row_end, size_t *first, size_t *end) {
    if (row_end > m) row_end = m;
    *first = row_begin / MR;
    *end = row_end > row_begin ? (row_end + MR - 1) / MR : *first;
}

/* Lanes 0-5 of a matrix-vector product's accumulator (one per row of a panel) to c, the rows below
 * m; with row_sums (the byte layout), less the zero point's share zp * rowsum. */
static inline void qgemv_store(const int32_t lanes[8], size_t panel, size_t m, const int32_t *row_sums, uint32_t zp,
                               int32_t *c) {
    for (size_t r = 0; r < MR && panel * MR + r < m; r++)
        c[panel * MR + r] = (int32_t)((uint32_t)lanes[r] - (row_sums ? zp * (uint32_t)row_sums[panel * MR + r] : 0u));
}

#if FERRY_X86
/* Accumulating int16 pair products: vpmaddwd then vpaddd (AVX2), or vpdpwssd (AVX-512 VNNI on
 * 256-bit registers) in one instruction. */
#define MADD_ADD(acc, a, b) _mm256_add_epi32(acc, _mm256_madd_epi16(a, b))
#define DPWSSD(acc, a, b) _mm256_dpwssd_epi32(acc, a, b)

/* Matrix-vector product over a packed A whose k groups (int16 pairs, or int8 quads) are 32 bits per
 * row: per group, one load of the panel's 6 rows (lanes 6 and 7 masked off) times the broadcast
 * group of x, ACC(acc, a, x) accumulating, four accumulators; row_sums and zp as in qgemv_store. */
#define DEFINE_QGEMV(NAME, ATTR, ACC)                                                                   \
    ATTR static void NAME(const int32_t *a, size_t groups, const int32_t *x, size_t first, size_t end, size_t m, \
                          const int32_t *row_sums, uint32_t zp, int32_t *c) {                           \
        const __m256i mask = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);                           \
        for (size_t p = first; p < end; p++) {                                                          \
            const int32_t *ap = a + p * MR * groups;                                                    \
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;                             \
            size_t q = 0;                                                                               \
            for (; q + 4 <= groups; q += 4) {                                                           \
                s0 = ACC(s0, _mm256_maskload_epi32(ap + q * MR, mask), _mm256_set1_epi32(x[q]));        \
                s1 = ACC(s1, _mm256_maskload_epi32(ap + (q + 1) * MR, mask), _mm256_set1_epi32(x[q + 1])); \
                s2 = ACC(s2, _mm256_maskload_epi32(ap + (q + 2) * MR, mask), _mm256_set1_epi32(x[q + 2])); \
                s3 = ACC(s3, _mm256_maskload_epi32(ap + (q + 3) * MR, mask), _mm256_set1_epi32(x[q + 3])); \
            }                                                                                           \
            for (; q < groups; q++) s0 = ACC(s0, _mm256_maskload_epi32(ap + q * MR, mask), _mm256_set1_epi32(x[q])); \
            int32_t lanes[8] __attribute__((aligned(32)));                                              \
            _mm256_store_si256((__m256i *)lanes, _mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3))); \
            qgemv_store(lanes, p, m, row_sums, zp, c);                                                  \
        }                                                                                               \
    }
#endif

#if FERRY_X86
/* The tile's accumulators to C: whole rows straight from the registers, a partial tile through
 * memory. */
FERRY_AVX2_ATTR __attribute__((always_inline)) static inline void store_tile(__m256i acc[MR][2], int32_t *c, size_t ldc,
                                                                             size_t mr, size_t nr, int accumulate) {
    if (mr == MR && nr == NR) {
        for (size_t r = 0; r < MR; r++) {
            __m256i *cr = (__m256i *)(c + r * ldc);
            if (accumulate) {
                _mm256_storeu_si256(cr, _mm256_add_epi32(_mm256_loadu_si256(cr), acc[r][0]));
                _mm256_storeu_si256(cr + 1, _mm256_add_epi32(_mm256_loadu_si256(cr + 1), acc[r][1]));
            } else {
                _mm256_storeu_si256(cr, acc[r][0]);
                _mm256_storeu_si256(cr + 1, acc[r][1]);
            }
        }
        return;
    }
    int32_t tile[MR * NR] __attribute__((aligned(32)));
    for (size_t r = 0; r < MR; r++) {
        _mm256_store_si256((__m256i *)(tile + r * NR), acc[r][0]);
        _mm256_store_si256((__m256i *)(tile + r * NR + 8), acc[r][1]);
    }
    write_tile(tile, c, ldc, mr, nr, accumulate);
}

/* One MR x NR tile of C on 256-bit registers from kc steps of 4 bytes per row of A and column of B
 * (an int16 pair, or an int8 quad): each row's step of A broadcast, combined with both B panels'
 * steps by ACC(acc, a, b) (vpmaddwd + vpaddd, vpdpwssd, vpdpbusd, or vpmaddubsw + vpmaddwd +
 * vpaddd); the accumulators start where START(acc, t, context) puts them. */
#define DEFINE_STEP_TILE(NAME, ATTR, START, ACC)                                                        \
    ATTR static void NAME(const struct gemm_tile *t, const void *context) {                             \
        const uint8_t *ap = t->a, *bp = t->b;                                                           \
        const size_t kc = t->kc;                                                                        \
        __m256i acc[MR][2];                                                                             \
        START(acc, t, context);                                                                         \
        _Pragma("GCC unroll 4")                                                                         \
        for (size_t q = 0; q < kc; q++) {                                                               \
            const __m256i b0 = _mm256_loadu_si256((const __m256i *)bp);                                 \
            const __m256i b1 = _mm256_loadu_si256((const __m256i *)(bp + 32));                         \
            STEP_ROW(0, ACC) STEP_ROW(1, ACC) STEP_ROW(2, ACC)                                          \
            STEP_ROW(3, ACC) STEP_ROW(4, ACC) STEP_ROW(5, ACC)                                          \
            ap += 4 * MR;                                                                               \
            bp += 4 * NR;                                                                               \
        }                                                                                               \
        store_tile(acc, t->c, t->ldc, t->mr, t->nr, t->accumulate);                                     \
    }

/* Row r of a step tile: its 4 bytes of A broadcast to the 8 lanes, times both B panels. */
#define STEP_ROW(r, ACC)                                                                                \
    {                                                                                                   \
        int32_t step_;                                                                                  \
        memcpy(&step_, ap + 4 * (r), sizeof step_);                                                     \
        const __m256i a_ = _mm256_set1_epi32(step_);                                                    \
        acc[r][0] = ACC(acc[r][0], a_, b0);                                                             \
        acc[r][1] = ACC(acc[r][1], a_, b1);                                                             \
    }
#endif

#endif
