/* Ferry's byte GEMM (see ferry_kernels.h): int8 weights with zero points 0 times uint8 (or int8
 * shifted by 128) activations, with AVX-512 VNNI's vpdpbusd, which multiplies 4 unsigned bytes of B
 * by 4 signed bytes of A and adds the 4 products to an int32 lane: 32 exact multiply-adds per
 * instruction on 256-bit registers, twice vpdpwssd's, from half the packed bytes. The activations'
 * zero point z is left in B and taken out afterwards, sum_k (b - z) a = sum_k b a - z * sum_k a, from
 * the row sums of A kept at the end of the packed A; the accumulators start at -z * rowsum. All of
 * it modulo 2^32, so the sums equal the int16 path's (qgemm.c) bit for bit. The structure is that
 * path's with quads of k instead of pairs: an A panel holds, for each quad, 6 rows of 4 int8, a B
 * panel 16 columns of 4 uint8; k is padded to a multiple of 4 with zeros. Where the CPU has
 * AVX-512 (F, BW, VNNI), a tile of 6 rows by two B panels runs on 512-bit registers, one register
 * per panel quad; a batch-1 product runs as a matrix-vector product over the packed A.
 * With AVX2 alone, when every weight lies in [-64, 64] (`ferry quantize --reduce-range`'s 7-bit
 * weights, or weights that happen to fit), vpmaddubsw multiplies 32 uint8 of B by 32 int8 of A and adds
 * adjacent pairs into int16: a pair is at most 255 * 64 * 2 = 32640 in magnitude, so the
 * saturating instruction is exact, and vpmaddwd by ones adds the pairs of a quad into int32. The
 * packed A records whether its weights fit. */
#include "ferry_kernels.h"
#include "cpu.h"
#include "conv_loops.h"
#include "qgemm_tile.h"
#include <string.h>

/* k rounded up to a multiple of 4: the packed depth. */
static inline size_t quad_k(size_t k) { return (k + 3) & ~(size_t)3; }

/* Rows of the packed A, a whole number of panels. */
static inline size_t panel_rows(size_t m) { return (m + MR - 1) / MR * MR; }

/* Where the row sums start in a packed A: after the panels, 64-byte aligned. */
static inline size_t row_sums_offset(size_t m, size_t k) { return (panel_rows(m) * quad_k(k) + 63) / 64 * 64; }

/* Whether the weights' packed A says they all lie in [-64, 64] (stored after its row sums). */
static inline int32_t *seven_bit_flag(const void *packed, size_t m, size_t k) {
    return (int32_t *)((uint8_t *)packed + row_sums_offset(m, k)) + panel_rows(m);
}

/* Whether every value of the m x k matrix a lies in [-64, 64]. */
static int fits_seven_bits(const int8_t *a, size_t lda, size_t m, size_t k) {
    for (size_t i = 0; i < m; i++)
        for (size_t t = 0; t < k; t++)
            if (a[i * lda + t] < -64 || a[i * lda + t] > 64) return 0;
    return 1;
}

/* AVX2's exact byte tiles need 7-bit weights. */
static inline int avx2_bytes_exact(const void *packed_a, size_t m, size_t k) {
    return ferry_has_avx2() && *seven_bit_flag(packed_a, m, k);
}

int ferry_qgemm_bytes_suits(const int8_t *a, size_t lda, size_t m, size_t k) {
    return ferry_has_vnni() || (ferry_has_avx2() && fits_seven_bits(a, lda, m, k));
}

size_t ferry_qgemm_bytes_packed_a_size(size_t m, size_t k) {
    return row_sums_offset(m, k) + (panel_rows(m) + 1) * sizeof(int32_t);
}

size_t ferry_qgemm_bytes_packed_b_size(size_t n, size_t k) { return (n + NR - 1) / NR * NR * quad_k(k); }

