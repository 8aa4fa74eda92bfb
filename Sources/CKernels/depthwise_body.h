/* The float depthwise convolution's body, written once over 8-float vectors and compiled per
 * instruction set by depthwise.c, which defines before each inclusion:
 *   DW(name)  the name of this compilation's copy of a function,
 *   DW_ATTR   its target attribute.
 * No header guard: included several times (it undefines both at its end).
 *
 * Eight channels go through together, one per vector lane: a strip of their input rows is copied
 * into a zero-padded, channel-interleaved buffer (8x8 transposes), every output is then a sum over
 * the taps of whole-vector multiply-adds with no lane wasted whatever the width, stride or
 * dilation, and each finished strip of output rows is activated and transposed back to the channels'
 * planes. Interleaving whole strips (their rows are contiguous in a plane) keeps the scalar tails of
 * the transposes to a few columns even for 7x7 images. */

typedef float DW(v8) __attribute__((vector_size(32), aligned(4)));
#define V DW(v8)

DEFINE_TRANSPOSE8(DW(transpose8), DW_ATTR, V)

/* Interleaves columns [0, n) of the `lanes` channel rows src[l] (l < lanes <= 8) into dst[i][l];
 * lanes past `lanes` are zero. */
DW_ATTR static void DW(interleave)(const float *const src[8], size_t lanes, size_t n, float *dst) {
    size_t i = 0;
    if (lanes == 8)
        for (; i + 8 <= n; i += 8) {
            V r[8];
            for (int l = 0; l < 8; l++) r[l] = *(const V *)(src[l] + i);
            DW(transpose8)(r);
            for (int j = 0; j < 8; j++) *(V *)(dst + (i + j) * 8) = r[j];
        }
    for (; i < n; i++)
        for (size_t l = 0; l < 8; l++) dst[i * 8 + l] = l < lanes ? src[l][i] : 0.f;
}

/* The inverse: columns [0, n) of lanes l < lanes of src[i][l] into the rows dst[l]. */
DW_ATTR static void DW(deinterleave)(const float *src, size_t lanes, size_t n, float *const dst[8]) {
    size_t i = 0;
    if (lanes == 8)
        for (; i + 8 <= n; i += 8) {
            V r[8];
            for (int j = 0; j < 8; j++) r[j] = *(const V *)(src + (i + j) * 8);
            DW(transpose8)(r);
            for (int l = 0; l < 8; l++) *(V *)(dst[l] + i) = r[l];
        }
    for (; i < n; i++)
        for (size_t l = 0; l < lanes; l++) dst[l][i] = src[i * 8 + l];
}

/* J consecutive outputs of one row from column ox: sums over the taps of padded input `in` (rows of
 * g->wpad interleaved columns, the output row's first input row first) times the tap weights. */
#define DW_OUTPUTS(J)                                                                                   \
    DW_ATTR static inline void DW(outputs##J)(const float *in, const float *wt, const float *bias,      \
                                               const struct dw_geometry *g, size_t ox, float *out) {    \
        V acc[J];                                                                                       \
        for (int j = 0; j < J; j++) acc[j] = *(const V *)bias;                                          \
        for (size_t ki = 0; ki < g->kh; ki++) {                                                         \
            const float *row = in + ki * g->dh * g->wpad * 8 + ox * g->sw * 8;                         \
            for (size_t kj = 0; kj < g->kw; kj++, wt += 8) {                                            \
                const V w = *(const V *)wt;                                                             \
                const float *at = row + kj * g->dw * 8;                                                 \
                for (int j = 0; j < J; j++) acc[j] += w * *(const V *)(at + j * g->sw * 8);             \
            }                                                                                           \
        }                                                                                               \
        for (int j = 0; j < J; j++) *(V *)(out + (ox + j) * 8) = acc[j];                                \
    }
DW_OUTPUTS(8)
DW_OUTPUTS(4)
#undef DW_OUTPUTS

/* The same for stride 1 and no dilation along the row with a filter K wide (3 and 5, the common
 * ones): the J + K - 1 input vectors a kernel row needs are loaded once and each serves up to K
 * taps, instead of one load per multiply-add. */
