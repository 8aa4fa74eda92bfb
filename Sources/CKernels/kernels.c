/* Ferry's C micro-kernels (see ferry_kernels.h). Bodies are written once as macros and compiled
 * twice: portable, and for AVX2/FMA where the compiler vectorises them with wider registers. */
#include "ferry_kernels.h"
#include "cpu.h"
#include "conv_loops.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The process-wide limit from FERRY_ISA, read once (-2: not read yet). */
static int env_isa = -2;
static int env_isa_bad = 0;

static int process_isa(void) {
    int isa = __atomic_load_n(&env_isa, __ATOMIC_ACQUIRE);
    if (isa == -2) {
        const char *e = getenv("FERRY_ISA");
        isa = FERRY_ISA_BEST;
        if (e && *e) {
            if (strcmp(e, "portable") == 0) isa = FERRY_ISA_PORTABLE;
            else if (strcmp(e, "avx2") == 0) isa = FERRY_ISA_AVX2;
            else if (strcmp(e, "best") != 0) __atomic_store_n(&env_isa_bad, 1, __ATOMIC_RELEASE);
        }
        __atomic_store_n(&env_isa, isa, __ATOMIC_RELEASE);
    }
    return isa;
}

/* Set by ferry_kernels_limit_isa on one thread; FERRY_ISA_DEFAULT follows the process. */
static _Thread_local int thread_isa = FERRY_ISA_DEFAULT;

void ferry_kernels_limit_isa(int isa) { thread_isa = isa; }

static int isa_limit(void) { return thread_isa == FERRY_ISA_DEFAULT ? process_isa() : thread_isa; }

int ferry_isa_env_invalid(void) {
    (void)process_isa();
    return __atomic_load_n(&env_isa_bad, __ATOMIC_ACQUIRE);
}

/* The CPU's features, checked once: bit 0 AVX2 and FMA, bit 1 AVX-512 VNNI with F, BW and VL, bit 2
 * AVX-512 VBMI with F and BW. */
static int cpu_features(void) {
#if FERRY_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        const int vnni = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
                         __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
        const int vbmi = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512f") &&
                         __builtin_cpu_supports("avx512bw");
        cached = avx2 | (avx2 && vnni) << 1 | (avx2 && vbmi) << 2;
    }
    return cached;
#else
    return 0;
#endif
}

int ferry_has_avx2(void) { return (cpu_features() & 1) && isa_limit() != FERRY_ISA_PORTABLE; }

int ferry_has_vnni(void) { return (cpu_features() & 2) && isa_limit() == FERRY_ISA_BEST; }

int ferry_has_vbmi(void) { return (cpu_features() & 4) && isa_limit() == FERRY_ISA_BEST; }

const char *ferry_isa_active_name(void) { return ferry_has_vnni() ? "avx512-vnni" : ferry_has_avx2() ? "avx2" : "portable"; }

