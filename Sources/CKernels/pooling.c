/* 2-D max and average pooling (see ferry_kernels.h): float planes, and max pooling of 8-bit planes
 * with a 2x2 stride-2 kernel. Bodies are written once as macros, compiled portable and for AVX2. */
#include "ferry_kernels.h"
#include "conv_loops.h"
#include "cpu.h"
#include <math.h>
#include <string.h>

/* One tap sweep of max pooling: m[ox] = max(m[ox], src[ox * sw]) for ox in [lo, hi); a NaN in src
 * never wins. */
#define MAX_SWEEP(m, src, sw, lo, hi)                                                                    \
    if ((sw) == 1) {                                                                                     \
        for (size_t ox = (lo); ox < (hi); ox++) { const float v = (src)[ox]; (m)[ox] = v > (m)[ox] ? v : (m)[ox]; } \
    } else if ((sw) == 2) {                                                                              \
        for (size_t ox = (lo); ox < (hi); ox++) { const float v = (src)[2 * ox]; (m)[ox] = v > (m)[ox] ? v : (m)[ox]; } \
    } else {                                                                                             \
        for (size_t ox = (lo); ox < (hi); ox++) { const float v = (src)[ox * (sw)]; (m)[ox] = v > (m)[ox] ? v : (m)[ox]; } \
    }

/* 2-D max or average pooling of planes [p_begin, p_end), each h x w into oh x ow: each output row
 * is built by sweeping every (valid) tap over the columns it reaches, so the inner loops vectorise. */
#define DEFINE_POOL2D(NAME, ATTR)                                                                        \
    ATTR static void NAME(const float *x, float *y, size_t p_begin, size_t p_end, size_t h, size_t w,   \
                          size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw,             \
                          size_t pt, size_t pl, size_t pb, size_t pr, size_t oh, size_t ow,             \
                          int average, int count_include_pad, float *divisor) {                          \
        /* per output column: taps inside the input, and inside the padded input */                     \
        for (size_t ox = 0; ox < ow; ox++) {                                                             \
            const ptrdiff_t x0 = (ptrdiff_t)(ox * sw) - (ptrdiff_t)pl;                                   \
            size_t in = 0, padded = 0;                                                                   \
            for (size_t k = 0; k < kw; k++) {                                                            \
                const ptrdiff_t i = x0 + (ptrdiff_t)(k * dw);                                            \
                if (i >= 0 && i < (ptrdiff_t)w) in++;                                                    \
                if (i < (ptrdiff_t)(w + pr)) padded++;                                                   \
            }                                                                                            \
            divisor[ox] = (float)(count_include_pad ? padded : in);                                      \
        }                                                                                                \
        for (size_t p = p_begin; p < p_end; p++) {                                                       \
            const float *img = x + p * h * w;                                                            \
            float *out = y + p * oh * ow;                                                                \
            for (size_t oy = 0; oy < oh; oy++) {                                                         \
                float *orow = out + oy * ow;                                                             \
                const ptrdiff_t y0 = (ptrdiff_t)(oy * sh) - (ptrdiff_t)pt;                               \
                size_t rows_in = 0, rows_padded = 0;                                                     \
                for (size_t ox = 0; ox < ow; ox++) orow[ox] = average ? 0.f : -INFINITY;                  \
                for (size_t ky = 0; ky < kh; ky++) {                                                     \
                    const ptrdiff_t iy = y0 + (ptrdiff_t)(ky * dh);                                      \
                    if (iy < (ptrdiff_t)(h + pb)) rows_padded++;                                         \
                    if (iy < 0 || iy >= (ptrdiff_t)h) continue;                                          \
                    rows_in++;                                                                           \
                    const float *row = img + (size_t)iy * w;                                             \
                    for (size_t kx = 0; kx < kw; kx++) {                                                 \
                        const ptrdiff_t off = (ptrdiff_t)(kx * dw) - (ptrdiff_t)pl;                      \
                        size_t lo, hi;                                                                   \
                        window_columns(off, sw, w, ow, &lo, &hi);                                        \
                        const float *src = row + off;                                                    \
                        if (average) {                                                                   \
                            if (sw == 1) for (size_t ox = lo; ox < hi; ox++) orow[ox] += src[ox];        \
                            else for (size_t ox = lo; ox < hi; ox++) orow[ox] += src[ox * sw];           \
                        } else {                                                                         \
                            MAX_SWEEP(orow, src, sw, lo, hi)                                             \
                        }                                                                                \
                    }                                                                                    \
                }                                                                                        \
                if (average) {                                                                           \
                    const float rows = (float)(count_include_pad ? rows_padded : rows_in);               \
                    for (size_t ox = 0; ox < ow; ox++) {                                                 \
                        const float n = rows * divisor[ox];                                              \
                        orow[ox] = n > 0.f ? orow[ox] / n : 0.f;                                         \
                    }                                                                                    \
                } else {                                                                                 \
                    /* a window with no tap inside the input gives 0 */                                  \
                    for (size_t ox = 0; ox < ow; ox++) if (rows_in == 0 || divisor[ox] == 0.f) orow[ox] = 0.f; \
                }                                                                                        \
            }                                                                                            \
        }                                                                                                \
    }