void ferry_qgemm_bytes_pack_a(const int8_t *a, size_t lda, size_t m, size_t k, void *packed) {
    const size_t k4 = quad_k(k);
    int32_t *sums = (int32_t *)((uint8_t *)packed + row_sums_offset(m, k));
    for (size_t p = 0; p < m; p += MR) {
        int8_t *dst = (int8_t *)packed + p * k4;
        for (size_t r = 0; r < MR; r++) {
            const int inside = p + r < m;
            int32_t sum = 0;
            for (size_t kk = 0; kk < k4; kk++) {
                const int8_t v = inside && kk < k ? a[(p + r) * lda + kk] : 0;
                dst[(kk / 4 * MR + r) * 4 + kk % 4] = v;
                sum += v;
            }
            sums[p + r] = sum;
        }
    }
    *seven_bit_flag(packed, m, k) = fits_seven_bits(a, lda, m, k);
}

/* Writes quad q of n columns (uint8 rows k 4q + t at rows + t * ld) into B's panels; the last
 * panel's columns past n get zeros. A pack_step_fn. */
static void store_quad_portable(const void *rows, size_t ld, size_t n, size_t k4, size_t q, void *packed) {
    const uint8_t *r = rows;
    for (size_t j = 0; j < n; j += NR) {
        uint8_t *dst = (uint8_t *)packed + j * k4 + q * 4 * NR;
        for (size_t c = 0; c < NR; c++)
            for (size_t t = 0; t < 4; t++) dst[4 * c + t] = j + c < n ? r[t * ld + j + c] : 0;
    }
}

#if FERRY_X86
FERRY_AVX2_ATTR static void store_quad_avx2(const void *rows, size_t ld, size_t n, size_t k4, size_t q, void *packed) {
    const uint8_t *r = rows;
    size_t j = 0;
    for (; j + NR <= n; j += NR) {
        const __m128i r0 = _mm_loadu_si128((const __m128i *)(r + j)), r1 = _mm_loadu_si128((const __m128i *)(r + ld + j));
        const __m128i r2 = _mm_loadu_si128((const __m128i *)(r + 2 * ld + j)), r3 = _mm_loadu_si128((const __m128i *)(r + 3 * ld + j));
        /* byte pairs (k 4q, 4q + 1) and (4q + 2, 4q + 3) of columns 0-7 and 8-15, then the quads */
        const __m128i lo01 = _mm_unpacklo_epi8(r0, r1), hi01 = _mm_unpackhi_epi8(r0, r1);
        const __m128i lo23 = _mm_unpacklo_epi8(r2, r3), hi23 = _mm_unpackhi_epi8(r2, r3);
        __m128i *dst = (__m128i *)((uint8_t *)packed + j * k4 + q * 4 * NR);
        _mm_storeu_si128(dst, _mm_unpacklo_epi16(lo01, lo23));
        _mm_storeu_si128(dst + 1, _mm_unpackhi_epi16(lo01, lo23));
        _mm_storeu_si128(dst + 2, _mm_unpacklo_epi16(hi01, hi23));
        _mm_storeu_si128(dst + 3, _mm_unpackhi_epi16(hi01, hi23));
    }
    if (j < n) store_quad_portable(r + j, ld, n - j, k4, q, (uint8_t *)packed + j * k4);
}
#endif

static pack_step_fn store_quad_kernel(void) {
#if FERRY_X86
    if (ferry_has_avx2()) return store_quad_avx2;
#endif
    return store_quad_portable;
}

/* n bytes of B's row as uint8: as is, or int8 shifted by 128. */
static void to_unsigned(const uint8_t *src, int is_signed, size_t n, uint8_t *dst) {
    if (is_signed)
        for (size_t i = 0; i < n; i++) dst[i] = src[i] ^ 0x80;
    else
        memcpy(dst, src, n);
}

/* A convert_row_fn: to_unsigned, the context pointing at the signedness. */
static void unsigned_row(const void *src, size_t n, const void *context, void *dst) {
    to_unsigned(src, *(const int *)context, n, dst);
}