#if FERRY_X86
/* 64 lookups per step: two 128-byte halves of the table by vpermi2b, the index's top bit choosing. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void byte_lookup_vbmi(const uint8_t *x, size_t n,
                                                                                  const uint8_t *table, uint8_t *y) {
    const __m512i t0 = _mm512_loadu_si512((const void *)table), t1 = _mm512_loadu_si512((const void *)(table + 64));
    const __m512i t2 = _mm512_loadu_si512((const void *)(table + 128)), t3 = _mm512_loadu_si512((const void *)(table + 192));
    for (size_t i = 0; i < n; i += 64) {
        const __mmask64 m = n - i >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (n - i)) - 1);
        const __m512i idx = _mm512_maskz_loadu_epi8(m, x + i);
        const __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1), hi = _mm512_permutex2var_epi8(t2, idx, t3);
        _mm512_mask_storeu_epi8(y + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi));
    }
}
#endif

void ferry_byte_lookup(const uint8_t *x, size_t n, const uint8_t *table, uint8_t *y) {
#if FERRY_X86
    if (ferry_has_vbmi()) {
        byte_lookup_vbmi(x, n, table, y);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) y[i] = table[x[i]];
}

static inline float act_apply(float v, int act, float a, float b) {
    switch (act) {
    case FERRY_ACT_RELU: return v > 0.f ? v : 0.f;
    case FERRY_ACT_CLIP: return v < a ? a : (v > b ? b : v);
    case FERRY_ACT_SIGMOID: return 1.f / (1.f + expf(-v));
    case FERRY_ACT_HARDSWISH: { float t = v / 6.f + 0.5f; t = t < 0.f ? 0.f : (t > 1.f ? 1.f : t); return v * t; }
    case FERRY_ACT_LEAKYRELU: return v < 0.f ? a * v : v;
    case FERRY_ACT_HARDSIGMOID: { float t = a * v + b; return t < 0.f ? 0.f : (t > 1.f ? 1.f : t); }
    default: return v;
    }
}

/* The activation loop over one contiguous row, specialised per activation so each loop vectorises. */
#define ACT_ROW_BODY                                                                    \
    switch (act) {                                                                      \
    case FERRY_ACT_NONE:                                                                \
        for (size_t p = 0; p < n; p++) row[p] = row[p] * s + bb;                         \
        break;                                                                          \
    case FERRY_ACT_RELU:                                                                \
        for (size_t p = 0; p < n; p++) { float v = row[p] * s + bb; row[p] = v > 0.f ? v : 0.f; } \
        break;                                                                          \
    case FERRY_ACT_CLIP:                                                                \
        for (size_t p = 0; p < n; p++) {                                                \
            float v = row[p] * s + bb; v = v < a ? a : v; row[p] = v > b ? b : v;       \
        }                                                                               \
        break;                                                                          \
    case FERRY_ACT_HARDSWISH:                                                           \
        for (size_t p = 0; p < n; p++) {                                                \
            float v = row[p] * s + bb; float t = v * (1.f / 6.f) + 0.5f;               \
            t = t < 0.f ? 0.f : t; t = t > 1.f ? 1.f : t; row[p] = v * t;               \
        }                                                                               \
        break;                                                                          \
    case FERRY_ACT_LEAKYRELU:                                                           \
        for (size_t p = 0; p < n; p++) { float v = row[p] * s + bb; row[p] = v < 0.f ? a * v : v; } \
        break;                                                                          \
    case FERRY_ACT_HARDSIGMOID:                                                         \
        for (size_t p = 0; p < n; p++) {                                                \
            float t = a * (row[p] * s + bb) + b; t = t < 0.f ? 0.f : t; row[p] = t > 1.f ? 1.f : t; \
        }                                                                               \
        break;                                                                          \
    default:                                                                            \
        for (size_t p = 0; p < n; p++) row[p] = act_apply(row[p] * s + bb, act, a, b);  \
    }

#define DEFINE_SCALE_BIAS_ACT(NAME, ATTR)                                               \
    ATTR static void NAME(float *y, size_t rows, size_t n, size_t ldy, const float *scale, \
                          const float *bias, int act, float a, float b) {               \
        for (size_t m = 0; m < rows; m++) {                                             \
            float *row = y + m * ldy;                                                   \
            const float s = scale ? scale[m] : 1.f, bb = bias ? bias[m] : 0.f;          \
            ACT_ROW_BODY                                                                \
        }                                                                               \
    }

DEFINE_SCALE_BIAS_ACT(sba_portable, )
#if FERRY_X86
DEFINE_SCALE_BIAS_ACT(sba_avx2, FERRY_AVX2_ATTR)
#endif

void ferry_scale_bias_act(float *y, size_t rows, size_t cols, size_t ldy, const float *scale, const float *bias,
                          int act, float a, float b) {
    if (!scale && !bias && act == FERRY_ACT_NONE) return;
#if FERRY_X86
    if (ferry_has_avx2()) { sba_avx2(y, rows, cols, ldy, scale, bias, act, a, b); return; }
#endif
    sba_portable(y, rows, cols, ldy, scale, bias, act, a, b);
}

DEFINE_IM2COL_2D(im2col_2d_f32, float, float, IM2COL_SAME, IM2COL_PAD_ZERO)
DEFINE_IM2COL_ND(im2col_nd_f32, float, float, IM2COL_SAME, IM2COL_PAD_ZERO)

