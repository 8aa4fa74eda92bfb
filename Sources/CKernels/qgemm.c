/* Ferry's exact int8 kernels (see ferry_kernels.h): an integer GEMM with the structure of the float
 * one in sgemm.c (A in 6-row panels, B in 16-column panels, a 6x16 register tile, K blocked by up to
 * 256 pairs and M by up to 120, in blocks of equal size), im2col straight into B's packed layout, the
 * output passes that turn int32 sums into int8/uint8 or float, and a depthwise convolution.
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
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 256 /* columns of B widened to int16 at a time by ferry_qgemm_pack_b */ };

/* k rounded up to even: the packed depth. */
static inline size_t even_k(size_t k) { return (k + 1) & ~(size_t)1; }

/* Element i of an int8 (is_signed) or uint8 array. */
static inline int32_t q_at(const void *p, int is_signed, size_t i) {
    return is_signed ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

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

/* Writes k pair q of n columns (rows r0 = k 2q and r1 = k 2q + 1, both int16) into B's panels;
 * the last panel's columns past n get zeros. */
static void store_pair_portable(const int16_t *r0, const int16_t *r1, size_t n, size_t k2, size_t q, int16_t *packed) {
    for (size_t j = 0; j < n; j += NR) {
        int16_t *dst = packed + j * k2 + q * 2 * NR;
        for (size_t c = 0; c < NR; c++) {
            dst[2 * c] = j + c < n ? r0[j + c] : 0;
            dst[2 * c + 1] = j + c < n ? r1[j + c] : 0;
        }
    }
}

#if FERRY_X86
FERRY_AVX2_ATTR static void store_pair_avx2(const int16_t *r0, const int16_t *r1, size_t n, size_t k2, size_t q,
                                            int16_t *packed) {
    size_t j = 0;
    for (; j + NR <= n; j += NR) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(r0 + j)), b = _mm256_loadu_si256((const __m256i *)(r1 + j));
        /* unpack works within 128-bit lanes: lo holds columns 0-3 and 8-11, hi 4-7 and 12-15 */
        const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
        int16_t *dst = packed + j * k2 + q * 2 * NR;
        _mm256_storeu_si256((__m256i *)dst, _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(dst + NR), _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    if (j < n) store_pair_portable(r0 + j, r1 + j, n - j, k2, q, packed + j * k2);
}
#endif

typedef void (*store_pair_fn)(const int16_t *, const int16_t *, size_t, size_t, size_t, int16_t *);

static store_pair_fn store_pair_kernel(void) {
#if FERRY_X86
    if (ferry_has_avx2()) return store_pair_avx2;
#endif
    return store_pair_portable;
}

/* dst[i] = src[i] - zero_point for n elements of an int8 or uint8 array. */
static void widen(const void *src, int is_signed, size_t n, int32_t zero_point, int16_t *dst) {
    if (is_signed)
        for (size_t i = 0; i < n; i++) dst[i] = (int16_t)(((const int8_t *)src)[i] - zero_point);
    else
        for (size_t i = 0; i < n; i++) dst[i] = (int16_t)(((const uint8_t *)src)[i] - zero_point);
}

void ferry_qgemm_pack_b(const void *b, int b_signed, size_t ldb, size_t k, size_t n, int32_t zero_point, void *packed) {
    const size_t k2 = even_k(k);
    const store_pair_fn store = store_pair_kernel();
    int16_t rows[2][CHUNK];
    for (size_t j0 = 0; j0 < n; j0 += CHUNK) {
        const size_t nc = n - j0 < CHUNK ? n - j0 : CHUNK;
        for (size_t q = 0; q < k2 / 2; q++) {
            widen((const uint8_t *)b + 2 * q * ldb + j0, b_signed, nc, zero_point, rows[0]);
            if (2 * q + 1 < k) widen((const uint8_t *)b + (2 * q + 1) * ldb + j0, b_signed, nc, zero_point, rows[1]);
            else memset(rows[1], 0, nc * sizeof(int16_t));
            store(rows[0], rows[1], nc, k2, q, (int16_t *)packed + j0 * k2);
        }
    }
}

DEFINE_IM2COL_2D(im2col_2d_u8, uint8_t, int16_t, IM2COL_CENTRED, IM2COL_PAD_ZERO)
DEFINE_IM2COL_2D(im2col_2d_s8, int8_t, int16_t, IM2COL_CENTRED, IM2COL_PAD_ZERO)
DEFINE_IM2COL_ND(im2col_nd_u8, uint8_t, int16_t, IM2COL_CENTRED, IM2COL_PAD_ZERO)
DEFINE_IM2COL_ND(im2col_nd_s8, int8_t, int16_t, IM2COL_CENTRED, IM2COL_PAD_ZERO)

void ferry_qim2col_packed(const void *x, int x_signed, int32_t zero_point, size_t channels, size_t rank,
                          const size_t *in_shape, const size_t *kernel, const size_t *strides,
                          const size_t *dilations, const size_t *pads_begin, const size_t *out_shape,
                          size_t col_begin, size_t col_end, void *packed, void *row) {
    size_t ksize = 1;
    for (size_t d = 0; d < rank; d++) ksize *= kernel[d];
    const size_t k = channels * ksize, k2 = even_k(k), n = col_end - col_begin;
    const store_pair_fn store = store_pair_kernel();
    int16_t *r0 = row, *r1 = r0 + n;
    for (size_t q = 0; q < k2 / 2; q++) {
        const size_t rb = 2 * q, re = rb + 2 < k ? rb + 2 : k;
        if (re - rb == 1) memset(r1, 0, n * sizeof(int16_t));
        if (rank == 2) {
            if (x_signed)
                im2col_2d_s8(x, in_shape[0], in_shape[1], kernel[0], kernel[1], strides[0], strides[1], dilations[0],
                             dilations[1], pads_begin[0], pads_begin[1], out_shape[1], col_begin, col_end, rb, re, zero_point, r0);
            else
                im2col_2d_u8(x, in_shape[0], in_shape[1], kernel[0], kernel[1], strides[0], strides[1], dilations[0],
                             dilations[1], pads_begin[0], pads_begin[1], out_shape[1], col_begin, col_end, rb, re, zero_point, r0);
        } else if (x_signed) {
            im2col_nd_s8(x, rank, in_shape, kernel, strides, dilations, pads_begin, out_shape, col_begin, col_end, rb, re,
                         zero_point, r0);
        } else {
            im2col_nd_u8(x, rank, in_shape, kernel, strides, dilations, pads_begin, out_shape, col_begin, col_end, rb, re,
                         zero_point, r0);
        }
        store(r0, r1, n, k2, q, packed);
    }
}

/* One MR x NR tile of C from kc pairs of k. */
static void tile_portable(size_t kc, const int16_t *ap, const int16_t *bp, int32_t *c, size_t ldc, size_t mr, size_t nr,
                          int accumulate) {
    uint32_t acc[MR * NR];
    memset(acc, 0, sizeof acc);
    for (size_t q = 0; q < kc; q++) {
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
    write_tile(tile, c, ldc, mr, nr, accumulate);
}

#if FERRY_X86
/* (a[k], a[k + 1]) of one row, broadcast to the 8 int32 lanes. */
FERRY_AVX2_ATTR static inline __m256i broadcast_pair(const int16_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* The 6x16 tile, once with AVX2 (vpmaddwd then vpaddd) and once with AVX-512 VNNI on 256-bit
 * registers (vpdpwssd: the same sums in one instruction, which frees the issue slots the adds took). */
#define MADD_ADD(acc, a, b) _mm256_add_epi32(acc, _mm256_madd_epi16(a, b))
#define DPWSSD(acc, a, b) _mm256_dpwssd_epi32(acc, a, b)
#define QTILE_ROW(r, ACC)                                                                               \
    a = broadcast_pair(ap + 2 * (r));                                                                   \
    acc[r][0] = ACC(acc[r][0], a, b0);                                                                  \
    acc[r][1] = ACC(acc[r][1], a, b1);
#define DEFINE_QTILE(NAME, ATTR, ACC)                                                                   \
    ATTR static void NAME(size_t kc, const int16_t *ap, const int16_t *bp, int32_t *c, size_t ldc, size_t mr, \
                          size_t nr, int accumulate) {                                                  \
        __m256i acc[MR][2];                                                                             \
        for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();                \
        _Pragma("GCC unroll 4")                                                                         \
        for (size_t q = 0; q < kc; q++) {                                                               \
            const __m256i b0 = _mm256_loadu_si256((const __m256i *)bp);                                 \
            const __m256i b1 = _mm256_loadu_si256((const __m256i *)(bp + NR));                          \
            __m256i a;                                                                                  \
            QTILE_ROW(0, ACC) QTILE_ROW(1, ACC) QTILE_ROW(2, ACC)                                       \
            QTILE_ROW(3, ACC) QTILE_ROW(4, ACC) QTILE_ROW(5, ACC)                                       \
            ap += 2 * MR;                                                                               \
            bp += 2 * NR;                                                                               \
        }                                                                                               \
        store_tile(acc, c, ldc, mr, nr, accumulate);                                                    \
    }

DEFINE_QTILE(tile_avx2, FERRY_AVX2_ATTR, MADD_ADD)
DEFINE_QTILE(tile_vnni, FERRY_VNNI_ATTR, DPWSSD)
#endif

void ferry_qgemm_prepacked(size_t m, size_t n, size_t k, const void *packed_a, const void *packed_b,
                           int32_t *c, size_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(int32_t));
        return;
    }
    void (*tile)(size_t, const int16_t *, const int16_t *, int32_t *, size_t, size_t, size_t, int) = tile_portable;
#if FERRY_X86
    if (ferry_has_vnni()) tile = tile_vnni;
    else if (ferry_has_avx2()) tile = tile_avx2;
#endif
    const int16_t *a = packed_a, *b = packed_b;
    const size_t k2 = even_k(k), pairs = k2 / 2;
    const size_t kblock = qgemm_k_block(pairs), mblock = qgemm_m_block(m);
    for (size_t q0 = 0; q0 < pairs; q0 += kblock) {
        const size_t kc = pairs - q0 < kblock ? pairs - q0 : kblock;
        const int acc = q0 > 0;
        for (size_t m0 = 0; m0 < m; m0 += mblock) {
            const size_t mc = m - m0 < mblock ? m - m0 : mblock;
            for (size_t j = 0; j < n; j += NR) {
                const size_t nr = n - j < NR ? n - j : NR;
                const int16_t *bp = b + j * k2 + q0 * 2 * NR;
                for (size_t i = m0; i < m0 + mc; i += MR) {
                    const size_t mr = m - i < MR ? m - i : MR;
                    tile(kc, a + i * k2 + q0 * 2 * MR, bp, c + i * ldc + j, ldc, mr, nr, acc);
                }
            }
        }
    }
}

/* c + bias modulo 2^32, as vpaddd computes it. */
static inline int32_t add_bias(int32_t c, int32_t bias) { return (int32_t)((uint32_t)c + (uint32_t)bias); }

/* v clamped to [lo, hi] = [qmin, qmax] - zero_point in float (before rounding, as onnxruntime does,
 * so huge values cannot overflow the conversion; NaN gives lo), rounded half to even, shifted by the
 * zero point: the last step of every quantizing output below. */
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
                             const float *scale, int act, float a, float b, float *y, size_t ldy) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t bv = bias ? bias[r] : 0;
        for (size_t p = 0; p < cols; p++) y[r * ldy + p] = (float)add_bias(c[r * ldc + p], bv);
    }
    /* y * scale + 0 is y * scale exactly, with or without a fused multiply-add */
    ferry_scale_bias_act(y, rows, cols, ldy, scale, NULL, act, a, b);
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

