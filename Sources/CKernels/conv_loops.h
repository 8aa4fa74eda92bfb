/* Loops shared by the float and the int8 convolution kernels (private to CKernels): im2col bodies
 * written once for any element types, the one loop that packs im2col rows straight into a GEMM's B
 * panels, and the output columns a window tap reaches. */
#ifndef FERRY_CONV_LOOPS_H
#define FERRY_CONV_LOOPS_H
#include "gemm_driver.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The output columns [*lo, *hi) of a row of ow whose tap at ox * stride + off lies in [0, width). */
static inline void window_columns(ptrdiff_t off, size_t stride, size_t width, size_t ow, size_t *lo, size_t *hi) {
    *lo = off < 0 ? (size_t)((-off + (ptrdiff_t)stride - 1) / (ptrdiff_t)stride) : 0;
    *hi = ow;
    if ((ptrdiff_t)width - off <= 0) *hi = 0;
    else {
        const size_t lim = (size_t)(((ptrdiff_t)width - off - 1) / (ptrdiff_t)stride) + 1;
        if (lim < *hi) *hi = lim;
    }
}

/* Element conversions for the im2col bodies: float and uint8 as is; int8/uint8 centred on the zero
 * point as int16 (so padding, written as 0, reads as the zero point); int8 shifted by 128 to uint8. */
#define IM2COL_SAME(v, zp) (v)
#define IM2COL_CENTRED(v, zp) ((int16_t)((int32_t)(v) - (zp)))
#define IM2COL_SHIFTED(v, zp) ((uint8_t)((int32_t)(v) + 128))
/* What padding is written as: 0, or the zero point itself (for bodies that keep it in the values). */
#define IM2COL_PAD_ZERO(zp) 0
#define IM2COL_PAD_ZP(zp) (zp)

/* 2-D im2col of rows [rb, re) (channel, ki, kj) and output positions [cb, ce) (flattened oy * ow)
 * into col (leading dimension ce - cb); padding is PAD(zp). When strides and dilations are 1 and
 * the output is as wide as the input ("same" padding across), a row is the input plane shifted by
 * (ki - pt) rows and (kj - pl) columns: one contiguous copy, then padding for the positions before
 * and after the plane and for the |kj - pl| columns of each output row that fall off its edge. */