DEFINE_POOL2D(pool2d_portable, )
#if FERRY_X86
DEFINE_POOL2D(pool2d_avx2, FERRY_AVX2_ATTR)
#endif

/* Max pooling as two one-dimensional passes (a window's maximum is the maximum of its rows'
 * maxima): every input row's maxima over the kw taps of each output column into `rows` (h x ow),
 * then each output row the maximum of its kh rows there; kh + kw comparisons per output instead of
 * kh * kw. Same results as DEFINE_POOL2D's max, including windows with no tap inside (0). */
#define DEFINE_MAXPOOL2D_SEPARABLE(NAME, ATTR)                                                           \
    ATTR static void NAME(const float *x, float *y, size_t p_begin, size_t p_end, size_t h, size_t w,   \
                          size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw,             \
                          size_t pt, size_t pl, size_t oh, size_t ow, const float *divisor, float *rows) { \
        for (size_t p = p_begin; p < p_end; p++) {                                                       \
            const float *img = x + p * h * w;                                                            \
            for (size_t iy = 0; iy < h; iy++) {                                                          \
                float *m = rows + iy * ow;                                                               \
                for (size_t ox = 0; ox < ow; ox++) m[ox] = -INFINITY;                                    \
                for (size_t kx = 0; kx < kw; kx++) {                                                     \
                    const ptrdiff_t off = (ptrdiff_t)(kx * dw) - (ptrdiff_t)pl;                          \
                    size_t lo, hi;                                                                       \
                    window_columns(off, sw, w, ow, &lo, &hi);                                            \
                    const float *src = img + iy * w + off;                                               \
                    MAX_SWEEP(m, src, sw, lo, hi)                                                        \
                }                                                                                        \
            }                                                                                            \
            float *out = y + p * oh * ow;                                                                \
            for (size_t oy = 0; oy < oh; oy++) {                                                         \
                float *orow = out + oy * ow;                                                             \
                const ptrdiff_t y0 = (ptrdiff_t)(oy * sh) - (ptrdiff_t)pt;                               \
                size_t rows_in = 0;                                                                      \
                for (size_t ox = 0; ox < ow; ox++) orow[ox] = -INFINITY;                                 \
                for (size_t ky = 0; ky < kh; ky++) {                                                     \
                    const ptrdiff_t iy = y0 + (ptrdiff_t)(ky * dh);                                      \
                    if (iy < 0 || iy >= (ptrdiff_t)h) continue;                                          \
                    rows_in++;                                                                           \
                    const float *m = rows + (size_t)iy * ow;                                             \
                    MAX_SWEEP(orow, m, 1, 0, ow)                                                         \
                }                                                                                        \
                for (size_t ox = 0; ox < ow; ox++) if (rows_in == 0 || divisor[ox] == 0.f) orow[ox] = 0.f; \
            }                                                                                            \
        }                                                                                                \
    }