/* One value quantized: the quotient, clamped and rounded. */
static inline int32_t quantize_one(float x, float scale, float lo, float hi, int32_t zero_point) {
    return round_clamped(x / scale, lo, hi, zero_point);
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
            ferry_dequantize_output(c + r * ldc + p, ldc, 1, n, bias ? bias + r : NULL, scale + r, act, a, b, t, n);
            ferry_quantize_floats(t, n, out_scale, zero_point, qmin, qmax, out_signed, (int8_t *)y + r * ldy + p);
        }
}

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

/* Depthwise: every tap of the filter sweeps the output columns it reaches (window_columns), so the
 * inner loops have no bounds checks and vectorise; padded taps are skipped (they add 0). */
#define DEFINE_QDEPTHWISE(NAME, ATTR, XT)                                                               \
    ATTR static void NAME(const XT *x, int32_t xz, const void *w, int w_signed, const int32_t *wz,     \
                          int32_t *acc, size_t cb, size_t ce, size_t h, size_t wd, size_t kh, size_t kw, \
                          size_t sh, size_t sw, size_t dh, size_t dw, size_t pt, size_t pl, size_t oh,   \
                          size_t ow) {                                                                  \
        for (size_t c = cb; c < ce; c++) {                                                              \
            const XT *img = x + c * h * wd;                                                             \
            uint32_t *out = (uint32_t *)acc + c * oh * ow;                                              \
            const int32_t fz = wz ? wz[c] : 0;                                                          \
            for (size_t oy = 0; oy < oh; oy++) {                                                        \
                uint32_t *orow = out + oy * ow;                                                         \
                memset(orow, 0, ow * sizeof(uint32_t));                                                 \
                for (size_t ki = 0; ki < kh; ki++) {                                                    \
                    const ptrdiff_t iy = (ptrdiff_t)(oy * sh + ki * dh) - (ptrdiff_t)pt;                \
                    if (iy < 0 || iy >= (ptrdiff_t)h) continue;                                         \
                    const XT *irow = img + (size_t)iy * wd;                                             \
                    for (size_t kj = 0; kj < kw; kj++) {                                                \
                        const int32_t fv = q_at(w, w_signed, (c * kh + ki) * kw + kj) - fz;             \
                        const ptrdiff_t off = (ptrdiff_t)(kj * dw) - (ptrdiff_t)pl;                     \
                        size_t lo, hi;                                                                  \
                        window_columns(off, sw, wd, ow, &lo, &hi);                                      \
                        const XT *src = irow + off;                                                     \
                        if (sw == 1)                                                                    \
                            for (size_t ox = lo; ox < hi; ox++) orow[ox] += (uint32_t)(fv * (src[ox] - xz)); \
                        else if (sw == 2)                                                               \
                            for (size_t ox = lo; ox < hi; ox++) orow[ox] += (uint32_t)(fv * (src[2 * ox] - xz)); \
                        else                                                                            \
                            for (size_t ox = lo; ox < hi; ox++) orow[ox] += (uint32_t)(fv * (src[ox * sw] - xz)); \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

DEFINE_QDEPTHWISE(qdw_u8_portable, , uint8_t)
DEFINE_QDEPTHWISE(qdw_s8_portable, , int8_t)
#if FERRY_X86
DEFINE_QDEPTHWISE(qdw_u8_avx2, FERRY_AVX2_ATTR, uint8_t)
DEFINE_QDEPTHWISE(qdw_s8_avx2, FERRY_AVX2_ATTR, int8_t)
#endif

#if FERRY_X86
/* Depthwise, filters up to 7x7, horizontal stride 1 or 2, any vertical stride, dilation 1. Per
 * channel, the image centred on its zero point and padded with zeros is laid out as int16 pairs of
 * vertically adjacent pixels, (v[t][x], v[t + 1][x]), so one multiply-add of a pair by
 * (w[ki][kj], w[ki + 1][kj]) takes two filter rows' taps (an odd last row pairs with 0): for a 3x3
 * filter 6 multiply-adds per 8 outputs, for 5x5 15, with no bounds checks and no shuffles. Pairs
 * made only of padding rows are neither built nor read. For stride 2 the pairs of even and odd
 * columns are stored apart, so every tap still reads consecutive pairs. */
#define QDW_MAX_KERNEL 7

/* Pairs per row of the pair layout: every output block of 32 plus the filter's reach, for stride 2
 * the even and odd columns' halves each that wide. */
static size_t qdw_row_pairs(size_t kw, size_t sw, size_t ow) {
    const size_t ow32 = (ow + 31) / 32 * 32;
    return sw == 1 ? ow32 + kw - 1 : 2 * (ow32 + (kw - 1) / 2);
}

/* int16 values of scratch the kernel needs: one row of pairs per padded row, and two centred rows. */
static size_t qdw_scratch(size_t kh, size_t kw, size_t sh, size_t sw, size_t oh, size_t ow) {
    const size_t width = qdw_row_pairs(kw, sw, ow);
    return ((oh - 1) * sh + kh) * width * 2 + 2 * width;
}

/* Row t of the padded image (input row t - pt), centred, width columns from input column -pl. */
static void centred_row(const void *x, int x_signed, int32_t xz, size_t h, size_t wd, size_t t, size_t pt, size_t pl,
                        size_t width, int16_t *dst) {
    if (t < pt || t - pt >= h || pl >= width) {
        memset(dst, 0, width * sizeof(int16_t));
        return;
    }
    const size_t count = wd < width - pl ? wd : width - pl;
    memset(dst, 0, pl * sizeof(int16_t));
    widen((const uint8_t *)x + (t - pt) * wd, x_signed, count, xz, dst + pl);
    memset(dst + pl + count, 0, (width - pl - count) * sizeof(int16_t));
}

/* The pairs (upper[q], lower[q]) of two centred rows of width pairs: in column order for stride 1,
 * even columns then odd ones for stride 2. */
FERRY_AVX2_ATTR __attribute__((always_inline)) static inline void pair_rows(const int16_t *upper, const int16_t *lower,
                                                                            size_t sw, size_t width, int16_t *dst) {
    const size_t half = width / 2;
    const __m256i evens_odds = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    size_t q = 0;
    for (; q + 16 <= width; q += 16) {
        const __m256i u = _mm256_loadu_si256((const __m256i *)(upper + q)), l = _mm256_loadu_si256((const __m256i *)(lower + q));
        const __m256i lo = _mm256_unpacklo_epi16(u, l), hi = _mm256_unpackhi_epi16(u, l);
        __m256i p0 = _mm256_permute2x128_si256(lo, hi, 0x20), p1 = _mm256_permute2x128_si256(lo, hi, 0x31);
        if (sw == 1) {
            _mm256_storeu_si256((__m256i *)(dst + 2 * q), p0);
            _mm256_storeu_si256((__m256i *)(dst + 2 * q + 16), p1);
        } else {
            p0 = _mm256_permutevar8x32_epi32(p0, evens_odds);
            p1 = _mm256_permutevar8x32_epi32(p1, evens_odds);
            _mm256_storeu_si256((__m256i *)(dst + q), _mm256_permute2x128_si256(p0, p1, 0x20));
            _mm256_storeu_si256((__m256i *)(dst + 2 * half + q), _mm256_permute2x128_si256(p0, p1, 0x31));
        }
    }
    for (; q < width; q++) {
        int16_t *d = sw == 1 ? dst + 2 * q : dst + 2 * (q % 2 * half + q / 2);
        d[0] = upper[q];
        d[1] = lower[q];
    }
}

/* Whether padded row t holds input (rows pt .. pt + h - 1 do). */
static inline int qdw_inside(size_t t, size_t pt, size_t h) { return t >= pt && t - pt < h; }

/* V vectors (8 outputs each) of output row orow from column ox: the sums over the active pair rows
 * and the filter columns, stored (the part before ow only). */
#define QDW_BLOCK(ACC, V)                                                                               \
    {                                                                                                   \
        __m256i a[V], b[V];                                                                             \
        for (int v = 0; v < V; v++) a[v] = b[v] = _mm256_setzero_si256();                               \
        for (size_t i = 0; i < na; i++) {                                                               \
            const size_t p = active[i];                                                                 \
            const int16_t *row = rows0 + 2 * p * rs * 2 + 2 * ox;                                       \
            size_t kj = 0;                                                                              \
            for (; kj + 2 <= kw; kj += 2) {                                                             \
                const __m256i *u = (const __m256i *)(row + 2 * off[kj]);                                \
                const __m256i *t = (const __m256i *)(row + 2 * off[kj + 1]);                            \
                for (int v = 0; v < V; v++) a[v] = ACC(a[v], _mm256_loadu_si256(u + v), wp[p][kj]);    \
                for (int v = 0; v < V; v++) b[v] = ACC(b[v], _mm256_loadu_si256(t + v), wp[p][kj + 1]); \
            }                                                                                           \
            if (kj < kw) {                                                                              \
                const __m256i *u = (const __m256i *)(row + 2 * off[kj]);                                \
                for (int v = 0; v < V; v++) a[v] = ACC(a[v], _mm256_loadu_si256(u + v), wp[p][kj]);    \
            }                                                                                           \
        }                                                                                               \
        if (ow - ox >= 8 * V) {                                                                         \
            for (int v = 0; v < V; v++) _mm256_storeu_si256((__m256i *)(orow + ox + 8 * v), _mm256_add_epi32(a[v], b[v])); \
        } else {                                                                                        \
            int32_t part[8 * V] __attribute__((aligned(32)));                                           \
            for (int v = 0; v < V; v++) _mm256_store_si256((__m256i *)(part + 8 * v), _mm256_add_epi32(a[v], b[v])); \
            memcpy(orow + ox, part, (ow - ox) * sizeof(int32_t));                                       \
        }                                                                                               \
    }

/* Accumulators alternate between two sets by tap so that multiply-adds with a built-in add (VNNI)
 * do not wait on each other. */
#define DEFINE_QDW_PAIRS(NAME, ATTR, ACC)                                                               \
    ATTR static void NAME(const void *x, int x_signed, int32_t xz, const void *w, int w_signed,        \
                          const int32_t *wz, int32_t *acc, size_t cb, size_t ce, size_t h, size_t wd,    \
                          size_t kh, size_t kw, size_t sh, size_t sw, size_t pt, size_t pl, size_t oh,   \
                          size_t ow, int16_t *pairs) {                                                  \
        const size_t rs = qdw_row_pairs(kw, sw, ow), rows = (oh - 1) * sh + kh, np = (kh + 1) / 2;      \
        int16_t *upper = pairs + rows * rs * 2, *lower = upper + rs;                                    \
        /* where tap kj of output column 0 reads, in pairs from the row start */                       \
        size_t off[QDW_MAX_KERNEL];                                                                     \
        for (size_t kj = 0; kj < kw; kj++) off[kj] = sw == 1 ? kj : kj % 2 * (rs / 2) + kj / 2;         \
        /* pair rows holding input: t from first to last */                                            \
        const size_t first = pt > 0 ? pt - 1 : 0, last = pt + h - 1 < rows - 1 ? pt + h - 1 : rows - 1; \
        for (size_t c = cb; c < ce; c++) {                                                              \
            const uint8_t *img = (const uint8_t *)x + c * h * wd;                                       \
            centred_row(img, x_signed, xz, h, wd, first, pt, pl, rs, lower);                            \
            for (size_t t = first; t <= last; t++) {                                                    \
                int16_t *tmp = upper; upper = lower; lower = tmp;                                       \
                centred_row(img, x_signed, xz, h, wd, t + 1, pt, pl, rs, lower);                        \
                pair_rows(upper, lower, sw, rs, pairs + t * rs * 2);                                    \
            }                                                                                           \
            const int32_t fz = wz ? wz[c] : 0;                                                          \
            __m256i wp[(QDW_MAX_KERNEL + 1) / 2][QDW_MAX_KERNEL];                                       \
            for (size_t p = 0; p < np; p++)                                                             \
                for (size_t kj = 0; kj < kw; kj++) {                                                    \
                    const int32_t f0 = q_at(w, w_signed, (c * kh + 2 * p) * kw + kj) - fz;              \
                    const int32_t f1 = 2 * p + 1 < kh ? q_at(w, w_signed, (c * kh + 2 * p + 1) * kw + kj) - fz : 0; \
                    wp[p][kj] = _mm256_set1_epi32((int32_t)(((uint32_t)f1 << 16) | ((uint32_t)f0 & 0xFFFF))); \
                }                                                                                       \
            for (size_t oy = 0; oy < oh; oy++) {                                                        \
                size_t active[(QDW_MAX_KERNEL + 1) / 2], na = 0;                                        \
                for (size_t p = 0; p < np; p++) {                                                       \
                    const size_t t = oy * sh + 2 * p;                                                   \
                    if (qdw_inside(t, pt, h) || (2 * p + 1 < kh && qdw_inside(t + 1, pt, h))) active[na++] = p; \
                }                                                                                       \
                int32_t *orow = acc + (c * oh + oy) * ow;                                               \
                const int16_t *rows0 = pairs + oy * sh * rs * 2;                                        \
                size_t ox = 0;                                                                          \
                for (; ox + 16 < ow; ox += 32) QDW_BLOCK(ACC, 4)                                        \
                for (; ox < ow; ox += 16) QDW_BLOCK(ACC, 2)                                             \
            }                                                                                           \
        }                                                                                               \
    }

DEFINE_QDW_PAIRS(qdw_pairs_avx2, FERRY_AVX2_ATTR, MADD_ADD)
DEFINE_QDW_PAIRS(qdw_pairs_vnni, FERRY_VNNI_ATTR, DPWSSD)
#endif

void ferry_qdepthwise_2d(const void *x, int x_signed, int32_t x_zero_point, const void *w, int w_signed,
                         const int32_t *w_zero_points, int32_t *acc, size_t c_begin, size_t c_end,
                         size_t h, size_t wd, size_t kh, size_t kw, size_t stride_h, size_t stride_w,
                         size_t dil_h, size_t dil_w, size_t pad_top, size_t pad_left, size_t oh, size_t ow) {
#if FERRY_X86
    if (ferry_has_avx2() && kh <= QDW_MAX_KERNEL && kw <= QDW_MAX_KERNEL && dil_h == 1 && dil_w == 1 &&
        stride_h >= 1 && (stride_w == 1 || stride_w == 2) && oh > 0 && ow > 0) {
        int16_t *pairs = malloc(qdw_scratch(kh, kw, stride_h, stride_w, oh, ow) * sizeof(int16_t));
        if (pairs) {
            (ferry_has_vnni() ? qdw_pairs_vnni : qdw_pairs_avx2)(x, x_signed, x_zero_point, w, w_signed, w_zero_points,
                                                                  acc, c_begin, c_end, h, wd, kh, kw, stride_h, stride_w,
                                                                  pad_top, pad_left, oh, ow, pairs);
            free(pairs);
            return;
        }
    }
    if (ferry_has_avx2()) {
        if (x_signed)
            qdw_s8_avx2(x, x_zero_point, w, w_signed, w_zero_points, acc, c_begin, c_end, h, wd, kh, kw, stride_h,
                        stride_w, dil_h, dil_w, pad_top, pad_left, oh, ow);
        else
            qdw_u8_avx2(x, x_zero_point, w, w_signed, w_zero_points, acc, c_begin, c_end, h, wd, kh, kw, stride_h,
                        stride_w, dil_h, dil_w, pad_top, pad_left, oh, ow);
        return;
    }
#endif
    if (x_signed)
        qdw_s8_portable(x, x_zero_point, w, w_signed, w_zero_points, acc, c_begin, c_end, h, wd, kh, kw, stride_h,
                        stride_w, dil_h, dil_w, pad_top, pad_left, oh, ow);
    else
        qdw_u8_portable(x, x_zero_point, w, w_signed, w_zero_points, acc, c_begin, c_end, h, wd, kh, kw, stride_h,
                        stride_w, dil_h, dil_w, pad_top, pad_left, oh, ow);
}
