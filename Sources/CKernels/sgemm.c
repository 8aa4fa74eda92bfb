/* Ferry's single-precision GEMM: C = A * B for row-major matrices, with A (the weights of a layer)
 * packed once into 6-row panels and B packed into 16-column panels, a 6x16 register-tile
 * micro-kernel (AVX2/FMA, with a portable version of the same loop; AVX-512 takes two panels at a
 * time, 6x32), K blocked by 256 and M by 120 (gemm_driver.h's loops, full blocks).
 * B is packed whole by the caller, a tile of columns at a time (convolutions pack it straight from
 * the image, so im2col and packing are one pass).
 * Every element of C is the same chain of multiply-adds over k in order, whatever its row or column,
 * so equal rows of A give bitwise equal rows of C (which BLAS libraries do not promise). */
#include "ferry_kernels.h"
#include "conv_loops.h"
#include "cpu.h"
#include "gemm_driver.h"
#include <string.h>

enum {
    MR = GEMM_MR,
    NR = GEMM_NR,
    SMALL_M = 4, /* rows of A the small-m path takes */
    SHIFTED_AHEAD = FERRY_SHIFTED_AHEAD,
    ROWS_FIRST_DEPTH = 32 /* B read in place up to this many rows: a row panel at a time */
};

size_t ferry_sgemm_packed_a_size(size_t m, size_t k) { return (m + MR - 1) / MR * MR * k; }

void ferry_sgemm_pack_a(const float *a, size_t lda, int trans, size_t m, size_t k, float *packed) {
    for (size_t p = 0; p < m; p += MR) {
        float *dst = packed + p * k;
        const size_t rows = m - p < MR ? m - p : MR;
        for (size_t kk = 0; kk < k; kk++) {
            for (size_t r = 0; r < MR; r++)
                dst[kk * MR + r] = r < rows ? (trans ? a[kk * lda + p + r] : a[(p + r) * lda + kk]) : 0.f;
        }
    }
}

/* The tile's result goes to C: stored on the first K block, added after. */
static inline void write_tile(const float *tile, float *c, size_t ldc, size_t mr, size_t nr, int accumulate) {
    for (size_t r = 0; r < mr; r++)
        for (size_t j = 0; j < nr; j++)
            c[r * ldc + j] = accumulate ? c[r * ldc + j] + tile[r * NR + j] : tile[r * NR + j];
}

/* One MR x NR tile of C from kc steps. */
static void tile_portable(const struct gemm_tile *t, const void *context) {
    (void)context;
    const float *ap = t->a, *bp = t->b;
    const size_t bstride = t->b_step / sizeof(float);
    float acc[MR * NR];
    memset(acc, 0, sizeof acc);
    for (size_t kk = 0; kk < t->kc; kk++) {
        for (size_t r = 0; r < MR; r++) {
            const float av = ap[kk * MR + r];
            for (size_t j = 0; j < NR; j++) acc[r * NR + j] += av * bp[kk * bstride + j];
        }
    }
    write_tile(acc, t->c, t->ldc, t->mr, t->nr, t->accumulate);
}

/* A B whose row k is base + offsets[k] (an image's padded planes seen as shifted rows). */
struct shifted_rows {
    const float *base;
    const ptrdiff_t *offsets;
};

static void tile_shifted_portable(const struct gemm_tile *t, const void *context) {
    const struct shifted_rows *b = context;
    const float *ap = t->a;
    float acc[MR * NR];
    memset(acc, 0, sizeof acc);
    for (size_t kk = 0; kk < t->kc; kk++) {
        const float *row = b->base + b->offsets[t->step + kk] + t->column;
        for (size_t r = 0; r < MR; r++) {
            const float av = ap[kk * MR + r];
            for (size_t j = 0; j < NR; j++) acc[r * NR + j] += av * row[j];
        }
    }
    write_tile(acc, t->c, t->ldc, t->mr, t->nr, t->accumulate);
}

#if FERRY_X86
/* A last panel of at most 8 columns (nr <= 8): half the multiply-adds of the full tile, the same
 * chain per element; A's next row panel fetched as in tile_avx2_strided. */
FERRY_AVX2_ATTR __attribute__((always_inline))
static inline void tile_avx2_narrow(size_t kc, const float *ap, const float *a_next, const float *bp, size_t bstride,
                                    const ptrdiff_t *offsets, float *c, size_t ldc, size_t mr, size_t nr,
                                    int accumulate) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