/* n floats from src to dst (not overlapping) in whole vectors of 8, 4, 2 or 1, the last one
 * overlapping the ones before: rows of a few floats cost no library call. */
static inline void copy_floats(float *dst, const float *src, size_t n) {
    typedef float v8 __attribute__((vector_size(32), aligned(4)));
    typedef float v4 __attribute__((vector_size(16), aligned(4)));
    typedef float v2 __attribute__((vector_size(8), aligned(4)));
#define COPY_FLOATS(T)                                                                                   \
    do {                                                                                                 \
        const size_t l = sizeof(T) / sizeof(float);                                                      \
        for (size_t i = 0; i + l < n; i += l) *(T *)(dst + i) = *(const T *)(src + i);                  \
        *(T *)(dst + n - l) = *(const T *)(src + n - l);                                                 \
    } while (0)
    if (n >= 8) COPY_FLOATS(v8);
    else if (n >= 4) COPY_FLOATS(v4);
    else if (n >= 2) COPY_FLOATS(v2);
    else if (n == 1) dst[0] = src[0];
#undef COPY_FLOATS
}

/* Max pooling that keeps the size with stride and dilation 1 (pads kh - 1 and kw - 1 in all: SPPF's
 * 5x5 pools), as the separable passes but each over the whole plane at once: the plane is copied
 * with -infinity columns around its rows (`scratch`: 2 x h x (w + kw - 1) floats), so the row
 * maxima are kw sweeps over all of it and the rows with every window row inside kh sweeps; only the
 * pt + pb rows at the top and bottom go one by one. On small planes (20 x 20) the row-by-row sweeps
 * were a few vectors each. Folds from -infinity in the separable passes' order (a -infinity pad
 * changes nothing), so the results are theirs bit for bit. */
#define DEFINE_MAXPOOL2D_SAME(NAME, ATTR)                                                                \
    ATTR static void NAME(const float *x, float *y, size_t p_begin, size_t p_end, size_t h, size_t w,   \
                          size_t kh, size_t kw, size_t pt, size_t pl, float *scratch) {                  \
        const size_t wp = w + kw - 1, pr = kw - 1 - pl, pb = kh - 1 - pt, n = h * wp;                   \
        float *const padded = scratch, *const maxima = scratch + n;                                      \
        for (size_t p = p_begin; p < p_end; p++) {                                                       \
            const float *img = x + p * h * w;                                                            \
            for (size_t iy = 0; iy < h; iy++) {                                                          \
                float *row = padded + iy * wp;                                                           \
                for (size_t i = 0; i < pl; i++) row[i] = -INFINITY;                                      \
                copy_floats(row + pl, img + iy * w, w);                                                  \
                for (size_t i = 0; i < pr; i++) row[pl + w + i] = -INFINITY;                             \
            }                                                                                            \
            /* row maxima; the last kw - 1 places (past the last row's outputs) stay -infinity */       \
            for (size_t q = 0; q < n; q++) maxima[q] = -INFINITY;                                        \
            for (size_t kx = 0; kx < kw; kx++) {                                                         \
                const float *src = padded + kx;                                                          \
                MAX_SWEEP(maxima, src, 1, 0, n - (kw - 1))                                               \
            }                                                                                            \
            /* window maxima into `padded` (done with), then its rows' first w columns to y */          \
            float *const out = padded;                                                                   \
            for (size_t q = 0; q < n; q++) out[q] = -INFINITY;                                           \
            if (h > kh - 1) {                                                                            \
                float *o = out + pt * wp;                                                                \
                for (size_t ky = 0; ky < kh; ky++) {                                                     \
                    const float *m = maxima + ky * wp;                                                   \
                    MAX_SWEEP(o, m, 1, 0, (h - (kh - 1)) * wp)                                           \
                }                                                                                        \
            }                                                                                            \
            for (size_t oy = 0; oy < h; oy++) {                                                          \
                if (oy >= pt && oy + pb < h) continue;                                                   \
                float *o = out + oy * wp;                                                                \
                for (size_t ky = 0; ky < kh; ky++) {                                                     \
                    const ptrdiff_t iy = (ptrdiff_t)(oy + ky) - (ptrdiff_t)pt;                           \
                    if (iy < 0 || iy >= (ptrdiff_t)h) continue;                                          \
                    const float *m = maxima + (size_t)iy * wp;                                           \
                    MAX_SWEEP(o, m, 1, 0, w)                                                             \
                }                                                                                        \
            }                                                                                            \
            for (size_t oy = 0; oy < h; oy++) copy_floats(y + (p * h + oy) * w, out + oy * wp, w);       \
        }                                                                                                \
    }