#define DW_OUTPUTS_S1(J, K)                                                                             \
    DW_ATTR static inline void DW(outputs##J##_k##K)(const float *in, const float *wt, const float *bias, \
                                                     const struct dw_geometry *g, size_t ox, float *out) { \
        V acc[J];                                                                                       \
        for (int j = 0; j < J; j++) acc[j] = *(const V *)bias;                                          \
        for (size_t ki = 0; ki < g->kh; ki++, wt += K * 8) {                                            \
            const float *row = in + ki * g->dh * g->wpad * 8 + ox * 8;                                 \
            V xs[J + K - 1];                                                                            \
            for (int i = 0; i < J + K - 1; i++) xs[i] = *(const V *)(row + i * 8);                      \
            for (int kj = 0; kj < K; kj++) {                                                            \
                const V w = *(const V *)(wt + kj * 8);                                                  \
                for (int j = 0; j < J; j++) acc[j] += w * xs[j + kj];                                   \
            }                                                                                           \
        }                                                                                               \
        for (int j = 0; j < J; j++) *(V *)(out + (ox + j) * 8) = acc[j];                                \
    }
DW_OUTPUTS_S1(4, 3)
DW_OUTPUTS_S1(4, 5)
#undef DW_OUTPUTS_S1

/* The outputs left of a strip's rows once whole groups of four have gone: columns [c0, ow) of
 * every row, from the n-th of them (row by row) for n <= 8 of them, one accumulator each, so that
 * narrow rows (7 or 14 outputs) keep eight independent sums in flight and not one or two. Lanes
 * past n repeat the last output and are not stored. */
DW_ATTR static void DW(leftovers)(const float *strip, const float *wt, const float *bias, const struct dw_geometry *g,
                                  size_t c0, size_t first, size_t n, float *out) {
    const size_t width = g->ow - c0;
    size_t at[8], to[8];
    for (size_t j = 0; j < 8; j++) {
        const size_t k = first + (j < n ? j : n - 1), r = k / width, ox = c0 + k % width;
        at[j] = (r * g->sh * g->wpad + ox * g->sw) * 8;
        to[j] = (r * g->ow + ox) * 8;
    }
    V acc[8];
    for (int j = 0; j < 8; j++) acc[j] = *(const V *)bias;
    for (size_t ki = 0; ki < g->kh; ki++) {
        const float *row = strip + ki * g->dh * g->wpad * 8;
        for (size_t kj = 0; kj < g->kw; kj++, wt += 8) {
            const V w = *(const V *)wt;
            const float *tap = row + kj * g->dw * 8;
            for (int j = 0; j < 8; j++) acc[j] += w * *(const V *)(tap + at[j]);
        }
    }
    for (size_t j = 0; j < n; j++) *(V *)(out + to[j]) = acc[j];
}

