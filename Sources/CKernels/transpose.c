/* The float matrix transpose (see ferry_kernels.h): 8x8 blocks through vector shuffles
 * (transpose8.h), the edges element by element; compiled portable and for AVX2. */
#include "ferry_kernels.h"
#include "cpu.h"
#include "transpose8.h"

#define DEFINE_TRANSPOSE(NAME, ATTR)                                                                    \
    typedef float NAME##_v8 __attribute__((vector_size(32), aligned(4)));                              \
    DEFINE_TRANSPOSE8(NAME##_block, ATTR, NAME##_v8)                                                    \
    ATTR static void NAME(const float *x, size_t ldx, float *y, size_t ldy, size_t rows, size_t cols) {  \
        size_t i = 0;                                                                                   \
        for (; i + 8 <= rows; i += 8) {                                                                 \
            size_t j = 0;                                                                               \
            for (; j + 8 <= cols; j += 8) {                                                             \
                NAME##_v8 r[8];                                                                         \
                for (int k = 0; k < 8; k++) r[k] = *(const NAME##_v8 *)(x + (i + k) * ldx + j);        \
                NAME##_block(r);                                                                        \
                for (int k = 0; k < 8; k++) *(NAME##_v8 *)(y + (j + k) * ldy + i) = r[k];              \
            }                                                                                           \
            for (; j < cols; j++)                                                                       \
                for (size_t k = i; k < i + 8; k++) y[j * ldy + k] = x[k * ldx + j];                     \
        }                                                                                               \
        for (; i < rows; i++)                                                                           \
            for (size_t j = 0; j < cols; j++) y[j * ldy + i] = x[i * ldx + j];                          \
    }

DEFINE_TRANSPOSE(transpose_portable, )
#if FERRY_X86
DEFINE_TRANSPOSE(transpose_avx2, FERRY_AVX2_ATTR)
#endif

void ferry_transpose_f32(const float *x, size_t ldx, float *y, size_t ldy, size_t rows, size_t cols) {
#if FERRY_X86
    if (ferry_has_avx2()) {
        transpose_avx2(x, ldx, y, ldy, rows, cols);
        return;
    }
#endif
    transpose_portable(x, ldx, y, ldy, rows, cols);
}
