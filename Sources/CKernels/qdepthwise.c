/* The int8 depthwise convolution (see ferry_kernels.h): exact int32 sums of (x - zx) (w - zw), a
 * portable tap sweep for any filter and, with AVX2, int16 pairs of rows through vpmaddwd (or VNNI's
 * vpdpwssd) for filters up to 7x7. */
#include "ferry_kernels.h"
#include "conv_loops.h"
#include "cpu.h"
#include "qgemm_tile.h"
#include "quantize.h"
#include <string.h>

/* Depthwise: every tap of the filter sweeps the output columns it reaches (window_columns), so the
 * inner loops have no bounds checks and vectorise; padded taps are skipped (they add 0). */
#define DEFINE_QDEPTHWISE(NAME, ATTR, XT)                                                               \
    ATTR static void NAME(const void *image, int32_t xz, const void *w, int w_signed, const int32_t *wz, \
                          int32_t *acc, size_t cb, size_t ce, size_t h, size_t wd, size_t kh, size_t kw, \
                          size_t sh, size_t sw, size_t dh, size_t dw, size_t pt, size_t pl, size_t oh,   \
                          size_t ow) {                                                                  \
        const XT *x = image;                                                                            \
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

typedef void (*qdw_sweep_fn)(const void *, int32_t, const void *, int, const int32_t *, int32_t *, size_t, size_t, size_t,
                             size_t, size_t, size_t, size_t, size_t, size_t, size_t, size_t, size_t, size_t, size_t);

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
#endif
    qdw_sweep_fn sweep = x_signed ? qdw_s8_portable : qdw_u8_portable;
#if FERRY_X86
    if (ferry_has_avx2()) sweep = x_signed ? qdw_s8_avx2 : qdw_u8_avx2;
#endif
    sweep(x, x_zero_point, w, w_signed, w_zero_points, acc, c_begin, c_end, h, wd, kh, kw, stride_h, stride_w, dil_h, dil_w,
          pad_top, pad_left, oh, ow);
}