#pragma GCC unroll 4
    for (size_t kk = 0; kk < kc; kk++) {
        _mm_prefetch((const char *)(a_next + kk * MR), _MM_HINT_T0);
        const __m256 b = _mm256_loadu_ps(offsets ? bp + offsets[kk] : bp);
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + 0), b, c0);
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + 1), b, c1);
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + 2), b, c2);
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + 3), b, c3);
        c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + 4), b, c4);
        c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + 5), b, c5);
        ap += MR;
        bp += bstride;
    }
    float tile[MR * NR] __attribute__((aligned(32)));
    _mm256_store_ps(tile + 0, c0); _mm256_store_ps(tile + 16, c1); _mm256_store_ps(tile + 32, c2);
    _mm256_store_ps(tile + 48, c3); _mm256_store_ps(tile + 64, c4); _mm256_store_ps(tile + 80, c5);
    write_tile(tile, c, ldc, mr, nr, accumulate);
}

/* A last panel of at most 4 columns (nr = `cols`, a constant where this is inlined): A's six rows
 * of a step, contiguous in its packed panel, in the lanes of one vector, one multiply-add per step
 * and column instead of the narrow tile's six; the same chain per element. */
FERRY_AVX2_ATTR __attribute__((always_inline))
static inline void tile_avx2_columns_n(const size_t cols, size_t kc, const float *ap, const float *a_next,
                                       const float *bp, size_t bstride, const ptrdiff_t *offsets, float *c, size_t ldc,
                                       size_t mr, int accumulate) {
    const __m256i rows = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
#pragma GCC unroll 4
    for (size_t kk = 0; kk < kc; kk++) {
        _mm_prefetch((const char *)(a_next + kk * MR), _MM_HINT_T0);
        /* lanes 6 and 7 are the next step's (unused); the last step's are not read */
        const __m256 a = kk + 1 < kc ? _mm256_loadu_ps(ap + kk * MR) : _mm256_maskload_ps(ap + kk * MR, rows);
        const float *b = offsets ? bp + offsets[kk] : bp + kk * bstride;
        c0 = _mm256_fmadd_ps(a, _mm256_broadcast_ss(b + 0), c0);
        if (cols > 1) c1 = _mm256_fmadd_ps(a, _mm256_broadcast_ss(b + 1), c1);
        if (cols > 2) c2 = _mm256_fmadd_ps(a, _mm256_broadcast_ss(b + 2), c2);
        if (cols > 3) c3 = _mm256_fmadd_ps(a, _mm256_broadcast_ss(b + 3), c3);
    }
    float tile[4][8] __attribute__((aligned(32)));
    _mm256_store_ps(tile[0], c0); _mm256_store_ps(tile[1], c1);
    _mm256_store_ps(tile[2], c2); _mm256_store_ps(tile[3], c3);
    for (size_t r = 0; r < mr; r++)
        for (size_t j = 0; j < cols; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + tile[j][r] : tile[j][r];
}

/* The last panel (at most 8 columns) of a pair's 17-24: 5-8 columns through the narrow tile, fewer
 * one column per vector. There the column tile's one dependency chain per vector overlaps the
 * 16-column tile before it; alone (a product one column wide) the narrow tile's six chains are
 * faster, so tile_avx2_strided keeps it. */
FERRY_AVX2_ATTR __attribute__((noinline))
static void tile_avx2_last(size_t kc, const float *ap, const float *a_next, const float *bp, size_t bstride,
                           const ptrdiff_t *offsets, float *c, size_t ldc, size_t mr, size_t nr, int accumulate) {
    switch (nr) {
    case 1: tile_avx2_columns_n(1, kc, ap, a_next, bp, bstride, offsets, c, ldc, mr, accumulate); break;
    case 2: tile_avx2_columns_n(2, kc, ap, a_next, bp, bstride, offsets, c, ldc, mr, accumulate); break;
    case 3: tile_avx2_columns_n(3, kc, ap, a_next, bp, bstride, offsets, c, ldc, mr, accumulate); break;
    case 4: tile_avx2_columns_n(4, kc, ap, a_next, bp, bstride, offsets, c, ldc, mr, accumulate); break;
    default: tile_avx2_narrow(kc, ap, a_next, bp, bstride, offsets, c, ldc, mr, nr, accumulate);
    }
}

/* B's row kk at bp + kk * bstride, or at bp + offsets[kk] when offsets is not NULL. When `next` is
 * not NULL (the next panel, packed or read in place), one step of it is fetched into cache per
 * step, so a panel streamed from memory (weights used once per run) is there before its first tile;
 * the next row panel of A (`a_next`, weights whose first tile of columns reads them from memory) is
 * fetched the same way. Only the first `computed` (2, 4 or 6, a constant where this is inlined) of
 * the panel's rows are computed. */
FERRY_AVX2_ATTR __attribute__((always_inline))
static inline void tile_avx2_rows(const size_t computed, size_t kc, const float *ap, const float *a_next,
                                  const float *bp, size_t bstride, const ptrdiff_t *offsets, const float *next,
                                  float *c, size_t ldc, size_t mr, size_t nr, int accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
    for (size_t kk = 0; kk < kc; kk++) {
        _mm_prefetch((const char *)(a_next + kk * MR), _MM_HINT_T0);
        if (next) _mm_prefetch((const char *)(next + kk * bstride), _MM_HINT_T0);
        const float *row = offsets ? bp + offsets[kk] : bp;
        if (offsets) _mm_prefetch((const char *)(bp + offsets[kk + SHIFTED_AHEAD]), _MM_HINT_T0);
        const __m256 b0 = _mm256_loadu_ps(row), b1 = _mm256_loadu_ps(row + 8);
        __m256 a;
        a = _mm256_broadcast_ss(ap + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(ap + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
        if (computed > 2) {
            a = _mm256_broadcast_ss(ap + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
            a = _mm256_broadcast_ss(ap + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        }
        if (computed > 4) {
            a = _mm256_broadcast_ss(ap + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
            a = _mm256_broadcast_ss(ap + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
        }
        ap += MR;
        bp += bstride;
    }
    if (mr == MR && nr == NR) {
        __m256 *rows[MR][2] = {{&c00, &c01}, {&c10, &c11}, {&c20, &c21}, {&c30, &c31}, {&c40, &c41}, {&c50, &c51}};
        for (size_t r = 0; r < MR; r++) {
            float *cr = c + r * ldc;
            if (accumulate) {
                _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), *rows[r][0]));
                _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), *rows[r][1]));
            } else {
                _mm256_storeu_ps(cr, *rows[r][0]);
                _mm256_storeu_ps(cr + 8, *rows[r][1]);
            }
        }
        return;
    }
    float tile[MR * NR] __attribute__((aligned(32)));
    _mm256_store_ps(tile + 0, c00); _mm256_store_ps(tile + 8, c01);
    _mm256_store_ps(tile + 16, c10); _mm256_store_ps(tile + 24, c11);
    _mm256_store_ps(tile + 32, c20); _mm256_store_ps(tile + 40, c21);
    _mm256_store_ps(tile + 48, c30); _mm256_store_ps(tile + 56, c31);
    _mm256_store_ps(tile + 64, c40); _mm256_store_ps(tile + 72, c41);
    _mm256_store_ps(tile + 80, c50); _mm256_store_ps(tile + 88, c51);
    write_tile(tile, c, ldc, mr, nr, accumulate);
}

/* The AVX2 tile for a last panel of at most 4 rows; out of line, so full tiles keep their code. */
FERRY_AVX2_ATTR __attribute__((noinline))
static void tile_avx2_short(size_t kc, const float *ap, const float *a_next, const float *bp, size_t bstride,
                            const ptrdiff_t *offsets, const float *next, float *c, size_t ldc, size_t mr, size_t nr,
                            int accumulate) {
    if (mr > 2) tile_avx2_rows(4, kc, ap, a_next, bp, bstride, offsets, next, c, ldc, mr, nr, accumulate);
    else tile_avx2_rows(2, kc, ap, a_next, bp, bstride, offsets, next, c, ldc, mr, nr, accumulate);
}

/* The AVX2 tile: 8 columns or fewer through the narrow one, else the fewest rows that cover mr (a
 * last panel of 2 or 4 rows of A costs a third or two thirds of a full one). */
FERRY_AVX2_ATTR __attribute__((always_inline))
static inline void tile_avx2_strided(size_t kc, const float *ap, const float *a_next, const float *bp, size_t bstride,
                                     const ptrdiff_t *offsets, const float *next, float *c, size_t ldc, size_t mr,
                                     size_t nr, int accumulate) {
    if (nr <= 8) tile_avx2_narrow(kc, ap, a_next, bp, bstride, offsets, c, ldc, mr, nr, accumulate);
    else if (mr > 4) tile_avx2_rows(6, kc, ap, a_next, bp, bstride, offsets, next, c, ldc, mr, nr, accumulate);
    else tile_avx2_short(kc, ap, a_next, bp, bstride, offsets, next, c, ldc, mr, nr, accumulate);
}

/* The tile for packed B (stride NR, a constant the compiler folds into the loads) and for B read in
 * place (any stride). */
FERRY_AVX2_ATTR
static void tile_avx2(const struct gemm_tile *t, const void *context) {
    (void)context;
    const size_t bstride = t->b_step / sizeof(float);
    if (bstride == NR) tile_avx2_strided(t->kc, t->a, t->a_next, t->b, NR, NULL, NULL, t->c, t->ldc, t->mr, t->nr, t->accumulate);
    else
        tile_avx2_strided(t->kc, t->a, t->a_next, t->b, bstride, NULL, (const float *)t->b + NR, t->c, t->ldc, t->mr,
                          t->nr, t->accumulate);
}

/* The tile for packed weights streamed from memory (ferry_sgemm_packed_b): it fetches the next
 * panel while it computes. */
FERRY_AVX2_ATTR
static void tile_avx2_streaming(const struct gemm_tile *t, const void *context) {
    (void)context;
    tile_avx2_strided(t->kc, t->a, t->a_next, t->b, NR, NULL, t->b_next, t->c, t->ldc, t->mr, t->nr, t->accumulate);
}

/* The tile for B in shifted rows (struct shifted_rows as the context). */
FERRY_AVX2_ATTR
static void tile_shifted_avx2(const struct gemm_tile *t, const void *context) {
    const struct shifted_rows *b = context;
    tile_avx2_strided(t->kc, t->a, t->a_next, b->base + t->column, 0, b->offsets + t->step, NULL, t->c, t->ldc, t->mr, t->nr,
                      t->accumulate);
}

/* 17 to 24 columns as a 16-column AVX2 tile and tile_avx2_last (at most three quarters of the
 * pair's multiply-adds); out of line, so the pair's loop keeps its registers. */
FERRY_AVX2_ATTR __attribute__((noinline))
static void tile_avx2_split(size_t kc, const float *ap, const float *a_next, const float *b0, const float *b1,
                            size_t bstride, const ptrdiff_t *offsets, float *c, size_t ldc, size_t mr, size_t nr,
                            int accumulate) {
    tile_avx2_strided(kc, ap, a_next, b0, bstride, offsets, NULL, c, ldc, mr, NR, accumulate);
    tile_avx2_last(kc, ap, a_next, b1, bstride, offsets, c + NR, ldc, mr, nr - NR, accumulate);
}

/* Two panels of columns at once on 512-bit registers (GEMM_MR x 2 NR: twelve accumulators, two B
 * loads and six broadcasts per step for 192 multiply-adds, half the loads per multiply-add of the
 * AVX2 tile). Columns 0-15 of B's row kk at b0 and 16-31 at b1 (plus kk * bstride, or offsets[kk]
 * when offsets is not NULL); with `next`, the panel after the pair is fetched into cache, and A's
 * next row panel always, and only the first `computed` rows are computed, as in the AVX2 tile.
 * Every element is the AVX2 tile's chain of multiply-adds, so results are bitwise the same. The two
 * tiles stay two bodies of intrinsics: the same loop written once over clang vector types ran the
 * AVX2 tile at half speed. */
FERRY_AVX512_ATTR __attribute__((always_inline))
static inline void tile_avx512_pair_rows(const size_t computed, size_t kc, const float *ap, const float *a_next,
                                         const float *b0, const float *b1, size_t bstride, const ptrdiff_t *offsets,
                                         const float *next, float *c, size_t ldc, size_t mr, size_t nr,
                                         int accumulate) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
    for (size_t kk = 0; kk < kc; kk++) {
        _mm_prefetch((const char *)(a_next + kk * MR), _MM_HINT_T0);
        const ptrdiff_t at = offsets ? offsets[kk] : (ptrdiff_t)(kk * bstride);
        if (next) _mm_prefetch((const char *)(next + at), _MM_HINT_T0);
        if (offsets) {
            _mm_prefetch((const char *)(b0 + offsets[kk + SHIFTED_AHEAD]), _MM_HINT_T0);
            _mm_prefetch((const char *)(b1 + offsets[kk + SHIFTED_AHEAD]), _MM_HINT_T0);
        }
        const __m512 x0 = _mm512_loadu_ps(b0 + at), x1 = _mm512_loadu_ps(b1 + at);
        __m512 a;
        a = _mm512_set1_ps(ap[0]); c00 = _mm512_fmadd_ps(a, x0, c00); c01 = _mm512_fmadd_ps(a, x1, c01);
        a = _mm512_set1_ps(ap[1]); c10 = _mm512_fmadd_ps(a, x0, c10); c11 = _mm512_fmadd_ps(a, x1, c11);
        if (computed > 2) {
            a = _mm512_set1_ps(ap[2]); c20 = _mm512_fmadd_ps(a, x0, c20); c21 = _mm512_fmadd_ps(a, x1, c21);
            a = _mm512_set1_ps(ap[3]); c30 = _mm512_fmadd_ps(a, x0, c30); c31 = _mm512_fmadd_ps(a, x1, c31);
        }
        if (computed > 4) {
            a = _mm512_set1_ps(ap[4]); c40 = _mm512_fmadd_ps(a, x0, c40); c41 = _mm512_fmadd_ps(a, x1, c41);
            a = _mm512_set1_ps(ap[5]); c50 = _mm512_fmadd_ps(a, x0, c50); c51 = _mm512_fmadd_ps(a, x1, c51);
        }
        ap += MR;
    }
    const __m512 rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    const __mmask16 m0 = nr >= NR ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 2 * NR ? 0xFFFF : nr > NR ? (__mmask16)((1u << (nr - NR)) - 1) : 0;
    for (size_t r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        __m512 v0 = rows[r][0], v1 = rows[r][1];
        if (accumulate) {
            v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), v0);
            v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + NR), v1);
        }
        _mm512_mask_storeu_ps(cr, m0, v0);
        _mm512_mask_storeu_ps(cr + NR, m1, v1);
    }
}