/* Channels [cb, ce) of one image, eight at a time. */
DW_ATTR static void DW(depthwise)(const float *x, const float *w, const float *bias, float *y, size_t cb, size_t ce,
                                  const struct dw_geometry *g, int act, float a, float b, float *scratch) {
    const size_t plane = g->h * g->wd, oplane = g->oh * g->ow;
    float *const strip = scratch, *const wt = strip + dw_strip_floats(g), *const out = wt + g->kh * g->kw * 8,
                *const stage = out + g->strip * g->ow * 8;
    for (size_t c0 = cb; c0 < ce; c0 += 8) {
        const size_t lanes = ce - c0 < 8 ? ce - c0 : 8;
        /* this group's weights [tap][lane] and bias */
        const float *wsrc[8];
        float *ydst[8];
        for (size_t l = 0; l < 8; l++) {
            const size_t c = c0 + (l < lanes ? l : 0);
            wsrc[l] = w + c * g->kh * g->kw;
            ydst[l] = y + c * oplane;
        }
        DW(interleave)(wsrc, lanes, g->kh * g->kw, wt);
        float bv[8] = {0};
        for (size_t l = 0; l < lanes && bias; l++) bv[l] = bias[c0 + l];
        for (size_t oy0 = 0; oy0 < g->oh; oy0 += g->strip) {
            const size_t rows = g->oh - oy0 < g->strip ? g->oh - oy0 : g->strip;
            const size_t in_rows = (rows - 1) * g->sh + (g->kh - 1) * g->dh + 1;
            /* padded row r of the strip is input row first + r; column u is input column u - pl. Wide
             * rows are interleaved one by one into place; narrow ones (a few vectors, where the
             * transposes' scalar tails would dominate) all at once into `stage` first, as the rows
             * in range are contiguous in each plane, then copied into place. */
            const ptrdiff_t first = (ptrdiff_t)(oy0 * g->sh) - (ptrdiff_t)g->pt;
            const ptrdiff_t lo = first > 0 ? first : 0;
            const ptrdiff_t hi = first + (ptrdiff_t)in_rows < (ptrdiff_t)g->h ? first + (ptrdiff_t)in_rows : (ptrdiff_t)g->h;
            const int staged = g->wd < DW_STAGED_WIDTH;
            const float *src[8];
            for (size_t l = 0; l < 8; l++) src[l] = x + (c0 + (l < lanes ? l : 0)) * plane + (size_t)(lo < hi ? lo : 0) * g->wd;
            if (staged && lo < hi) DW(interleave)(src, lanes, (size_t)(hi - lo) * g->wd, stage);
            const size_t left = g->pl < g->wpad ? g->pl : g->wpad;
            const size_t take = g->wd + g->pl <= g->wpad ? g->wd : g->wpad - left; /* input columns used */
            for (size_t r = 0; r < in_rows; r++) {
                float *row = strip + r * g->wpad * 8;
                const ptrdiff_t iy = first + (ptrdiff_t)r;
                if (iy < lo || iy >= hi) {
                    memset(row, 0, g->wpad * 8 * sizeof(float));
                    continue;
                }
                memset(row, 0, left * 8 * sizeof(float));
                if (staged) {
                    memcpy(row + left * 8, stage + (size_t)(iy - lo) * g->wd * 8, take * 8 * sizeof(float));
                } else {
                    const float *line[8];
                    for (size_t l = 0; l < 8; l++) line[l] = src[l] + (size_t)(iy - lo) * g->wd;
                    DW(interleave)(line, lanes, take, row + left * 8);
                }
                memset(row + (left + take) * 8, 0, (g->wpad - left - take) * 8 * sizeof(float));
            }
            const size_t c0 = g->ow - g->ow % 4;
            for (size_t r = 0; r < rows; r++) {
                const float *in = strip + r * g->sh * g->wpad * 8;
                float *o = out + r * g->ow * 8;
                size_t ox = 0;
                if (g->sw == 1 && g->dw == 1 && g->kw == 3)
                    for (; ox + 4 <= g->ow; ox += 4) DW(outputs4_k3)(in, wt, bv, g, ox, o);
                else if (g->sw == 1 && g->dw == 1 && g->kw == 5)
                    for (; ox + 4 <= g->ow; ox += 4) DW(outputs4_k5)(in, wt, bv, g, ox, o);
                for (; ox + 8 <= g->ow; ox += 8) DW(outputs8)(in, wt, bv, g, ox, o);
                for (; ox + 4 <= g->ow; ox += 4) DW(outputs4)(in, wt, bv, g, ox, o);
            }
            const size_t left_over = rows * (g->ow - c0);
            for (size_t k = 0; k < left_over; k += 8)
                DW(leftovers)(strip, wt, bv, g, c0, k, left_over - k < 8 ? left_over - k : 8, out);
            if (act != FERRY_ACT_NONE) {
                float *row = out;
                const size_t n = rows * g->ow * 8;
                const float s = 1.f, bb = 0.f;
                ACT_ROW_BODY
            }
            /* the strip's output rows are contiguous in each channel's plane too */
            float *dst[8];
            for (size_t l = 0; l < 8; l++) dst[l] = ydst[l] + oy0 * g->ow;
            DW(deinterleave)(out, lanes, rows * g->ow, dst);
        }
    }
}

#undef V
#undef DW
#undef DW_ATTR
