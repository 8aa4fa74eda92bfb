/* The float depthwise convolution (see ferry_kernels.h), for any filter size, stride, dilation and
 * padding: each channel's input is first copied into zero-padded planes, one per column phase of
 * the stride (columns ox * stride + offset of one phase are then consecutive), so that every tap of
 * a block of outputs is one unaligned vector load and one multiply-add, without bounds checks.
 * Blocks of up to 4 output rows x 16 columns keep 8 independent sums in registers. The body is
 * written over 8-float vectors and compiled portable and for AVX2/FMA. */
#include "ferry_kernels.h"
#include "activation.h"
#include "cpu.h"
#include <string.h>

typedef float dw_v8 __attribute__((vector_size(32), aligned(4)));

/* The padded phase planes of one channel. */
struct dw_planes {
    size_t rows;  /* padded rows the outputs read */
    size_t width; /* floats per row of one phase plane */
    size_t phase; /* floats per phase plane */
};

static struct dw_planes dw_planes(size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, size_t oh, size_t ow) {
    struct dw_planes p;
    p.rows = (oh - 1) * sh + (kh - 1) * dh + 1;
    p.width = (ow + 15) / 16 * 16 + (kw - 1) * dw / sw + 1;
    p.phase = p.rows * p.width;
    return p;
}

size_t ferry_depthwise_2d_scratch(size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, size_t oh, size_t ow) {
    if (oh == 0 || ow == 0) return 0;
    const struct dw_planes p = dw_planes(kh, kw, sh, sw, dh, dw, oh, ow);
    return sw * p.phase + 16 * 4; /* the planes and a block of output rows for the last columns */
}

/* Copies channel plane img (h x wd) into the sw phase planes: padded row r, phase q, index i holds
 * input (r - pt, i * sw + q - pl), or 0 outside the input. */
static void dw_fill(const float *img, size_t h, size_t wd, size_t sw, size_t pt, size_t pl, struct dw_planes p,
                    float *planes) {
    for (size_t q = 0; q < sw; q++) {
        /* indices i whose input column i * sw + q - pl lies in [0, wd) */
        const size_t lo = pl > q ? (pl - q + sw - 1) / sw : 0;
        size_t hi = wd + pl > q ? (wd + pl - q + sw - 1) / sw : 0;
        if (hi > p.width) hi = p.width;
        const size_t first = lo < hi ? lo : hi;
        float *plane = planes + q * p.phase;
        for (size_t r = 0; r < p.rows; r++) {
            float *row = plane + r * p.width;
            const ptrdiff_t iy = (ptrdiff_t)r - (ptrdiff_t)pt;
            if (iy < 0 || iy >= (ptrdiff_t)h) {
                memset(row, 0, p.width * sizeof(float));
                continue;
            }
            const float *src = img + (size_t)iy * wd + q - pl; /* src[i * sw] is index i */
            memset(row, 0, first * sizeof(float));
            if (sw == 1) memcpy(row + first, src + first, (hi - first) * sizeof(float));
            else if (sw == 2)
                for (size_t i = first; i < hi; i++) row[i] = src[2 * i];
            else
                for (size_t i = first; i < hi; i++) row[i] = src[i * sw];
            memset(row + hi, 0, (p.width - hi) * sizeof(float));
        }
    }
}

/* R output rows x V vectors of 8 columns, from output row oy and column ox. */
#define DEFINE_DW_BLOCK(NAME, ATTR, R, V)                                                                 \
    ATTR static void NAME(const float *planes, struct dw_planes p, const float *f, float bias, size_t kh,  \
                          size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, size_t oy, size_t ox,     \
                          float *out, size_t ldo) {                                                       \
        dw_v8 acc[R][V];                                                                                  \
        for (size_t r = 0; r < R; r++)                                                                    \
            for (size_t v = 0; v < V; v++) acc[r][v] = (dw_v8){} + bias;                                  \
        for (size_t ki = 0; ki < kh; ki++)                                                                \
            for (size_t kj = 0; kj < kw; kj++) {                                                          \
                const size_t t = kj * dw;                                                                 \
                const float *base = planes + t % sw * p.phase + (oy * sh + ki * dh) * p.width + ox + t / sw; \
                const dw_v8 wv = (dw_v8){} + f[ki * kw + kj];                                             \
                for (size_t r = 0; r < R; r++)                                                            \
                    for (size_t v = 0; v < V; v++)                                                        \
                        acc[r][v] += wv * *(const dw_v8 *)(base + r * sh * p.width + 8 * v);              \
            }                                                                                             \
        for (size_t r = 0; r < R; r++)                                                                    \
            for (size_t v = 0; v < V; v++) *(dw_v8 *)(out + r * ldo + 8 * v) = acc[r][v];                 \
    }