/* The pair tile for a last panel of at most 4 rows; out of line, so full tiles keep their code. */
FERRY_AVX512_ATTR __attribute__((noinline))
static void tile_avx512_pair_short(size_t kc, const float *ap, const float *a_next, const float *b0, const float *b1,
                                   size_t bstride, const ptrdiff_t *offsets, const float *next, float *c, size_t ldc,
                                   size_t mr, size_t nr, int accumulate) {
    if (mr > 2) tile_avx512_pair_rows(4, kc, ap, a_next, b0, b1, bstride, offsets, next, c, ldc, mr, nr, accumulate);
    else tile_avx512_pair_rows(2, kc, ap, a_next, b0, b1, bstride, offsets, next, c, ldc, mr, nr, accumulate);
}

/* The pair tile over the fewest rows that cover mr; 17-24 columns as an AVX2 16-column tile and
 * tile_avx2_last. */
FERRY_AVX512_ATTR __attribute__((always_inline))
static inline void tile_avx512_pair(size_t kc, const float *ap, const float *a_next, const float *b0, const float *b1,
                                    size_t bstride, const ptrdiff_t *offsets, const float *next, float *c, size_t ldc,
                                    size_t mr, size_t nr, int accumulate) {
    if (nr <= NR + 8) tile_avx2_split(kc, ap, a_next, b0, b1, bstride, offsets, c, ldc, mr, nr, accumulate);
    else if (mr > 4)
        tile_avx512_pair_rows(6, kc, ap, a_next, b0, b1, bstride, offsets, next, c, ldc, mr, nr, accumulate);
    else tile_avx512_pair_short(kc, ap, a_next, b0, b1, bstride, offsets, next, c, ldc, mr, nr, accumulate);
}

