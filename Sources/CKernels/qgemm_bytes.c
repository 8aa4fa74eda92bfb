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
 * per panel quad; a batch-1 product runs as a matrix-vector product over the packed A. */
#include "ferry_kernels.h"
#include "cpu.h"
#include "conv_loops.h"
#include "qgemm_tile.h"
#include <string.h>

enum { CHUNK = 256 /* columns of B converted at a time by ferry_qgemm_bytes_pack_b */ };

/* k rounded up to a multiple of 4: the packed depth. */
static inline size_t quad_k(size_t k) { return (k + 3) & ~(size_t)3; }

/* Rows of the packed A, a whole number of panels. */
static inline size_t panel_rows(size_t m) { return (m + MR - 1) / MR * MR; }

/* Where the row sums start in a packed A: after the panels, 64-byte aligned. */
static inline size_t row_sums_offset(size_t m, size_t k) { return (panel_rows(m) * quad_k(k) + 63) / 64 * 64; }

int ferry_qgemm_bytes_available(void) { return ferry_has_vnni(); }

size_t ferry_qgemm_bytes_packed_a_size(size_t m, size_t k) { return row_sums_offset(m, k) + panel_rows(m) * sizeof(int32_t); }

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
}

/* Writes quad q of n columns (rows[t] is k 4q + t, as uint8) into B's panels; the last panel's
 * columns past n get zeros. */
static void store_quad_portable(const uint8_t *const rows[4], size_t n, size_t k4, size_t q, uint8_t *packed) {
    for (size_t j = 0; j < n; j += NR) {
        uint8_t *dst = packed + j * k4 + q * 4 * NR;
        for (size_t c = 0; c < NR; c++)
            for (size_t t = 0; t < 4; t++) dst[4 * c + t] = j + c < n ? rows[t][j + c] : 0;
    }
}

#if FERRY_X86
FERRY_AVX2_ATTR static void store_quad_avx2(const uint8_t *const rows[4], size_t n, size_t k4, size_t q, uint8_t *packed) {
    size_t j = 0;
    for (; j + NR <= n; j += NR) {
        const __m128i r0 = _mm_loadu_si128((const __m128i *)(rows[0] + j)), r1 = _mm_loadu_si128((const __m128i *)(rows[1] + j));
        const __m128i r2 = _mm_loadu_si128((const __m128i *)(rows[2] + j)), r3 = _mm_loadu_si128((const __m128i *)(rows[3] + j));
        /* byte pairs (k 4q, 4q + 1) and (4q + 2, 4q + 3) of columns 0-7 and 8-15, then the quads */
        const __m128i lo01 = _mm_unpacklo_epi8(r0, r1), hi01 = _mm_unpackhi_epi8(r0, r1);
        const __m128i lo23 = _mm_unpacklo_epi8(r2, r3), hi23 = _mm_unpackhi_epi8(r2, r3);
        __m128i *dst = (__m128i *)(packed + j * k4 + q * 4 * NR);
        _mm_storeu_si128(dst, _mm_unpacklo_epi16(lo01, lo23));
        _mm_storeu_si128(dst + 1, _mm_unpackhi_epi16(lo01, lo23));
        _mm_storeu_si128(dst + 2, _mm_unpacklo_epi16(hi01, hi23));
        _mm_storeu_si128(dst + 3, _mm_unpackhi_epi16(hi01, hi23));
    }
    if (j < n) {
        const uint8_t *const tail[4] = {rows[0] + j, rows[1] + j, rows[2] + j, rows[3] + j};
        store_quad_portable(tail, n - j, k4, q, packed + j * k4);
    }
}
#endif

typedef void (*store_quad_fn)(const uint8_t *const[4], size_t, size_t, size_t, uint8_t *);