#define DEFINE_IM2COL_2D(NAME, SRC_T, DST_T, CONV, PAD)                                                 \
    static void NAME(const SRC_T *x, size_t h, size_t w, size_t kh, size_t kw, size_t sh, size_t sw,    \
                     size_t dh, size_t dw, size_t pt, size_t pl, size_t ow, size_t cb, size_t ce,       \
                     size_t rb, size_t re, int32_t zp, DST_T *col) {                                    \
        (void)zp;                                                                                       \
        const size_t ld = ce - cb;                                                                      \
        const int shifted = sh == 1 && sw == 1 && dh == 1 && dw == 1 && ow == w;                        \
        for (size_t r = rb; r < re; r++) {                                                              \
            const size_t c = r / (kh * kw), ki = (r / kw) % kh, kj = r % kw;                            \
            const SRC_T *plane = x + c * h * w;                                                         \
            DST_T *out = col + (r - rb) * ld;                                                           \
            if (shifted) {                                                                              \
                const ptrdiff_t dx = (ptrdiff_t)kj - (ptrdiff_t)pl;                                     \
                const ptrdiff_t shift = ((ptrdiff_t)ki - (ptrdiff_t)pt) * (ptrdiff_t)w + dx;            \
                ptrdiff_t lo = -shift, hi = (ptrdiff_t)(h * w) - shift;                                 \
                if (lo < (ptrdiff_t)cb) lo = (ptrdiff_t)cb;                                             \
                if (lo > (ptrdiff_t)ce) lo = (ptrdiff_t)ce;                                             \
                if (hi > (ptrdiff_t)ce) hi = (ptrdiff_t)ce;                                             \
                if (hi < lo) hi = lo;                                                                   \
                for (ptrdiff_t p = (ptrdiff_t)cb; p < lo; p++) out[p - (ptrdiff_t)cb] = (DST_T)PAD(zp);  \
                for (ptrdiff_t p = lo; p < hi; p++) out[p - (ptrdiff_t)cb] = CONV(plane[p + shift], zp); \
                for (ptrdiff_t p = hi; p < (ptrdiff_t)ce; p++) out[p - (ptrdiff_t)cb] = (DST_T)PAD(zp);  \
                if (dx != 0) {                                                                          \
                    /* output columns [c0, c1) of every row read outside the input row */               \
                    const size_t n = (size_t)(dx < 0 ? -dx : dx) < w ? (size_t)(dx < 0 ? -dx : dx) : w; \
                    const size_t c0 = dx < 0 ? 0 : w - n, c1 = c0 + n;                                  \
                    for (size_t row = cb / ow; row * ow < ce; row++)                                    \
                        for (size_t ox = c0; ox < c1; ox++) {                                           \
                            const size_t p = row * ow + ox;                                             \
                            if (p >= cb && p < ce) out[p - cb] = (DST_T)PAD(zp);                        \
                        }                                                                               \
                }                                                                                       \
                continue;                                                                               \
            }                                                                                           \
            /* the output columns whose tap kj lies inside an input row (strided rows) */            \
            const ptrdiff_t base = (ptrdiff_t)(kj * dw) - (ptrdiff_t)pl;                                \
            size_t inside_lo = 0, inside_hi = ow;                                                       \
            if (sw != 1) window_columns(base, sw, w, ow, &inside_lo, &inside_hi);                       \
            size_t p = cb;                                                                              \
            while (p < ce) {                                                                            \
                const size_t oy = p / ow, ox0 = p % ow;                                                 \
                size_t ox1 = ow;                                                                        \
                if (ox1 - ox0 > ce - p) ox1 = ox0 + (ce - p);                                           \
                const ptrdiff_t iy = (ptrdiff_t)(oy * sh + ki * dh) - (ptrdiff_t)pt;                    \
                DST_T *dst = out + (p - cb);                                                            \
                const size_t len = ox1 - ox0;                                                           \
                if (iy < 0 || iy >= (ptrdiff_t)h) {                                                     \
                    for (size_t t = 0; t < len; t++) dst[t] = (DST_T)PAD(zp);                           \
                } else {                                                                                \
                    const SRC_T *src = plane + (size_t)iy * w;                                          \
                    if (sw == 1) {                                                                      \
                        /* contiguous run: zeros, copy, zeros */                                        \
                        const ptrdiff_t ix0 = (ptrdiff_t)ox0 + base;                                    \
                        size_t i = 0;                                                                   \
                        while (i < len && ix0 + (ptrdiff_t)i < 0) dst[i++] = (DST_T)PAD(zp);            \
                        const ptrdiff_t avail = (ptrdiff_t)w - (ix0 + (ptrdiff_t)i);                    \
                        size_t ncopy = avail > 0 ? (size_t)avail : 0;                                   \
                        if (ncopy > len - i) ncopy = len - i;                                           \
                        const SRC_T *run = src + ix0 + (ptrdiff_t)i;                                    \
                        for (size_t t = 0; t < ncopy; t++) dst[i + t] = CONV(run[t], zp);               \
                        i += ncopy;                                                                     \
                        while (i < len) dst[i++] = (DST_T)PAD(zp);                                      \
                    } else {                                                                            \
                        /* strided: padding, the taps inside the row [lo, hi), padding */              \
                        size_t lo = inside_lo, hi = inside_hi;                                          \
                        lo = lo < ox0 ? ox0 : (lo > ox1 ? ox1 : lo);                                    \
                        hi = hi > ox1 ? ox1 : (hi < lo ? lo : hi);                                      \
                        for (size_t ox = ox0; ox < lo; ox++) dst[ox - ox0] = (DST_T)PAD(zp);            \
                        if (sw == 2) { /* a constant stride: the compiler vectorises it (shuffles) */  \
                            const SRC_T *even = hi > lo ? src + (ptrdiff_t)(2 * lo) + base : src;       \
                            DST_T *to = dst + (lo - ox0);                                               \
                            for (size_t t = 0; t < hi - lo; t++) to[t] = CONV(even[2 * t], zp);         \
                        } else {                                                                        \
                            for (size_t ox = lo; ox < hi; ox++)                                         \
                                dst[ox - ox0] = CONV(src[(ptrdiff_t)(ox * sw) + base], zp);             \
                        }                                                                               \
                        for (size_t ox = hi; ox < ox1; ox++) dst[ox - ox0] = (DST_T)PAD(zp);            \
                    }                                                                                   \
                }                                                                                       \
                p += len;                                                                               \
            }                                                                                           \
        }                                                                                               \
    }