/* The pair tile for packed B (the second panel at b_next) and for B read in place (16 columns on). */
FERRY_AVX512_ATTR
static void tile_avx512_wide(const struct gemm_tile *t, const void *context) {
    (void)context;
    const size_t bstride = t->b_step / sizeof(float);
    const float *b = t->b;
    if (bstride == NR)
        tile_avx512_pair(t->kc, t->a, t->a_next, b, t->b_next, NR, NULL, NULL, t->c, t->ldc, t->mr, t->nr, t->accumulate);
    else
        tile_avx512_pair(t->kc, t->a, t->a_next, b, b + NR, bstride, NULL, b + 2 * NR, t->c, t->ldc, t->mr, t->nr,
                         t->accumulate);
}

/* The pair tile for packed weights streamed from memory, fetching the panel after the pair. */
FERRY_AVX512_ATTR
static void tile_avx512_wide_streaming(const struct gemm_tile *t, const void *context) {
    (void)context;
    const float *b = t->b, *second = t->b_next;
    tile_avx512_pair(t->kc, t->a, t->a_next, b, second, NR, NULL, second + (second - b), t->c, t->ldc, t->mr, t->nr,
                     t->accumulate);
}

/* The pair tile for B in shifted rows. */
FERRY_AVX512_ATTR
static void tile_shifted_avx512_wide(const struct gemm_tile *t, const void *context) {
    const struct shifted_rows *b = context;
    const float *row = b->base + t->column;
    tile_avx512_pair(t->kc, t->a, t->a_next, row, row + NR, 0, b->offsets + t->step, NULL, t->c, t->ldc, t->mr, t->nr,
                     t->accumulate);
}
#endif