void ferry_qgemm_bytes_pack_b(const void *b, int b_signed, size_t ldb, size_t k, size_t n, void *packed) {
    gemm_pack_b(b, ldb, k, n, 4, 1, unsigned_row, &b_signed, store_quad_kernel(), packed);
}

DEFINE_IM2COL_2D(im2col_bytes_2d_u8, uint8_t, uint8_t, IM2COL_SAME, IM2COL_PAD_ZP)
DEFINE_IM2COL_2D(im2col_bytes_2d_s8, int8_t, uint8_t, IM2COL_SHIFTED, IM2COL_PAD_ZP)
DEFINE_IM2COL_ND(im2col_bytes_nd_u8, uint8_t, uint8_t, IM2COL_SAME, IM2COL_PAD_ZP)
DEFINE_IM2COL_ND(im2col_bytes_nd_s8, int8_t, uint8_t, IM2COL_SHIFTED, IM2COL_PAD_ZP)
DEFINE_IM2COL_ROWS(im2col_bytes_rows_u8, im2col_bytes_2d_u8, im2col_bytes_nd_u8, uint8_t)
DEFINE_IM2COL_ROWS(im2col_bytes_rows_s8, im2col_bytes_2d_s8, im2col_bytes_nd_s8, int8_t)

/* The activations' zero point as it stands in packed B: int8 values are shifted by 128. */
static inline int32_t packed_zero_point(int b_signed, int32_t zero_point) { return b_signed ? zero_point + 128 : zero_point; }

void ferry_qim2col_bytes_packed(const void *x, int x_signed, int32_t zero_point, size_t channels, size_t rank,
                                const size_t *in_shape, const size_t *kernel, const size_t *strides,
                                const size_t *dilations, const size_t *pads_begin, const size_t *out_shape,
                                size_t col_begin, size_t col_end, void *packed, void *row) {
    const struct im2col_geometry g = {x, packed_zero_point(x_signed, zero_point), rank, in_shape, kernel, strides,
                                      dilations, pads_begin, out_shape, col_begin, col_end};
    im2col_pack(&g, channels, 4, 1, x_signed ? im2col_bytes_rows_s8 : im2col_bytes_rows_u8, store_quad_kernel(), row,
                packed);
}

/* What the tiles need besides the operands: the row sums of A and B's zero point (as uint32). */
struct bytes_context {
    const int32_t *row_sums;
    uint32_t zp;
};

/* Where a tile's sums start: on the first K block -z * rowsum, the correction for B's zero point;
 * 0 after. */
static inline void tile_start(const struct gemm_tile *t, const struct bytes_context *ctx, int32_t start[MR]) {
    for (size_t r = 0; r < MR; r++)
        start[r] = t->accumulate ? 0 : (int32_t)(0u - ctx->zp * (uint32_t)ctx->row_sums[t->row + r]);
}

/* Sets the vector tiles' accumulators acc[MR][2], both of a row broadcast (`set1`) from where its
 * sums start. */
#define START_ROWS(acc, set1, t, context)                                                               \
    {                                                                                                   \
        int32_t start_[MR];                                                                             \
        tile_start(t, context, start_);                                                                 \
        for (size_t r_ = 0; r_ < MR; r_++) acc[r_][0] = acc[r_][1] = set1(start_[r_]);                  \
    }

