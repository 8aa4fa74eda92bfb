/* Ferry's exact int8 GEMM in the int16-pair layout (see ferry_kernels.h), with the structure of the
 * float one in sgemm.c (A in 6-row panels, B in 16-column panels, a 6x16 register tile,
 * gemm_driver.h's loops with K blocked by up to 256 pairs and M by up to 120, in blocks of equal
 * size), im2col straight into B's packed layout, and the matrix-vector product over a packed A.
 * The int32 sums go on to requantize.c's output passes.
 * Both operands are packed as int16 with their zero points subtracted, consecutive k taken in pairs:
 * a B panel holds, for each pair of k, 16 columns of (b[k][j], b[k+1][j]), and an A panel, for each
 * pair, 6 rows of (a[i][k], a[i][k+1]). AVX2's vpmaddwd multiplies a broadcast (a[i][k], a[i][k+1])
 * by 8 such column pairs and adds each pair's two products into an int32, so one instruction does
 * 16 exact multiply-adds (the operands lie in [-255, 255], far from its one saturating case); a
 * vpaddd then accumulates them, or AVX-512 VNNI's vpdpwssd (on 256-bit registers) does both at once.
 * Odd k is padded with a zero row. Integer sums are exact, so the portable, AVX2 and VNNI paths
 * agree bit for bit; sums are taken modulo 2^32 so that overflow (only past k = 33025) is defined. */
#include "ferry_kernels.h"
#include "cpu.h"
#include "conv_loops.h"
#include "qgemm_tile.h"
#include "quantize.h"
#include <string.h>

/* k rounded up to even: the packed depth. */
static inline size_t even_k(size_t k) { return (k + 1) & ~(size_t)1; }

size_t ferry_qgemm_packed_a_size(size_t m, size_t k) { return (m + MR - 1) / MR * MR * even_k(k) * sizeof(int16_t); }

size_t ferry_qgemm_packed_b_size(size_t n, size_t k) { return (n + NR - 1) / NR * NR * even_k(k) * sizeof(int16_t); }

void ferry_qgemm_pack_a(const void *a, int a_signed, size_t lda, size_t m, size_t k,
                        const int32_t *zero_points, void *packed) {
    const size_t k2 = even_k(k);
    for (size_t p = 0; p < m; p += MR) {
        int16_t *dst = (int16_t *)packed + p * k2;
        const size_t rows = m - p < MR ? m - p : MR;
        for (size_t kk = 0; kk < k2; kk++)
            for (size_t r = 0; r < MR; r++) {
                const int inside = r < rows && kk < k;
                const int32_t z = inside && zero_points ? zero_points[p + r] : 0;
                dst[(kk / 2 * MR + r) * 2 + kk % 2] = inside ? (int16_t)(q_at(a, a_signed, (p + r) * lda + kk) - z) : 0;
            }
    }
}

/* Writes k pair q of n columns (int16 rows k 2q at rows and k 2q + 1 at rows + ld) into B's panels;
 * the last panel's columns past n get zeros. A pack_step_fn. */
static void store_pair_portable(const void *rows, size_t ld, size_t n, size_t k2, size_t q, void *packed) {
    const int16_t *r0 = rows, *r1 = r0 + ld;
    for (size_t j = 0; j < n; j += NR) {
        int16_t *dst = (int16_t *)packed + j * k2 + q * 2 * NR;
        for (size_t c = 0; c < NR; c++) {
            dst[2 * c] = j + c < n ? r0[j + c] : 0;
            dst[2 * c + 1] = j + c < n ? r1[j + c] : 0;
        }
    }
}

#if FERRY_X86
FERRY_AVX2_ATTR static void store_pair_avx2(const void *rows, size_t ld, size_t n, size_t k2, size_t q, void *packed) {
    const int16_t *r0 = rows, *r1 = r0 + ld;
    size_t j = 0;
    for (; j + NR <= n; j += NR) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(r0 + j)), b = _mm256_loadu_si256((const __m256i *)(r1 + j));
        /* unpack works within 128-bit lanes: lo holds columns 0-3 and 8-11, hi 4-7 and 12-15 */
        const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
        int16_t *dst = (int16_t *)packed + j * k2 + q * 2 * NR;
        _mm256_storeu_si256((__m256i *)dst, _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(dst + NR), _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    if (j < n) store_pair_portable(r0 + j, ld, n - j, k2, q, (int16_t *)packed + j * k2);
}
#endif

static pack_step_fn store_pair_kernel(void) {
#if FERRY_X86
    if (ferry_has_avx2()) return store_pair_avx2;
#endif
    return store_pair_portable;
}

/* What ferry_qgemm_pack_b converts B's rows with. */
struct widening {
    int is_signed;
    int32_t zero_point;
};

/* A convert_row_fn: widen with the context's signedness and zero point. */
static void widen_row(const void *src, size_t n, const void *context, void *dst) {
    const struct widening *w = context;
    widen(src, w->is_signed, n, w->zero_point, dst);
}

void ferry_qgemm_pack_b(const void *b, int b_signed, size_t ldb, size_t k, size_t n, int32_t zero_point, void *packed) {
    const struct widening context = {b_signed, zero_point};
    gemm_pack_b(b, ldb, k, n, 2, sizeof(int16_t), widen_row, &context, store_pair_kernel(), packed);
}