size_t ferry_sgemm_packed_b_size(size_t n, size_t k) { return (n + NR - 1) / NR * NR * k; }

/* Scatters one row (k index r) of n values into the NR-column panels of a packed B. */
static inline void scatter_row(const float *row, size_t n, size_t k, size_t r, float *packed) {
    size_t j = 0;
    for (; j + NR <= n; j += NR) memcpy(packed + j * k + r * NR, row + j, NR * sizeof(float));
    if (j < n) {
        float *dst = packed + j * k + r * NR;
        size_t c = 0;
        for (; c < n - j; c++) dst[c] = row[j + c];
        for (; c < NR; c++) dst[c] = 0.f;
    }
}

void ferry_pack_b_panels(const float *b, size_t ldb, size_t k, size_t n, float *packed) {
    for (size_t r = 0; r < k; r++) scatter_row(b + r * ldb, n, k, r, packed);
}

/* One step of B (one row) into the panels: pack_step_fn over scatter_row. */
static void pack_row_step(const void *rows, size_t ld, size_t n, size_t k, size_t step, void *packed) {
    (void)ld;
    scatter_row(rows, n, k, step, packed);
}

DEFINE_IM2COL_2D(im2col_2d_f32, float, float, IM2COL_SAME, IM2COL_PAD_ZERO)
DEFINE_IM2COL_ND(im2col_nd_f32, float, float, IM2COL_SAME, IM2COL_PAD_ZERO)
DEFINE_IM2COL_ROWS(im2col_rows_f32, im2col_2d_f32, im2col_nd_f32, float)