/* One MR x NR tile of C from kc quads of k. */
static void tile_portable(const struct gemm_tile *t, const void *context) {
    const int8_t *ap = t->a;
    const uint8_t *bp = t->b;
    int32_t init[MR];
    tile_start(t, context, init);
    uint32_t acc[MR * NR];
    for (size_t r = 0; r < MR; r++)
        for (size_t j = 0; j < NR; j++) acc[r * NR + j] = (uint32_t)init[r];
    for (size_t q = 0; q < t->kc; q++) {
        for (size_t r = 0; r < MR; r++)
            for (size_t j = 0; j < NR; j++)
                for (size_t u = 0; u < 4; u++) acc[r * NR + j] += (uint32_t)(ap[4 * r + u] * bp[4 * j + u]);
        ap += 4 * MR;
        bp += 4 * NR;
    }
    int32_t tile[MR * NR];
    memcpy(tile, acc, sizeof tile);
    write_tile(tile, t->c, t->ldc, t->mr, t->nr, t->accumulate);
}

#if FERRY_X86
/* acc + the sums of each quad of products of B's uint8 and A's int8 (7-bit) bytes: vpmaddubsw's
 * exact pair sums, added into int32 by vpmaddwd with ones. */
FERRY_AVX2_ATTR __attribute__((always_inline)) static inline __m256i add_quads_7bit(__m256i acc, __m256i b, __m256i a) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(b, a), _mm256_set1_epi16(1)));
}

/* The 256-bit byte tiles' start (tile_start). */
#define ROW_SUM_START(acc, t, context) START_ROWS(acc, _mm256_set1_epi32, t, context)

/* B's 4 uint8 of a column by A's 4 int8 of a row, per quad: vpdpbusd, or (7-bit A on AVX2) the
 * exact vpmaddubsw pair sums widened by vpmaddwd. */
#define DPBUSD_XA(acc, a, x) _mm256_dpbusd_epi32(acc, x, a)
#define MADDUBS_XA(acc, a, x) add_quads_7bit(acc, x, a)

DEFINE_STEP_TILE(tile_vnni, FERRY_VNNI_ATTR, ROW_SUM_START, DPBUSD_XA)
DEFINE_STEP_TILE(tile_avx2_7bit, FERRY_AVX2_ATTR, ROW_SUM_START, MADDUBS_XA)

/* the byte layout's batch-1 products: per quad, x's 4 uint8 by the rows' 4 int8 */
DEFINE_QGEMV(qgemv_bytes_vnni, FERRY_VNNI_ATTR, DPBUSD_XA)
DEFINE_QGEMV(qgemv_bytes_avx2_7bit, FERRY_AVX2_ATTR, MADDUBS_XA)
#endif

void ferry_qgemv_bytes_prepacked(size_t m, size_t k, const void *packed_a, const void *x, int x_signed,
                                 int32_t x_zero_point, size_t row_begin, size_t row_end, int32_t *c, void *scratch) {
    size_t first, end;
    qgemv_panels(m, row_begin, row_end, &first, &end);
    if (first >= end) return;
    const size_t k4 = quad_k(k);
    const int8_t *a = packed_a;
    const int32_t *row_sums = (const int32_t *)((const uint8_t *)packed_a + row_sums_offset(m, k));
    const uint32_t zp = (uint32_t)packed_zero_point(x_signed, x_zero_point);
    /* x as uint8 quads, padded with zeros */
    uint8_t *xu = scratch;
    to_unsigned(x, x_signed, k, xu);
    memset(xu + k, 0, k4 - k);
#if FERRY_X86
    if (ferry_has_vnni()) {
        qgemv_bytes_vnni((const int32_t *)a, k4 / 4, (const int32_t *)xu, first, end, m, row_sums, zp, c);
        return;
    }
    if (avx2_bytes_exact(packed_a, m, k)) {
        qgemv_bytes_avx2_7bit((const int32_t *)a, k4 / 4, (const int32_t *)xu, first, end, m, row_sums, zp, c);
        return;
    }
#endif
    for (size_t p = first; p < end; p++) {
        int32_t lanes[8] = {0};
        for (size_t kk = 0; kk < k4; kk++)
            for (size_t r = 0; r < MR; r++)
                lanes[r] = (int32_t)((uint32_t)lanes[r] + (uint32_t)(a[p * MR * k4 + (kk / 4 * MR + r) * 4 + kk % 4] * xu[kk]));
        qgemv_store(lanes, p, m, row_sums, zp, c);
    }
}