static store_quad_fn store_quad_kernel(void) {
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

void ferry_qgemm_bytes_pack_b(const void *b, int b_signed, size_t ldb, size_t k, size_t n, void *packed) {
    const size_t k4 = quad_k(k);
    const store_quad_fn store = store_quad_kernel();
    uint8_t scratch[4][CHUNK];
    const uint8_t *const rows[4] = {scratch[0], scratch[1], scratch[2], scratch[3]};
    for (size_t j0 = 0; j0 < n; j0 += CHUNK) {
        const size_t nc = n - j0 < CHUNK ? n - j0 : CHUNK;
        for (size_t q = 0; q < k4 / 4; q++) {
            for (size_t t = 0; t < 4; t++) {
                if (4 * q + t < k) to_unsigned((const uint8_t *)b + (4 * q + t) * ldb + j0, b_signed, nc, scratch[t]);
                else memset(scratch[t], 0, nc);
            }
            store(rows, nc, k4, q, (uint8_t *)packed + j0 * k4);
        }
    }
}

DEFINE_IM2COL_2D(im2col_bytes_2d_u8, uint8_t, uint8_t, IM2COL_SAME, IM2COL_PAD_ZP)
DEFINE_IM2COL_2D(im2col_bytes_2d_s8, int8_t, uint8_t, IM2COL_SHIFTED, IM2COL_PAD_ZP)
DEFINE_IM2COL_ND(im2col_bytes_nd_u8, uint8_t, uint8_t, IM2COL_SAME, IM2COL_PAD_ZP)
DEFINE_IM2COL_ND(im2col_bytes_nd_s8, int8_t, uint8_t, IM2COL_SHIFTED, IM2COL_PAD_ZP)

/* The activations' zero point as it stands in packed B: int8 values are shifted by 128. */
static inline int32_t packed_zero_point(int b_signed, int32_t zero_point) { return b_signed ? zero_point + 128 : zero_point; }

void ferry_qim2col_bytes_packed(const void *x, int x_signed, int32_t zero_point, size_t channels, size_t rank,
                                const size_t *in_shape, const size_t *kernel, const size_t *strides,
                                const size_t *dilations, const size_t *pads_begin, const size_t *out_shape,
                                size_t col_begin, size_t col_end, void *packed, void *row) {
    size_t ksize = 1;
    for (size_t d = 0; d < rank; d++) ksize *= kernel[d];
    const size_t k = channels * ksize, k4 = quad_k(k), n = col_end - col_begin;
    const int32_t zp = packed_zero_point(x_signed, zero_point);
    const store_quad_fn store = store_quad_kernel();
    uint8_t *r0 = row;
    const uint8_t *const rows[4] = {r0, r0 + n, r0 + 2 * n, r0 + 3 * n};
    for (size_t q = 0; q < k4 / 4; q++) {
        const size_t rb = 4 * q, re = rb + 4 < k ? rb + 4 : k;
        if (re - rb < 4) memset(r0 + (re - rb) * n, 0, (4 - (re - rb)) * n);
        if (rank == 2) {
            if (x_signed)
                im2col_bytes_2d_s8(x, in_shape[0], in_shape[1], kernel[0], kernel[1], strides[0], strides[1], dilations[0],
                                   dilations[1], pads_begin[0], pads_begin[1], out_shape[1], col_begin, col_end, rb, re, zp, r0);
            else
                im2col_bytes_2d_u8(x, in_shape[0], in_shape[1], kernel[0], kernel[1], strides[0], strides[1], dilations[0],
                                   dilations[1], pads_begin[0], pads_begin[1], out_shape[1], col_begin, col_end, rb, re, zp, r0);
        } else if (x_signed) {
            im2col_bytes_nd_s8(x, rank, in_shape, kernel, strides, dilations, pads_begin, out_shape, col_begin, col_end, rb,
                               re, zp, r0);
        } else {
            im2col_bytes_nd_u8(x, rank, in_shape, kernel, strides, dilations, pads_begin, out_shape, col_begin, col_end, rb,
                               re, zp, r0);
        }
        store(rows, n, k4, q, packed);
    }
}

/* One MR x NR tile of C from kc quads of k, row r's sums starting at init[r]. */
static void tile_portable(size_t kc, const int8_t *ap, const uint8_t *bp, const int32_t *init, int32_t *c, size_t ldc,
                          size_t mr, size_t nr, int accumulate) {
    uint32_t acc[MR * NR];
    for (size_t r = 0; r < MR; r++)
        for (size_t j = 0; j < NR; j++) acc[r * NR + j] = (uint32_t)init[r];
    for (size_t q = 0; q < kc; q++) {
        for (size_t r = 0; r < MR; r++)
            for (size_t j = 0; j < NR; j++)
                for (size_t t = 0; t < 4; t++) acc[r * NR + j] += (uint32_t)(ap[4 * r + t] * bp[4 * j + t]);
        ap += 4 * MR;
        bp += 4 * NR;
    }
    int32_t tile[MR * NR];
    memcpy(tile, acc, sizeof tile);
    write_tile(tile, c, ldc, mr, nr, accumulate);
}

#if FERRY_X86
#define BYTES_ROW(r)                                                                                    \
    memcpy(&quad, ap + 4 * (r), sizeof quad);                                                           \
    a = _mm256_set1_epi32(quad);                                                                        \
    acc[r][0] = _mm256_dpbusd_epi32(acc[r][0], b0, a);                                                  \
    acc[r][1] = _mm256_dpbusd_epi32(acc[r][1], b1, a);

FERRY_VNNI_ATTR static void tile_vnni(size_t kc, const int8_t *ap, const uint8_t *bp, const int32_t *init, int32_t *c,
                                      size_t ldc, size_t mr, size_t nr, int accumulate) {
    __m256i acc[MR][2];
    for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_set1_epi32(init[r]);
    _Pragma("GCC unroll 4")
    for (size_t q = 0; q < kc; q++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)bp), b1 = _mm256_loadu_si256((const __m256i *)(bp + 32));
        __m256i a;
        int32_t quad;
        BYTES_ROW(0) BYTES_ROW(1) BYTES_ROW(2) BYTES_ROW(3) BYTES_ROW(4) BYTES_ROW(5)
        ap += 4 * MR;
        bp += 4 * NR;
    }
    store_tile(acc, c, ldc, mr, nr, accumulate);
}
#endif