void ferry_im2col_packed(const float *x, size_t channels, size_t rank, const size_t *in_shape,
                         const size_t *kernel, const size_t *strides, const size_t *dilations,
                         const size_t *pads_begin, const size_t *out_shape,
                         size_t col_begin, size_t col_end, float *packed, float *row) {
    const struct im2col_geometry g = {x, 0, rank, in_shape, kernel, strides, dilations, pads_begin, out_shape,
                                      col_begin, col_end};
    im2col_pack(&g, channels, 1, sizeof(float), im2col_rows_f32, pack_row_step, row, packed);
}

/* The blocked loops over a B whose element (k, j) is at b[j * jstride + k * kstride]: jstride = k,
 * kstride = NR for packed panels (j a multiple of NR); jstride = 1, kstride = ldb for a row-major
 * matrix read in place (full panels only). `streaming`: B is packed weights read from memory. */
static void gemm_blocked_floats(size_t m, size_t n, size_t k, const float *packed_a, const float *b, size_t jstride,
                                size_t kstride, float *c, size_t ldc, int accumulate, int streaming) {
    gemm_tile_fn tile = tile_portable, wide = NULL;
#if FERRY_X86
    if (ferry_has_avx2()) tile = streaming ? tile_avx2_streaming : tile_avx2;
    if (ferry_has_avx512()) wide = streaming ? tile_avx512_wide_streaming : tile_avx512_wide;
#else
    (void)streaming;
#endif
    const struct gemm_operands op = {(const unsigned char *)packed_a, k, (const unsigned char *)b,
                                     jstride * sizeof(float), kstride * sizeof(float), (unsigned char *)c, ldc,
                                     accumulate};
    gemm_blocked(m, n, op, gemm_full_blocks(k, m), tile, wide, NULL);
}

#if FERRY_X86
/* Panels [p0, p0 + count) (count <= 8) of C's one column: a chain per row as in the tiles (over k
 * in order, restarted every FERRY_SGEMM_DEPTH_BLOCK and added up block by block), the panel's six
 * rows in the lanes of one vector, up to eight panels' chains in flight. */
FERRY_AVX2_ATTR static inline void column_panels_avx2(size_t m, size_t k, const float *packed_a, const float *x,
                                                      size_t xs, float *c, size_t ldc, size_t p0, size_t count) {
    const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    __m256 total[8], acc[8];
    for (size_t k0 = 0; k0 < k; k0 += FERRY_SGEMM_DEPTH_BLOCK) {
        const size_t k1 = k - k0 < FERRY_SGEMM_DEPTH_BLOCK ? k : k0 + FERRY_SGEMM_DEPTH_BLOCK;
        for (size_t q = 0; q < count; q++) acc[q] = _mm256_setzero_ps();
        for (size_t kk = k0; kk < k1; kk++) {
            const __m256 xv = _mm256_set1_ps(x[kk * xs]);
            for (size_t q = 0; q < count; q++)
                acc[q] = _mm256_fmadd_ps(_mm256_maskload_ps(packed_a + ((p0 + q) * k + kk) * MR, six), xv, acc[q]);
        }
        for (size_t q = 0; q < count; q++) total[q] = k0 == 0 ? acc[q] : _mm256_add_ps(total[q], acc[q]);
    }
    for (size_t q = 0; q < count; q++) {
        float v[8];
        _mm256_storeu_ps(v, total[q]);
        for (size_t r = 0; r < MR && (p0 + q) * MR + r < m; r++) c[((p0 + q) * MR + r) * ldc] = v[r];
    }
}

/* C's one column (rows ldc apart) = packed A * x (k elements xs apart): the tiles would compute
 * sixteen columns for it. */
FERRY_AVX2_ATTR static void column_avx2(size_t m, size_t k, const float *packed_a, const float *x, size_t xs, float *c,
                                        size_t ldc) {
    const size_t panels = (m + MR - 1) / MR;
    size_t p0 = 0;
    for (; p0 + 8 <= panels; p0 += 8) column_panels_avx2(m, k, packed_a, x, xs, c, ldc, p0, 8);
    if (p0 < panels) column_panels_avx2(m, k, packed_a, x, xs, c, ldc, p0, panels - p0);
}
#endif

