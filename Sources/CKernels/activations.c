/* y = act(y * scale + bias), or act(y + bias + z) with a residual z, over the rows of a matrix (see
 * ferry_kernels.h): the epilogue of every float convolution and GEMM, and of the int8 kernels' float
 * outputs. Bodies are written once as
 * macros and compiled twice: portable, and for AVX2/FMA where the compiler vectorises them. */
#include "ferry_kernels.h"
#include "activation.h"
#include "cpu.h"

#define DEFINE_SCALE_BIAS_ACT(NAME, ATTR)                                                   \
    ATTR static void NAME(float *y, size_t rows, size_t n, size_t ldy, const float *scale,     \
                          const float *bias, const float *z, size_t ldz, int act, float a, float b) { \
        /* Short contiguous rows (7x7 planes) and a transcendental activation: the rows' scale  \
         * and bias first, then one ferry_vmath call over them all instead of a call per row. */ \
        const int block = rows > 1 && n < 256 && ldy == n && act_vmath_function(act) >= 0;  \
        for (size_t m = 0; m < rows; m++) {                                                 \
            float *row = y + m * ldy;                                                       \
            float s = scale ? scale[m] : 1.f, bb = bias ? bias[m] : 0.f;                    \
            if (z) { /* (y * s + bias) + z, rounded as the unfused Add would, then act */   \
                for (size_t p = 0; p < n; p++) row[p] = (row[p] * s + bb) + z[m * ldz + p]; \
                s = 1.f;                                                                    \
                bb = 0.f;                                                                   \
            }                                                                               \
            if (!block) {                                                                   \
                ACT_ROW_BODY                                                                \
            } else if (s != 1.f || bb != 0.f) {                                             \
                for (size_t p = 0; p < n; p++) row[p] = row[p] * s + bb;                    \
            }                                                                               \
        }                                                                                   \
        if (block) ferry_vmath(act_vmath_function(act), y, y, rows * n, a);                 \
    }

DEFINE_SCALE_BIAS_ACT(sba_portable, )
#if FERRY_X86
DEFINE_SCALE_BIAS_ACT(sba_avx2, FERRY_AVX2_ATTR)
#endif

void ferry_scale_bias_act(float *y, size_t rows, size_t cols, size_t ldy, const float *scale, const float *bias,
                          int act, float a, float b) {
    if (!scale && !bias && act == FERRY_ACT_NONE) return;
#if FERRY_X86
    if (ferry_has_avx2()) { sba_avx2(y, rows, cols, ldy, scale, bias, NULL, 0, act, a, b); return; }
#endif
    sba_portable(y, rows, cols, ldy, scale, bias, NULL, 0, act, a, b);
}

void ferry_bias_residual_act(float *y, size_t rows, size_t cols, size_t ldy, const float *bias, const float *z,
                             size_t ldz, int act, float a, float b) {
#if FERRY_X86
    if (ferry_has_avx2()) { sba_avx2(y, rows, cols, ldy, NULL, bias, z, ldz, act, a, b); return; }
#endif
    sba_portable(y, rows, cols, ldy, NULL, bias, z, ldz, act, a, b);
}