#if FERRY_X86
/* One MR x 2NR tile from two consecutive B panels, on 512-bit registers: a quad of one panel's 16
 * columns is one register, so each row's broadcast quad feeds one vpdpbusd per panel. */
FERRY_VNNI512_ATTR static void tile2_vnni512(const struct gemm_tile *t, const void *context) {
    const int8_t *ap = t->a;
    const uint8_t *bp0 = t->b, *bp1 = t->b_next;
    const size_t kc = t->kc, mr = t->mr, nr = t->nr, ldc = t->ldc;
    const int accumulate = t->accumulate;
    int32_t *c = t->c;
    __m512i acc[MR][2];
    START_ROWS(acc, _mm512_set1_epi32, t, context)
    _Pragma("GCC unroll 2")
    for (size_t q = 0; q < kc; q++) {
        const __m512i b0 = _mm512_loadu_si512((const void *)bp0), b1 = _mm512_loadu_si512((const void *)bp1);
        for (size_t r = 0; r < MR; r++) {
            int32_t quad;
            memcpy(&quad, ap + 4 * r, sizeof quad);
            const __m512i a = _mm512_set1_epi32(quad);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, a);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, a);
        }
        ap += 4 * MR;
        bp0 += 4 * NR;
        bp1 += 4 * NR;
    }
    if (mr == MR && nr == 2 * NR) {
        for (size_t r = 0; r < MR; r++) {
            int32_t *cr = c + r * ldc;
            if (accumulate) {
                _mm512_storeu_si512((void *)cr, _mm512_add_epi32(_mm512_loadu_si512((const void *)cr), acc[r][0]));
                _mm512_storeu_si512((void *)(cr + NR), _mm512_add_epi32(_mm512_loadu_si512((const void *)(cr + NR)), acc[r][1]));
            } else {
                _mm512_storeu_si512((void *)cr, acc[r][0]);
                _mm512_storeu_si512((void *)(cr + NR), acc[r][1]);
            }
        }
        return;
    }
    /* a partial tile: each panel's MR x NR part through the shared write_tile */
    int32_t left[MR * NR] __attribute__((aligned(64))), right[MR * NR] __attribute__((aligned(64)));
    for (size_t r = 0; r < MR; r++) {
        _mm512_store_si512((void *)(left + r * NR), acc[r][0]);
        _mm512_store_si512((void *)(right + r * NR), acc[r][1]);
    }
    write_tile(left, c, ldc, mr, nr < NR ? nr : NR, accumulate);
    if (nr > NR) write_tile(right, c + NR, ldc, mr, nr - NR, accumulate);
}
#endif

void ferry_qgemm_bytes_prepacked(size_t m, size_t n, size_t k, const void *packed_a, const void *packed_b, int b_signed,
                                 int32_t b_zero_point, int32_t *c, size_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(int32_t));
        return;
    }
    gemm_tile_fn tile = tile_portable, wide = NULL;
#if FERRY_X86
    if (ferry_has_vnni()) {
        tile = tile_vnni;
        wide = tile2_vnni512; /* two B panels per tile on 512-bit registers */
    } else if (avx2_bytes_exact(packed_a, m, k)) {
        tile = tile_avx2_7bit;
    }
#endif
    const struct bytes_context context = {
        (const int32_t *)((const uint8_t *)packed_a + row_sums_offset(m, k)),
        (uint32_t)packed_zero_point(b_signed, b_zero_point),
    };
    const size_t k4 = quad_k(k), quads = k4 / 4;
    const struct gemm_operands op = {packed_a, quads, packed_b, k4, 4 * NR, (unsigned char *)c, ldc};
    gemm_blocked(m, n, op, gemm_equal_blocks(quads, m), tile, wide, &context);
}