void ferry_sgemm_prepacked(size_t m, size_t n, size_t k, const float *packed_a, const float *packed_b,
                           float *c, size_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(float));
        return;
    }
#if FERRY_X86
    if (n == 1 && ferry_has_avx2()) {
        column_avx2(m, k, packed_a, packed_b, NR, c, ldc);
        return;
    }
#endif
    gemm_blocked_floats(m, n, k, packed_a, packed_b, k, NR, c, ldc, 0, 0);
}

void ferry_sgemm_rows(size_t m, size_t n, size_t k, const float *packed_a, const float *b, size_t ldb,
                      float *c, size_t ldc, float *tail) {
    if (m == 0 || n == 0 || k == 0) {
        ferry_sgemm_prepacked(m, n, k, packed_a, b, c, ldc);
        return;
    }
#if FERRY_X86
    if (n == 1 && ferry_has_avx2()) {
        column_avx2(m, k, packed_a, b, ldb, c, ldc);
        return;
    }
#endif
    const size_t full = n / NR * NR;
    /* With few rows of B (all of a tile's in cache), a row panel at a time: every panel writes its
     * rows of C left to right (few streams to memory). Deeper B goes column block by column block,
     * each block's rows kept in cache while all the row panels read them. */
    if (k <= ROWS_FIRST_DEPTH) {
        for (size_t i = 0; i < m; i += MR)
            gemm_blocked_floats(m - i < MR ? m - i : MR, full, k, packed_a + i * k, b, 1, ldb, c + i * ldc, ldc, 0, 0);
    } else {
        gemm_blocked_floats(m, full, k, packed_a, b, 1, ldb, c, ldc, 0, 0);
    }
    if (full < n) {
        /* the last columns go through a packed panel */
        for (size_t r = 0; r < k; r++) {
            size_t cc = 0;
            for (; cc < n - full; cc++) tail[r * NR + cc] = b[r * ldb + full + cc];
            for (; cc < NR; cc++) tail[r * NR + cc] = 0.f;
        }
        ferry_sgemm_prepacked(m, n - full, k, packed_a, tail, c + full, ldc);
    }
}

void ferry_sgemm_shifted(size_t m, size_t n, size_t k, const float *packed_a, const float *base,
                         const ptrdiff_t *offsets, float *c, size_t ldc) {
    if (m == 0 || n == 0 || k == 0) {
        ferry_sgemm_prepacked(m, n, k, packed_a, base, c, ldc);
        return;
    }
    gemm_tile_fn tile = tile_shifted_portable, wide = NULL;
#if FERRY_X86
    if (ferry_has_avx2()) tile = tile_shifted_avx2;
    if (ferry_has_avx512()) wide = tile_shifted_avx512_wide;
#endif
    const struct shifted_rows b = {base, offsets};
    const struct gemm_operands op = {(const unsigned char *)packed_a, k, NULL, 0, 0, (unsigned char *)c, ldc, 0};
    gemm_blocked(m, n, op, gemm_full_blocks(k, m), tile, wide, &b);
}

/* ---- constant right-hand matrices (weights) packed once ---- */

void ferry_sgemm_pack_b(const float *w, size_t ldw, int trans, size_t k, size_t n, float *packed) {
    if (!trans) {
        ferry_pack_b_panels(w, ldw, k, n, packed);
        return;
    }
    for (size_t j0 = 0; j0 < n; j0 += NR) {
        float *panel = packed + j0 * k;
        const size_t cols = n - j0 < NR ? n - j0 : NR;
        for (size_t kk = 0; kk < k; kk++) {
            size_t c = 0;
            for (; c < cols; c++) panel[kk * NR + c] = w[(j0 + c) * ldw + kk];
            for (; c < NR; c++) panel[kk * NR + c] = 0.f;
        }
    }
}

size_t ferry_sgemm_packed_b_scratch(size_t m, size_t k) { return m <= SMALL_M ? 0 : ferry_sgemm_packed_a_size(m, k); }

/* Rows of C for few rows of A (m <= SMALL_M): each A element broadcast against P panels of B at a
 * time, A read in place, the R x P panel sums held in vector registers (8-float vectors: AVX2
 * registers, or two SSE/NEON ones in the portable build); every output is one chain of
 * multiply-adds over k in order. */