DEFINE_MAXPOOL2D_SAME(maxpool2d_same_portable, )
#if FERRY_X86
DEFINE_MAXPOOL2D_SAME(maxpool2d_same_avx2, FERRY_AVX2_ATTR)
#endif

DEFINE_MAXPOOL2D_SEPARABLE(maxpool2d_separable_portable, )
#if FERRY_X86
DEFINE_MAXPOOL2D_SEPARABLE(maxpool2d_separable_avx2, FERRY_AVX2_ATTR)
#endif

/* Whether the window of output column ox has a tap inside a row of w columns. */
static inline int window_reaches_row(size_t ox, size_t sw, size_t pl, size_t kw, size_t dw, size_t w) {
    for (size_t k = 0; k < kw; k++) {
        const ptrdiff_t i = (ptrdiff_t)(ox * sw + k * dw) - (ptrdiff_t)pl;
        if (i >= 0 && i < (ptrdiff_t)w) return 1;
    }
    return 0;
}

/* 2-D max pooling of 8-bit planes, as DEFINE_POOL2D sweeps taps over output rows; a window with no
 * tap inside the input gives `empty`. */
#define DEFINE_MAXPOOL2D_BYTES(NAME, ATTR, T, LOWEST)                                                    \
    ATTR static void NAME(const T *x, T *y, T empty, size_t p_begin, size_t p_end, size_t h, size_t w,  \
                          size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, size_t pt,  \
                          size_t pl, size_t oh, size_t ow) {                                            \
        for (size_t p = p_begin; p < p_end; p++) {                                                       \
            const T *img = x + p * h * w;                                                                \
            T *out = y + p * oh * ow;                                                                    \
            for (size_t oy = 0; oy < oh; oy++) {                                                         \
                T *orow = out + oy * ow;                                                                 \
                const ptrdiff_t y0 = (ptrdiff_t)(oy * sh) - (ptrdiff_t)pt;                               \
                size_t rows_in = 0;                                                                      \
                for (size_t ox = 0; ox < ow; ox++) orow[ox] = LOWEST;                                    \
                for (size_t ky = 0; ky < kh; ky++) {                                                     \
                    const ptrdiff_t iy = y0 + (ptrdiff_t)(ky * dh);                                      \
                    if (iy < 0 || iy >= (ptrdiff_t)h) continue;                                          \
                    rows_in++;                                                                           \
                    const T *row = img + (size_t)iy * w;                                                 \
                    for (size_t kx = 0; kx < kw; kx++) {                                                 \
                        const ptrdiff_t off = (ptrdiff_t)(kx * dw) - (ptrdiff_t)pl;                      \
                        size_t lo, hi;                                                                   \
                        window_columns(off, sw, w, ow, &lo, &hi);                                        \
                        const T *src = row + off;                                                        \
                        if (sw == 1) {                                                                   \
                            for (size_t ox = lo; ox < hi; ox++) orow[ox] = src[ox] > orow[ox] ? src[ox] : orow[ox]; \
                        } else if (sw == 2) {                                                            \
                            for (size_t ox = lo; ox < hi; ox++) orow[ox] = src[2 * ox] > orow[ox] ? src[2 * ox] : orow[ox]; \
                        } else {                                                                         \
                            for (size_t ox = lo; ox < hi; ox++) orow[ox] = src[ox * sw] > orow[ox] ? src[ox * sw] : orow[ox]; \
                        }                                                                                \
                    }                                                                                    \
                }                                                                                        \
                for (size_t ox = 0; ox < ow; ox++)                                                       \
                    if (rows_in == 0 || !window_reaches_row(ox, sw, pl, kw, dw, w)) orow[ox] = empty;    \
            }                                                                                            \
        }                                                                                                \
    }