#if FERRY_X86
/* the byte layout: per quad, vpdpbusd of x's 4 uint8 by the rows' 4 int8 */
#define DPBUSD_XA(acc, a, x) _mm256_dpbusd_epi32(acc, x, a)
DEFINE_QGEMV(qgemv_bytes_vnni, FERRY_VNNI_ATTR, DPBUSD_XA)
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
FERRY_VNNI512_ATTR static void tile2_vnni512(size_t kc, const int8_t *ap, const uint8_t *bp0, const uint8_t *bp1,
                                             const int32_t *init, int32_t *c, size_t ldc, size_t mr, size_t nr,
                                             int accumulate) {
    __m512i acc[MR][2];
    for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_set1_epi32(init[r]);
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
    void (*tile)(size_t, const int8_t *, const uint8_t *, const int32_t *, int32_t *, size_t, size_t, size_t, int) = tile_portable;
    const int wide = ferry_has_vnni(); /* two B panels per tile on 512-bit registers */
#if FERRY_X86
    if (wide) tile = tile_vnni;
#endif
    const int8_t *a = packed_a;
    const uint8_t *b = packed_b;
    const int32_t *row_sums = (const int32_t *)((const uint8_t *)packed_a + row_sums_offset(m, k));
    const uint32_t zp = (uint32_t)packed_zero_point(b_signed, b_zero_point);
    const size_t k4 = quad_k(k), quads = k4 / 4;
    const size_t kblock = qgemm_k_block(quads), mblock = qgemm_m_block(m);
    for (size_t q0 = 0; q0 < quads; q0 += kblock) {
        const size_t kc = quads - q0 < kblock ? quads - q0 : kblock;
        const int acc = q0 > 0;
        for (size_t m0 = 0; m0 < m; m0 += mblock) {
            const size_t mc = m - m0 < mblock ? m - m0 : mblock;
            for (size_t j = 0; j < n;) {
                /* two panels at a time on 512-bit registers when there is a second one */
                const int pair = wide && n - j > NR;
                const size_t width = pair ? 2 * NR : NR, nr = n - j < width ? n - j : width;
                const uint8_t *bp = b + j * k4 + q0 * 4 * NR;
                for (size_t i = m0; i < m0 + mc; i += MR) {
                    const size_t mr = m - i < MR ? m - i : MR;
                    /* the first K block starts from -z * rowsum, the correction for B's zero point */
                    int32_t start[MR] = {0};
                    if (!acc)
                        for (size_t r = 0; r < MR; r++) start[r] = (int32_t)(0u - zp * (uint32_t)row_sums[i + r]);
#if FERRY_X86
                    if (pair) {
                        tile2_vnni512(kc, a + i * k4 + q0 * 4 * MR, bp, bp + NR * k4, start, c + i * ldc + j, ldc, mr, nr, acc);
                        continue;
                    }
#endif
                    tile(kc, a + i * k4 + q0 * 4 * MR, bp, start, c + i * ldc + j, ldc, mr, nr, acc);
                }
                j += width;
            }
        }
    }
}