typedef float ferry_v8f_unaligned __attribute__((vector_size(32), aligned(4)));
#define DEFINE_SMALL_M(NAME, ATTR, R, P)                                                                    \
    ATTR static void NAME(size_t k, const float *a, size_t lda, const float *pb, float *c, size_t ldc,       \
                          size_t cols, int accumulate) {                                                    \
        typedef ferry_v8f_unaligned v8;                                                                     \
        v8 acc[R][2 * P];                                                                                   \
        for (size_t r = 0; r < R; r++)                                                                      \
            for (size_t q = 0; q < 2 * P; q++) acc[r][q] = (v8){};                                          \
        for (size_t kk = 0; kk < k; kk++) {                                                                 \
            v8 b[2 * P];                                                                                    \
            for (size_t q = 0; q < 2 * P; q++) b[q] = *(const v8 *)(pb + q / 2 * NR * k + kk * NR + q % 2 * 8); \
            for (size_t r = 0; r < R; r++) {                                                                \
                const v8 av = (v8){} + a[r * lda + kk];                                                     \
                for (size_t q = 0; q < 2 * P; q++) acc[r][q] += av * b[q];                                  \
            }                                                                                               \
        }                                                                                                   \
        for (size_t r = 0; r < R; r++) {                                                                    \
            float row[P * NR];                                                                              \
            __builtin_memcpy(row, acc[r], sizeof row);                                                      \
            for (size_t j = 0; j < cols; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + row[j] : row[j]; \
        }                                                                                                   \
    }

/* Panels at a time: four for one row (eight independent sums), two for two rows, one for three or
 * four (up to eight sums and two panel vectors, within the sixteen AVX2 registers). */
#define DEFINE_SMALL_M_SET(PREFIX, ATTR)                                                                    \
    DEFINE_SMALL_M(PREFIX##_1x4, ATTR, 1, 4)                                                                \
    DEFINE_SMALL_M(PREFIX##_1x1, ATTR, 1, 1)                                                                \
    DEFINE_SMALL_M(PREFIX##_2x2, ATTR, 2, 2)                                                                \
    DEFINE_SMALL_M(PREFIX##_2x1, ATTR, 2, 1)                                                                \
    DEFINE_SMALL_M(PREFIX##_3x1, ATTR, 3, 1)                                                                \
    DEFINE_SMALL_M(PREFIX##_4x1, ATTR, 4, 1)                                                                \
    ATTR static void PREFIX(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *pb,        \
                            float *c, size_t ldc, int accumulate) {                                         \
        const size_t wide = m == 1 ? 4 : 2;                                                                 \
        size_t j = 0;                                                                                       \
        for (; m <= 2 && j + wide * NR <= n; j += wide * NR) {                                              \
            const float *p = pb + j * k;                                                                    \
            if (m == 1) PREFIX##_1x4(k, a, lda, p, c + j, ldc, wide * NR, accumulate);                      \
            else PREFIX##_2x2(k, a, lda, p, c + j, ldc, wide * NR, accumulate);                             \
        }                                                                                                   \
        for (; j < n; j += NR) {                                                                            \
            const float *p = pb + j * k;                                                                    \
            const size_t cols = n - j < NR ? n - j : NR;                                                    \
            switch (m) {                                                                                    \
            case 1: PREFIX##_1x1(k, a, lda, p, c + j, ldc, cols, accumulate); break;                       \
            case 2: PREFIX##_2x1(k, a, lda, p, c + j, ldc, cols, accumulate); break;                       \
            case 3: PREFIX##_3x1(k, a, lda, p, c + j, ldc, cols, accumulate); break;                       \
            default: PREFIX##_4x1(k, a, lda, p, c + j, ldc, cols, accumulate); break;                      \
            }                                                                                               \
        }                                                                                                   \
    }

DEFINE_SMALL_M_SET(small_m_portable, )
#if FERRY_X86
DEFINE_SMALL_M_SET(small_m_avx2, FERRY_AVX2_ATTR)
#endif

void ferry_sgemm_packed_b(size_t m, size_t k, const float *a, size_t lda, const float *packed_b, size_t col_begin,
                          size_t col_end, float *c, size_t ldc, int accumulate, float *scratch) {
    if (m == 0 || col_end <= col_begin) return;
    const size_t n = col_end - col_begin;
    const float *pb = packed_b + col_begin * k;
    c += col_begin;
    if (k == 0) {
        if (!accumulate)
            for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(float));
        return;
    }
    if (m <= SMALL_M) {
#if FERRY_X86
        if (ferry_has_avx2()) {
            small_m_avx2(m, n, k, a, lda, pb, c, ldc, accumulate);
            return;
        }
#endif
        small_m_portable(m, n, k, a, lda, pb, c, ldc, accumulate);
        return;
    }
    ferry_sgemm_pack_a(a, lda, 0, m, k, scratch);
    gemm_blocked_floats(m, n, k, scratch, pb, k, NR, c, ldc, accumulate, 1);
}