DEFINE_MAXPOOL2D_BYTES(maxpool_u8_portable, , uint8_t, 0)
DEFINE_MAXPOOL2D_BYTES(maxpool_s8_portable, , int8_t, -128)
#if FERRY_X86
DEFINE_MAXPOOL2D_BYTES(maxpool_u8_avx2, FERRY_AVX2_ATTR, uint8_t, 0)
DEFINE_MAXPOOL2D_BYTES(maxpool_s8_avx2, FERRY_AVX2_ATTR, int8_t, -128)
#endif

#if FERRY_X86
/* 2x2 windows, stride 2, no padding, dilation 1, on 8-bit planes: the larger of two input rows,
 * then of each byte pair, 32 outputs per step (signed bytes compared with their top bits flipped). */
FERRY_AVX2_ATTR static void maxpool_2x2_bytes_avx2(const uint8_t *x, uint8_t *y, int is_signed, size_t p_begin, size_t p_end,
                                                   size_t h, size_t w, size_t oh, size_t ow) {
    const __m256i flip = _mm256_set1_epi8(is_signed ? (char)0x80 : 0), low = _mm256_set1_epi16(0x00FF);
    const __m128i flip16 = _mm256_castsi256_si128(flip), low16 = _mm256_castsi256_si128(low);
    for (size_t p = p_begin; p < p_end; p++) {
        for (size_t oy = 0; oy < oh; oy++) {
            const uint8_t *r0 = x + (p * h + 2 * oy) * w, *r1 = 2 * oy + 1 < h ? r0 + w : r0;
            uint8_t *out = y + (p * oh + oy) * ow;
            size_t ox = 0;
            for (; ox + 32 <= ow && 2 * ox + 64 <= w; ox += 32) {
                const __m256i a0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r0 + 2 * ox)), flip);
                const __m256i a1 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r0 + 2 * ox + 32)), flip);
                const __m256i b0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r1 + 2 * ox)), flip);
                const __m256i b1 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r1 + 2 * ox + 32)), flip);
                __m256i m0 = _mm256_max_epu8(a0, b0), m1 = _mm256_max_epu8(a1, b1);
                m0 = _mm256_and_si256(_mm256_max_epu8(m0, _mm256_srli_epi16(m0, 8)), low);
                m1 = _mm256_and_si256(_mm256_max_epu8(m1, _mm256_srli_epi16(m1, 8)), low);
                const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(m0, m1), 0xD8);
                _mm256_storeu_si256((__m256i *)(out + ox), _mm256_xor_si256(packed, flip));
            }
            /* then 8 outputs (16 input columns) at a time, the last step moved back to end at the
             * row's end (it rewrites a few outputs with the same values) */
            while (ox < ow && ow >= 8 && 2 * ow <= w) {
                const size_t at = ox + 8 <= ow ? ox : ow - 8;
                const __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r0 + 2 * at)), flip16);
                const __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r1 + 2 * at)), flip16);
                __m128i m = _mm_max_epu8(a, b);
                m = _mm_and_si128(_mm_max_epu8(m, _mm_srli_epi16(m, 8)), low16);
                _mm_storel_epi64((__m128i *)(out + at), _mm_xor_si128(_mm_packus_epi16(m, m), flip16));
                ox = at + 8;
            }
            for (; ox < ow; ox++) {
                /* columns 2ox and 2ox + 1 (the second only when inside the row) */
                const size_t c0 = 2 * ox, c1 = 2 * ox + 1 < w ? 2 * ox + 1 : 2 * ox;
                uint8_t v = (uint8_t)(r0[c0] ^ (is_signed ? 0x80 : 0));
                const uint8_t t[3] = {r0[c1], r1[c0], r1[c1]};
                for (size_t i = 0; i < 3; i++) {
                    const uint8_t u = (uint8_t)(t[i] ^ (is_signed ? 0x80 : 0));
                    v = u > v ? u : v;
                }
                out[ox] = (uint8_t)(v ^ (is_signed ? 0x80 : 0));
            }
        }
    }
}
#endif