/* N-d im2col (rank up to 8), same layout as the 2-D one. */
#define DEFINE_IM2COL_ND(NAME, SRC_T, DST_T, CONV, PAD)                                                 \
    static void NAME(const SRC_T *x, size_t rank, const size_t *in_shape, const size_t *kernel,         \
                     const size_t *strides, const size_t *dil, const size_t *pads, const size_t *out_shape, \
                     size_t cb, size_t ce, size_t rb, size_t re, int32_t zp, DST_T *col) {              \
        (void)zp;                                                                                       \
        size_t ksize = 1, isize = 1;                                                                    \
        for (size_t d = 0; d < rank; d++) { ksize *= kernel[d]; isize *= in_shape[d]; }                \
        const size_t ld = ce - cb;                                                                      \
        size_t kidx[8], oidx[8];                                                                        \
        for (size_t r = rb; r < re; r++) {                                                              \
            const size_t c = r / ksize;                                                                 \
            size_t rem = r % ksize;                                                                     \
            for (size_t d = rank; d-- > 0;) { kidx[d] = rem % kernel[d]; rem /= kernel[d]; }            \
            const SRC_T *img = x + c * isize;                                                           \
            DST_T *out = col + (r - rb) * ld;                                                           \
            rem = cb;                                                                                   \
            for (size_t d = rank; d-- > 0;) { oidx[d] = rem % out_shape[d]; rem /= out_shape[d]; }      \
            for (size_t p = cb; p < ce; p++) {                                                          \
                size_t off = 0;                                                                         \
                int inside = 1;                                                                         \
                for (size_t d = 0; d < rank; d++) {                                                     \
                    const ptrdiff_t i = (ptrdiff_t)(oidx[d] * strides[d] + kidx[d] * dil[d]) - (ptrdiff_t)pads[d]; \
                    if (i < 0 || i >= (ptrdiff_t)in_shape[d]) { inside = 0; break; }                    \
                    off = off * in_shape[d] + (size_t)i;                                                \
                }                                                                                       \
                out[p - cb] = inside ? CONV(img[off], zp) : (DST_T)PAD(zp);                             \
                for (size_t d = rank; d-- > 0;) {                                                       \
                    if (++oidx[d] < out_shape[d]) break;                                                \
                    oidx[d] = 0;                                                                        \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

/* An image and the window it is read through: what an im2col reads besides the rows it writes. The
 * columns are output positions [col_begin, col_end) (flattened); zp is what the body's CONV and PAD
 * take. */
struct im2col_geometry {
    const void *x;
    int32_t zp;
    size_t rank;
    const size_t *in_shape, *kernel, *strides, *dilations, *pads_begin, *out_shape;
    size_t col_begin, col_end;
};

/* Rows [rb, re) of the im2col matrix into col, col_end - col_begin elements per row. */
typedef void (*im2col_rows_fn)(const struct im2col_geometry *g, size_t rb, size_t re, void *col);

/* An im2col_rows_fn over the 2-D body (rank 2) and the N-d one (any other rank). */
#define DEFINE_IM2COL_ROWS(NAME, BODY_2D, BODY_ND, SRC_T)                                               \
    static void NAME(const struct im2col_geometry *g, size_t rb, size_t re, void *col) {               \
        const SRC_T *x = g->x;                                                                          \
        if (g->rank == 2)                                                                               \
            BODY_2D(x, g->in_shape[0], g->in_shape[1], g->kernel[0], g->kernel[1], g->strides[0],       \
                    g->strides[1], g->dilations[0], g->dilations[1], g->pads_begin[0], g->pads_begin[1], \
                    g->out_shape[1], g->col_begin, g->col_end, rb, re, g->zp, col);                    \
        else                                                                                            \
            BODY_ND(x, g->rank, g->in_shape, g->kernel, g->strides, g->dilations, g->pads_begin,       \
                    g->out_shape, g->col_begin, g->col_end, rb, re, g->zp, col);                        \
    }

/* im2col of one image and one group (channels x the kernel's taps rows) straight into B's packed
 * panels, `group` rows a step (one float, an int16 pair, a byte quad), k padded with zero rows to
 * whole steps; rows is scratch for `group` rows of elem_size-byte elements. */
static inline void im2col_pack(const struct im2col_geometry *g, size_t channels, size_t group, size_t elem_size,
                               im2col_rows_fn fill, pack_step_fn pack, void *rows, void *packed) {
    size_t ksize = 1;
    for (size_t d = 0; d < g->rank; d++) ksize *= g->kernel[d];
    const size_t k = channels * ksize, steps = (k + group - 1) / group, n = g->col_end - g->col_begin;
    for (size_t q = 0; q < steps; q++) {
        const size_t rb = q * group, re = rb + group < k ? rb + group : k;
        if (re - rb < group) memset((unsigned char *)rows + (re - rb) * n * elem_size, 0, (group - (re - rb)) * n * elem_size);
        fill(g, rb, re, rows);
        pack(rows, n, n, steps * group, q, packed);
    }
}

#endif