/* The blocks of R rows, 16 and 8 columns wide. */
#define DEFINE_DW_ROWS(PREFIX, ATTR, R) DEFINE_DW_BLOCK(PREFIX##_##R##x2, ATTR, R, 2) DEFINE_DW_BLOCK(PREFIX##_##R##x1, ATTR, R, 1)

#define DEFINE_DW_SET(PREFIX, ATTR)                                                                       \
    DEFINE_DW_ROWS(PREFIX, ATTR, 4) DEFINE_DW_ROWS(PREFIX, ATTR, 3)                                       \
    DEFINE_DW_ROWS(PREFIX, ATTR, 2) DEFINE_DW_ROWS(PREFIX, ATTR, 1)                                       \
    ATTR static void PREFIX(const float *x, const float *w, const float *bias, float *y, size_t cb, size_t ce,  \
                            size_t h, size_t wd, size_t kh, size_t kw, size_t sh, size_t sw, size_t dh,   \
                            size_t dw, size_t pt, size_t pl, size_t oh, size_t ow, int act, float a, float b, \
                            float *scratch) {                                                             \
        const struct dw_planes p = dw_planes(kh, kw, sh, sw, dh, dw, oh, ow);                             \
        float *planes = scratch, *tail = scratch + sw * p.phase;                                          \
        const size_t vectors = ow > 8 ? 2 : 1, block = 8 * vectors;                                      \
        for (size_t c = cb; c < ce; c++) {                                                                \
            dw_fill(x + c * h * wd, h, wd, sw, pt, pl, p, planes);                                        \
            const float *f = w + c * kh * kw;                                                             \
            const float bv = bias ? bias[c] : 0.f;                                                        \
            float *out = y + c * oh * ow;                                                                 \
            for (size_t oy = 0; oy < oh;) {                                                               \
                const size_t rows = oh - oy >= 4 ? 4 : oh - oy;                                           \
                for (size_t ox = 0; ox < ow; ox += block) {                                               \
                    const int whole = ox + block <= ow;                                                   \
                    float *dst = whole ? out + oy * ow + ox : tail;                                       \
                    const size_t ldo = whole ? ow : block;                                                \
                    switch (rows * 10 + vectors) {                                                          \
                    case 42: PREFIX##_4x2(planes, p, f, bv, kh, kw, sh, sw, dh, dw, oy, ox, dst, ldo); break; \
                    case 32: PREFIX##_3x2(planes, p, f, bv, kh, kw, sh, sw, dh, dw, oy, ox, dst, ldo); break; \
                    case 22: PREFIX##_2x2(planes, p, f, bv, kh, kw, sh, sw, dh, dw, oy, ox, dst, ldo); break; \
                    case 12: PREFIX##_1x2(planes, p, f, bv, kh, kw, sh, sw, dh, dw, oy, ox, dst, ldo); break; \
                    case 41: PREFIX##_4x1(planes, p, f, bv, kh, kw, sh, sw, dh, dw, oy, ox, dst, ldo); break; \
                    case 31: PREFIX##_3x1(planes, p, f, bv, kh, kw, sh, sw, dh, dw, oy, ox, dst, ldo); break; \
                    case 21: PREFIX##_2x1(planes, p, f, bv, kh, kw, sh, sw, dh, dw, oy, ox, dst, ldo); break; \
                    default: PREFIX##_1x1(planes, p, f, bv, kh, kw, sh, sw, dh, dw, oy, ox, dst, ldo); break; \
                    }                                                                                     \
                    if (!whole)                                                                           \
                        for (size_t r = 0; r < rows; r++)                                                 \
                            memcpy(out + (oy + r) * ow + ox, tail + r * block, (ow - ox) * sizeof(float)); \
                }                                                                                         \
                oy += rows;                                                                               \
            }                                                                                             \
            if (act != FERRY_ACT_NONE) {                                                                  \
                float *row = out; const size_t n = oh * ow; const float s = 1.f, bb = 0.f;                \
                ACT_ROW_BODY                                                                              \
            }                                                                                             \
        }                                                                                                 \
    }

DEFINE_DW_SET(dw_portable, )
#if FERRY_X86
DEFINE_DW_SET(dw_avx2, FERRY_AVX2_ATTR)
#endif

void ferry_depthwise_2d(const float *x, const float *w, const float *bias, float *y, size_t cb, size_t ce, size_t h,
                        size_t wd, size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, size_t pt, size_t pl,
                        size_t oh, size_t ow, int act, float a, float b, float *scratch) {
    if (oh == 0 || ow == 0) return;
#if FERRY_X86
    if (ferry_has_avx2()) {
        dw_avx2(x, w, bias, y, cb, ce, h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, act, a, b, scratch);
        return;
    }
#endif
    dw_portable(x, w, bias, y, cb, ce, h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, act, a, b, scratch);
}