void ferry_max_pool_2d_bytes(const void *x, void *y, int is_signed, int32_t empty, size_t p_begin, size_t p_end, size_t h,
                             size_t w, size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, size_t pt, size_t pl,
                             size_t oh, size_t ow) {
#if FERRY_X86
    if (ferry_has_avx2() && kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && pt == 0 && pl == 0 && oh > 0 &&
        ow > 0 && 2 * oh <= h + 1 && 2 * ow <= w + 1) {
        maxpool_2x2_bytes_avx2(x, y, is_signed, p_begin, p_end, h, w, oh, ow);
        return;
    }
#endif
    int avx2 = 0;
#if FERRY_X86
    avx2 = ferry_has_avx2();
    if (avx2 && is_signed)
        maxpool_s8_avx2(x, y, (int8_t)empty, p_begin, p_end, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow);
    else if (avx2)
        maxpool_u8_avx2(x, y, (uint8_t)empty, p_begin, p_end, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow);
#endif
    if (!avx2 && is_signed)
        maxpool_s8_portable(x, y, (int8_t)empty, p_begin, p_end, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow);
    else if (!avx2)
        maxpool_u8_portable(x, y, (uint8_t)empty, p_begin, p_end, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow);
}

#if FERRY_X86
/* Windows of 2 rows by kw = 1 or 2 columns, stride 2 by kw, no padding, dilation 1, every window
 * inside the plane (downsampling by 2, as CNNs and CRNNs pool): the larger of the taps of each input
 * row, then of the two rows, 8 outputs per step. The folds run from -infinity in the order of the
 * separable passes (kw 2) and of the tap sweeps (kw 1), with vmaxps(v, m) = v > m ? v : m (a NaN
 * never wins, of equal values the first stays), so the results are theirs bit for bit. */
FERRY_AVX2_ATTR static void maxpool_2xk_avx2(const float *x, float *y, size_t p_begin, size_t p_end, size_t h, size_t w,
                                             size_t kw, size_t oh, size_t ow) {
    const __m256 lowest = _mm256_set1_ps(-INFINITY);
    for (size_t p = p_begin; p < p_end; p++) {
        for (size_t oy = 0; oy < oh; oy++) {
            const float *r0 = x + (p * h + 2 * oy) * w, *r1 = r0 + w;
            float *out = y + (p * oh + oy) * ow;
            size_t ox = 0;
            if (kw == 2) {
                for (; ox + 8 <= ow; ox += 8) {
                    const __m256 a0 = _mm256_loadu_ps(r0 + 2 * ox), a1 = _mm256_loadu_ps(r0 + 2 * ox + 8);
                    const __m256 b0 = _mm256_loadu_ps(r1 + 2 * ox), b1 = _mm256_loadu_ps(r1 + 2 * ox + 8);
                    /* even and odd columns, 64-bit pairs in the order (0, 2, 1, 3) until the permute */
                    const __m256 ra =
                        _mm256_max_ps(_mm256_shuffle_ps(a0, a1, 0xDD), _mm256_max_ps(_mm256_shuffle_ps(a0, a1, 0x88), lowest));
                    const __m256 rb =
                        _mm256_max_ps(_mm256_shuffle_ps(b0, b1, 0xDD), _mm256_max_ps(_mm256_shuffle_ps(b0, b1, 0x88), lowest));
                    const __m256 m = _mm256_max_ps(rb, _mm256_max_ps(ra, lowest));
                    _mm256_storeu_ps(out + ox, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(m), 0xD8)));
                }
            } else {
                for (; ox + 8 <= ow; ox += 8)
                    _mm256_storeu_ps(out + ox, _mm256_max_ps(_mm256_loadu_ps(r1 + ox), _mm256_max_ps(_mm256_loadu_ps(r0 + ox), lowest)));
            }
            for (; ox < ow; ox++) {
                float ra = -INFINITY, rb = -INFINITY, m = -INFINITY;
                for (size_t k = 0; k < kw; k++) {
                    ra = r0[kw * ox + k] > ra ? r0[kw * ox + k] : ra;
                    rb = r1[kw * ox + k] > rb ? r1[kw * ox + k] : rb;
                }
                m = ra > m ? ra : m;
                out[ox] = rb > m ? rb : m;
            }
        }
    }
}
#endif

