/* The float depthwise convolution (see ferry_kernels.h): a tap sweep for any filter, compiled
 * portable and for AVX2/FMA, and a register-blocked 3x3 stride-1 kernel with AVX2. */
#include "ferry_kernels.h"
#include "activation.h"
#include "conv_loops.h"
#include "cpu.h"
#include <string.h>

/* Depthwise: the interior (no padding reached) runs without bounds checks. */
#define DEFINE_DEPTHWISE(NAME, ATTR)                                                                   \
    ATTR static void NAME(const float *x, const float *w, const float *bias, float *y,                 \
                          size_t cb, size_t ce, size_t h, size_t wd, size_t kh, size_t kw,             \
                          size_t sh, size_t sw, size_t dh, size_t dw, size_t pt, size_t pl,            \
                          size_t oh, size_t ow, int act, float a, float b) {                           \
        for (size_t c = cb; c < ce; c++) {                                                             \
            const float *img = x + c * h * wd;                                                         \
            const float *f = w + c * kh * kw;                                                          \
            float *out = y + c * oh * ow;                                                              \
            const float bv = bias ? bias[c] : 0.f;                                                     \
            for (size_t oy = 0; oy < oh; oy++) {                                                       \
                const ptrdiff_t iy0 = (ptrdiff_t)(oy * sh) - (ptrdiff_t)pt;                            \
                const int rows_inside = iy0 >= 0 && iy0 + (ptrdiff_t)((kh - 1) * dh) < (ptrdiff_t)h;   \
                float *orow = out + oy * ow;                                                           \
                for (size_t ox = 0; ox < ow; ox++) orow[ox] = bv;                                      \
                for (size_t ki = 0; ki < kh; ki++) {                                                   \
                    const ptrdiff_t iy = iy0 + (ptrdiff_t)(ki * dh);                                   \
                    if (!rows_inside && (iy < 0 || iy >= (ptrdiff_t)h)) continue;                      \
                    const float *irow = img + (size_t)iy * wd;                                         \
                    for (size_t kj = 0; kj < kw; kj++) {                                               \
                        const float fv = f[ki * kw + kj];                                              \
                        const ptrdiff_t off = (ptrdiff_t)(kj * dw) - (ptrdiff_t)pl;                    \
                        size_t lo, hi;                                                                 \
                        window_columns(off, sw, wd, ow, &lo, &hi);                                     \
                        if (sw == 1) {                                                                 \
                            const float *src = irow + off;                                             \
                            for (size_t ox = lo; ox < hi; ox++) orow[ox] += fv * src[ox];              \
                        } else if (sw == 2) {                                                          \
                            const float *src = irow + off;                                             \
                            for (size_t ox = lo; ox < hi; ox++) orow[ox] += fv * src[2 * ox];          \
                        } else {                                                                       \
                            for (size_t ox = lo; ox < hi; ox++)                                        \
                                orow[ox] += fv * irow[(ptrdiff_t)(ox * sw) + off];                     \
                        }                                                                              \
                    }                                                                                  \
                }                                                                                      \
                if (act != FERRY_ACT_NONE) {                                                           \
                    float *row = orow; const size_t n = ow; const float s = 1.f, bb = 0.f;             \
                    ACT_ROW_BODY                                                                       \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
    }

DEFINE_DEPTHWISE(dw_portable, )
#if FERRY_X86
DEFINE_DEPTHWISE(dw_avx2, FERRY_AVX2_ATTR)
#endif

#if FERRY_X86
/* One output of a depthwise 3x3 row next to the padding: taps outside the row are skipped. */
FERRY_AVX2_ATTR static inline float dw3x3_edge(float bias, const float *const rows[3], float wt[3][3], int nr,
                               size_t ox, size_t pl, size_t wd) {
    float s = bias;
    for (int r = 0; r < nr; r++)
        for (int kj = 0; kj < 3; kj++) {
            const ptrdiff_t ix = (ptrdiff_t)ox - (ptrdiff_t)pl + kj;
            if (ix >= 0 && ix < (ptrdiff_t)wd) s += wt[r][kj] * rows[r][ix];
        }
    return s;
}

/* Depthwise 3x3, stride 1, dilation 1: each output row accumulates its 9 taps in registers, eight
 * columns at a time; the columns next to the padding take the bounds-checked scalar path. */
FERRY_AVX2_ATTR static void dw3x3s1_avx2(const float *x, const float *w, const float *bias, float *y,
                                         size_t cb, size_t ce, size_t h, size_t wd, size_t pt, size_t pl,
                                         size_t oh, size_t ow, int act, float a, float b) {
    for (size_t c = cb; c < ce; c++) {
        const float *img = x + c * h * wd, *f = w + c * 9;
        float *out = y + c * oh * ow;
        const float bv = bias ? bias[c] : 0.f;
        /* interior columns: 0 <= ox - pl and ox - pl + 2 < wd */
        const size_t lo = pl, hi = wd + pl >= 2 ? (wd + pl - 2 < ow ? wd + pl - 2 : ow) : 0;
        for (size_t oy = 0; oy < oh; oy++) {
            float *orow = out + oy * ow;
            const float *rows[3];
            float wt[3][3];
            int nr = 0;
            for (int ki = 0; ki < 3; ki++) {
                const ptrdiff_t iy = (ptrdiff_t)oy - (ptrdiff_t)pt + ki;
                if (iy < 0 || iy >= (ptrdiff_t)h) continue;
                rows[nr] = img + (size_t)iy * wd;
                for (int kj = 0; kj < 3; kj++) wt[nr][kj] = f[ki * 3 + kj];
                nr++;
            }
            size_t ox = 0;
            /* left edge */
            for (; ox < lo && ox < ow; ox++) orow[ox] = dw3x3_edge(bv, rows, wt, nr, ox, pl, wd);
            if (hi > lo) {
                __m256 w00, w01, w02, w10, w11, w12, w20, w21, w22;
                w00 = _mm256_set1_ps(nr > 0 ? wt[0][0] : 0); w01 = _mm256_set1_ps(nr > 0 ? wt[0][1] : 0); w02 = _mm256_set1_ps(nr > 0 ? wt[0][2] : 0);
                w10 = _mm256_set1_ps(nr > 1 ? wt[1][0] : 0); w11 = _mm256_set1_ps(nr > 1 ? wt[1][1] : 0); w12 = _mm256_set1_ps(nr > 1 ? wt[1][2] : 0);
                w20 = _mm256_set1_ps(nr > 2 ? wt[2][0] : 0); w21 = _mm256_set1_ps(nr > 2 ? wt[2][1] : 0); w22 = _mm256_set1_ps(nr > 2 ? wt[2][2] : 0);
                const __m256 vb = _mm256_set1_ps(bv);
                for (; ox + 8 <= hi; ox += 8) {
                    __m256 acc = vb;
                    const size_t ix = ox - pl;
                    if (nr > 0) {
                        acc = _mm256_fmadd_ps(w00, _mm256_loadu_ps(rows[0] + ix), acc);
                        acc = _mm256_fmadd_ps(w01, _mm256_loadu_ps(rows[0] + ix + 1), acc);
                        acc = _mm256_fmadd_ps(w02, _mm256_loadu_ps(rows[0] + ix + 2), acc);
                    }
                    if (nr > 1) {
                        acc = _mm256_fmadd_ps(w10, _mm256_loadu_ps(rows[1] + ix), acc);
                        acc = _mm256_fmadd_ps(w11, _mm256_loadu_ps(rows[1] + ix + 1), acc);
                        acc = _mm256_fmadd_ps(w12, _mm256_loadu_ps(rows[1] + ix + 2), acc);
                    }
                    if (nr > 2) {
                        acc = _mm256_fmadd_ps(w20, _mm256_loadu_ps(rows[2] + ix), acc);
                        acc = _mm256_fmadd_ps(w21, _mm256_loadu_ps(rows[2] + ix + 1), acc);
                        acc = _mm256_fmadd_ps(w22, _mm256_loadu_ps(rows[2] + ix + 2), acc);
                    }
                    _mm256_storeu_ps(orow + ox, acc);
                }
                for (; ox < hi; ox++) {
                    float s = bv;
                    const size_t ix = ox - pl;
                    for (int r = 0; r < nr; r++) s += wt[r][0] * rows[r][ix] + wt[r][1] * rows[r][ix + 1] + wt[r][2] * rows[r][ix + 2];
                    orow[ox] = s;
                }
            }
            /* right edge */
            for (; ox < ow; ox++) orow[ox] = dw3x3_edge(bv, rows, wt, nr, ox, pl, wd);
            if (act != FERRY_ACT_NONE) {
                float *row = orow; const size_t n = ow; const float s = 1.f, bb = 0.f;
                ACT_ROW_BODY
            }
        }
    }
}
#endif

void ferry_depthwise_2d(const float *x, const float *w, const float *bias, float *y,
                        size_t cb, size_t ce, size_t h, size_t wd, size_t kh, size_t kw,
                        size_t sh, size_t sw, size_t dh, size_t dw, size_t pt, size_t pl,
                        size_t oh, size_t ow, int act, float a, float b) {
#if FERRY_X86
    if (ferry_has_avx2() && kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1) {
        dw3x3s1_avx2(x, w, bias, y, cb, ce, h, wd, pt, pl, oh, ow, act, a, b);
        return;
    }
    if (ferry_has_avx2()) { dw_avx2(x, w, bias, y, cb, ce, h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, act, a, b); return; }
#endif
    dw_portable(x, w, bias, y, cb, ce, h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, act, a, b);
}
