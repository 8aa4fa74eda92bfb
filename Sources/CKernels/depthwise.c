/* The float depthwise convolution (see ferry_kernels.h), for any filter size, stride, dilation and
 * padding. The body (depthwise_body.h: eight channels per vector, over a channel-interleaved padded
 * copy of a strip of input rows) is compiled portable and for AVX2/FMA. */
#include "ferry_kernels.h"
#include "activation.h"
#include "cpu.h"
#include "transpose8.h"
#include <string.h>

/* The shape of one call and of its strips. */
struct dw_geometry {
    size_t h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow;
    size_t wpad;  /* padded input columns the outputs read */
    size_t strip; /* output rows per strip of interleaved input */
};

/* Interleaved floats a strip's input buffer stays within when one output row allows it, and the
 * input width below which the strip's rows are interleaved at once through a staging copy. */
enum { DW_STRIP_BUDGET = 8192, DW_STAGED_WIDTH = 32 };

static struct dw_geometry dw_geometry(size_t h, size_t wd, size_t kh, size_t kw, size_t sh, size_t sw, size_t dh,
                                      size_t dw, size_t pt, size_t pl, size_t oh, size_t ow) {
    struct dw_geometry g = {h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, 0, 1};
    g.wpad = (ow - 1) * sw + (kw - 1) * dw + 1;
    const size_t fit_rows = DW_STRIP_BUDGET / (g.wpad * 8), reach = (kh - 1) * dh + 1;
    if (fit_rows > reach) g.strip = (fit_rows - reach) / sh + 1;
    if (g.strip > oh) g.strip = oh;
    return g;
}

/* Floats of a strip's interleaved input. */
static size_t dw_strip_floats(const struct dw_geometry *g) {
    return ((g->strip - 1) * g->sh + (g->kh - 1) * g->dh + 1) * g->wpad * 8;
}

size_t ferry_depthwise_2d_scratch(size_t wd, size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, size_t oh,
                                  size_t ow) {
    if (oh == 0 || ow == 0) return 0;
    const struct dw_geometry g = dw_geometry(0, wd, kh, kw, sh, sw, dh, dw, 0, 0, oh, ow);
    const size_t in_rows = (g.strip - 1) * sh + (kh - 1) * dh + 1;
    /* the padded strip, the weights, the strip's outputs, narrow input rows as they are */
    const size_t floats = dw_strip_floats(&g) + kh * kw * 8 + g.strip * ow * 8 + (wd < DW_STAGED_WIDTH ? in_rows * wd * 8 : 0);
    return (floats + 15) / 16 * 16;
}

#define DW(name) dw_portable_##name
#define DW_ATTR
#include "depthwise_body.h"

#if FERRY_X86
#define DW(name) dw_avx2_##name
#define DW_ATTR FERRY_AVX2_ATTR
#include "depthwise_body.h"
#endif

void ferry_depthwise_2d(const float *x, const float *w, const float *bias, float *y, size_t cb, size_t ce, size_t h,
                        size_t wd, size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, size_t pt, size_t pl,
                        size_t oh, size_t ow, int act, float a, float b, float *scratch) {
    if (oh == 0 || ow == 0 || cb >= ce) return;
    const struct dw_geometry g = dw_geometry(h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow);
#if FERRY_X86
    if (ferry_has_avx2()) {
        dw_avx2_depthwise(x, w, bias, y, cb, ce, &g, act, a, b, scratch);
        return;
    }
#endif
    dw_portable_depthwise(x, w, bias, y, cb, ce, &g, act, a, b, scratch);
}