void ferry_pool_2d(const float *x, float *y, size_t p_begin, size_t p_end, size_t h, size_t w,
                   size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw,
                   size_t pt, size_t pl, size_t pb, size_t pr, size_t oh, size_t ow, int average, int count_include_pad) {
#if FERRY_X86
    if (!average && kh == 2 && (kw == 1 || kw == 2) && sh == 2 && sw == kw && dh == 1 && dw == 1 && pt == 0 && pl == 0 &&
        2 * oh <= h && kw * ow <= w && ferry_has_avx2()) {
        maxpool_2xk_avx2(x, y, p_begin, p_end, h, w, kw, oh, ow);
        return;
    }
#endif
    /* size-keeping stride-1 max pooling: whole-plane sweeps, when their scratch is to be had */
    if (!average && kh > 1 && kw > 1 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && oh == h && ow == w &&
        h * (w + kw) <= (1u << 22)) {
        float *scratch = (float *)malloc(2 * h * (w + kw - 1) * sizeof(float));
        if (scratch) {
#if FERRY_X86
            if (ferry_has_avx2())
                maxpool2d_same_avx2(x, y, p_begin, p_end, h, w, kh, kw, pt, pl, scratch);
            else
#endif
                maxpool2d_same_portable(x, y, p_begin, p_end, h, w, kh, kw, pt, pl, scratch);
            free(scratch);
            return;
        }
    }
    float stack[512];
    float *divisor = ow <= 512 ? stack : (float *)malloc(ow * sizeof(float));
    if (!divisor) return;
    /* max pooling of windows at least 2x2: the separable passes, when their row buffer is to be had */
    float *rows = !average && kh > 1 && kw > 1 && h * ow <= (1u << 22) ? (float *)malloc(h * ow * sizeof(float)) : NULL;
    if (rows) {
        /* the output columns whose window has a tap inside the input (the pass leaves the others 0) */
        for (size_t ox = 0; ox < ow; ox++) divisor[ox] = (float)window_reaches_row(ox, sw, pl, kw, dw, w);
#if FERRY_X86
        if (ferry_has_avx2())
            maxpool2d_separable_avx2(x, y, p_begin, p_end, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, divisor, rows);
        else
#endif
            maxpool2d_separable_portable(x, y, p_begin, p_end, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, divisor, rows);
        free(rows);
        if (divisor != stack) free(divisor);
        return;
    }
#if FERRY_X86
    if (ferry_has_avx2())
        pool2d_avx2(x, y, p_begin, p_end, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow, average, count_include_pad, divisor);
    else
#endif
        pool2d_portable(x, y, p_begin, p_end, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow, average, count_include_pad, divisor);
    if (divisor != stack) free(divisor);
}