void ferry_im2col_2d(const float *x, size_t channels, size_t h, size_t w,
                     size_t kh, size_t kw, size_t sh, size_t sw,
                     size_t dh, size_t dw, size_t pt, size_t pl,
                     size_t oh, size_t ow, size_t cb, size_t ce,
                     size_t rb, size_t re, float *col) {
    (void)channels; (void)oh;
    im2col_2d_f32(x, h, w, kh, kw, sh, sw, dh, dw, pt, pl, ow, cb, ce, rb, re, 0, col);
}

void ferry_im2col_nd(const float *x, size_t channels, size_t rank, const size_t *in_shape,
                     const size_t *kernel, const size_t *strides, const size_t *dil,
                     const size_t *pads, const size_t *out_shape,
                     size_t cb, size_t ce, size_t rb, size_t re, float *col) {
    (void)channels;
    im2col_nd_f32(x, rank, in_shape, kernel, strides, dil, pads, out_shape, cb, ce, rb, re, 0, col);
}

void ferry_col2im_nd(const float *col, size_t channels, size_t rank, const size_t *in_shape,
                     const size_t *kernel, const size_t *strides, const size_t *dil,
                     const size_t *pads, const size_t *out_shape, float *y) {
    size_t ksize = 1, isize = 1, osize = 1;
    for (size_t d = 0; d < rank; d++) { ksize *= kernel[d]; isize *= in_shape[d]; osize *= out_shape[d]; }
    size_t kidx[8], oidx[8];
    for (size_t r = 0; r < channels * ksize; r++) {
        const size_t c = r / ksize;
        size_t rem = r % ksize;
        for (size_t d = rank; d-- > 0;) { kidx[d] = rem % kernel[d]; rem /= kernel[d]; }
        float *img = y + c * isize;
        const float *src = col + r * osize;
        for (size_t d = 0; d < rank; d++) oidx[d] = 0;
        for (size_t p = 0; p < osize; p++) {
            size_t off = 0;
            int inside = 1;
            for (size_t d = 0; d < rank; d++) {
                const ptrdiff_t i = (ptrdiff_t)(oidx[d] * strides[d] + kidx[d] * dil[d]) - (ptrdiff_t)pads[d];
                if (i < 0 || i >= (ptrdiff_t)in_shape[d]) { inside = 0; break; }
                off = off * in_shape[d] + (size_t)i;
            }
            if (inside) img[off] += src[p];
            for (size_t d = rank; d-- > 0;) {
                if (++oidx[d] < out_shape[d]) break;
                oidx[d] = 0;
            }
        }
    }
}

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

void ferry_transpose_2d_f32(const float *in, float *out, size_t rows, size_t cols) {
    const size_t B = 32;
    for (size_t i0 = 0; i0 < rows; i0 += B)
        for (size_t j0 = 0; j0 < cols; j0 += B) {
            const size_t i1 = i0 + B < rows ? i0 + B : rows, j1 = j0 + B < cols ? j0 + B : cols;
            for (size_t i = i0; i < i1; i++)
                for (size_t j = j0; j < j1; j++) out[j * rows + i] = in[i * cols + j];
        }
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
                        } else if (sw == 1) {                                                            \
                            for (size_t ox = lo; ox < hi; ox++) { const float v = src[ox]; orow[ox] = v > orow[ox] ? v : orow[ox]; } \
                        } else if (sw == 2) {                                                            \
                            for (size_t ox = lo; ox < hi; ox++) { const float v = src[2 * ox]; orow[ox] = v > orow[ox] ? v : orow[ox]; } \
                        } else {                                                                         \
                            for (size_t ox = lo; ox < hi; ox++) { const float v = src[ox * sw]; orow[ox] = v > orow[ox] ? v : orow[ox]; } \
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

void ferry_pool_2d(const float *x, float *y, size_t p_begin, size_t p_end, size_t h, size_t w,
                   size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw,
                   size_t pt, size_t pl, size_t pb, size_t pr, size_t oh, size_t ow, int average, int count_include_pad) {
    float stack[512];
    float *divisor = ow <= 512 ? stack : (float *)malloc(ow * sizeof(float));
    if (!divisor) return;
#if FERRY_X86
    if (ferry_has_avx2())
        pool2d_avx2(x, y, p_begin, p_end, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow, average, count_include_pad, divisor);
    else
#endif
        pool2d_portable(x, y, p_begin, p_end, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow, average, count_include_pad, divisor);
    if (divisor != stack) free(divisor);
}