DEFINE_IM2COL_2D(im2col_2d_u8, uint8_t, int16_t, IM2COL_CENTRED, IM2COL_PAD_ZERO)
DEFINE_IM2COL_2D(im2col_2d_s8, int8_t, int16_t, IM2COL_CENTRED, IM2COL_PAD_ZERO)
DEFINE_IM2COL_ND(im2col_nd_u8, uint8_t, int16_t, IM2COL_CENTRED, IM2COL_PAD_ZERO)
DEFINE_IM2COL_ND(im2col_nd_s8, int8_t, int16_t, IM2COL_CENTRED, IM2COL_PAD_ZERO)
DEFINE_IM2COL_ROWS(im2col_rows_u8, im2col_2d_u8, im2col_nd_u8, uint8_t)
DEFINE_IM2COL_ROWS(im2col_rows_s8, im2col_2d_s8, im2col_nd_s8, int8_t)

void ferry_qim2col_packed(const void *x, int x_signed, int32_t zero_point, size_t channels, size_t rank,
                          const size_t *in_shape, const size_t *kernel, const size_t *strides,
                          const size_t *dilations, const size_t *pads_begin, const size_t *out_shape,
                          size_t col_begin, size_t col_end, void *packed, void *row) {
    const struct im2col_geometry g = {x, zero_point, rank, in_shape, kernel, strides, dilations, pads_begin, out_shape,
                                      col_begin, col_end};
    im2col_pack(&g, channels, 2, sizeof(int16_t), x_signed ? im2col_rows_s8 : im2col_rows_u8, store_pair_kernel(), row,
                packed);
}

/* One MR x NR tile of C from kc pairs of k. */
static void tile_portable(const struct gemm_tile *t, const void *context) {
    (void)context;
    const int16_t *ap = t->a, *bp = t->b;
    uint32_t acc[MR * NR];
    memset(acc, 0, sizeof acc);
    for (size_t q = 0; q < t->kc; q++) {
        for (size_t r = 0; r < MR; r++) {
            const int32_t a0 = ap[2 * r], a1 = ap[2 * r + 1];
            for (size_t j = 0; j < NR; j++)
                acc[r * NR + j] += (uint32_t)(a0 * bp[2 * j]) + (uint32_t)(a1 * bp[2 * j + 1]);
        }
        ap += 2 * MR;
        bp += 2 * NR;
    }
    int32_t tile[MR * NR];
    memcpy(tile, acc, sizeof tile);
    write_tile(tile, t->c, t->ldc, t->mr, t->nr, t->accumulate);
}

#if FERRY_X86
/* The int16 tiles' sums start at 0. */
#define ZERO_START(acc, t, context)                                                                     \
    (void)(context);                                                                                    \
    for (size_t r_ = 0; r_ < MR; r_++) acc[r_][0] = acc[r_][1] = _mm256_setzero_si256()

/* The 6x16 tile, once with AVX2 (vpmaddwd then vpaddd: MADD_ADD) and once with AVX-512 VNNI on
 * 256-bit registers (vpdpwssd: DPWSSD, the same sums in one instruction, which frees the issue slots
 * the adds took). */
DEFINE_STEP_TILE(tile_avx2, FERRY_AVX2_ATTR, ZERO_START, MADD_ADD)
DEFINE_STEP_TILE(tile_vnni, FERRY_VNNI_ATTR, ZERO_START, DPWSSD)
#endif

void ferry_qgemm_prepacked(size_t m, size_t n, size_t k, const void *packed_a, const void *packed_b,
                           int32_t *c, size_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(int32_t));
        return;
    }
    gemm_tile_fn tile = tile_portable;
#if FERRY_X86
    if (ferry_has_vnni()) tile = tile_vnni;
    else if (ferry_has_avx2()) tile = tile_avx2;
#endif
    const size_t k2 = even_k(k), pairs = k2 / 2;
    const struct gemm_operands op = {packed_a, pairs, packed_b, k2 * sizeof(int16_t), 2 * NR * sizeof(int16_t),
                                     (unsigned char *)c, ldc};
    gemm_blocked(m, n, op, gemm_equal_blocks(pairs, m), tile, NULL, NULL);
}

#if FERRY_X86
/* the int16 pair layout: per pair, vpmaddwd (or vpdpwssd) of the rows' pairs by x's pair */
DEFINE_QGEMV(qgemv_avx2, FERRY_AVX2_ATTR, MADD_ADD)
DEFINE_QGEMV(qgemv_vnni, FERRY_VNNI_ATTR, DPWSSD)
#endif

void ferry_qgemv_prepacked(size_t m, size_t k, const void *packed_a, const void *x, int x_signed, int32_t x_zero_point,
                           size_t row_begin, size_t row_end, int32_t *c, void *scratch) {
    size_t first, end;
    qgemv_panels(m, row_begin, row_end, &first, &end);
    if (first >= end) return;
    const size_t k2 = even_k(k);
    const int16_t *a = packed_a;
    /* x centred on its zero point as int16 pairs, padded with a zero */
    int16_t *xc = scratch;
    widen(x, x_signed, k, x_zero_point, xc);
    if (k2 > k) xc[k] = 0;
#if FERRY_X86
    if (ferry_has_avx2()) {
        (ferry_has_vnni() ? qgemv_vnni : qgemv_avx2)((const int32_t *)a, k2 / 2, (const int32_t *)xc, first, end, m, NULL, 0, c);
        return;
    }
#endif
    for (size_t p = first; p < end; p++) {
        int32_t lanes[8] = {0};
        for (size_t kk = 0; kk < k2; kk++)
            for (size_t r = 0; r < MR; r++)
                lanes[r] = (int32_t)((uint32_t)lanes[r] + (uint32_t)(a[p * MR * k2 + (kk / 2 * MR + r) * 2 + kk % 2] * xc[kk]));
        qgemv_store(lanes, p, m, NULL, 0, c);
    }
}
