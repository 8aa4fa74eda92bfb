/* Float binary element-wise arithmetic (see ferry_kernels.h): one loop per operation and operand
 * layout (both contiguous, or one a repeated scalar), written once as macros and compiled portable
 * and for AVX2/FMA, where the compiler vectorises them. */
#include "ferry_kernels.h"
#include "cpu.h"

#define BIN_ADD(x, y) ((x) + (y))
#define BIN_SUB(x, y) ((x) - (y))
#define BIN_MUL(x, y) ((x) * (y))
#define BIN_DIV(x, y) ((x) / (y))
/* ONNX Max and Min: a NaN operand gives NaN (the first one met) */
#define BIN_MAX(x, y) ((x) != (x) ? (x) : ((y) != (y) ? (y) : ((x) > (y) ? (x) : (y))))
#define BIN_MIN(x, y) ((x) != (x) ? (x) : ((y) != (y) ? (y) : ((x) < (y) ? (x) : (y))))

/* y == a (a bias or residual added in place, as the MatMul output pass does) gets its own loop: the
 * compiler's overlap check would send y[i] = OP(a[i], b[i]) to its scalar loop when y is a. */
#define BIN_LOOPS(OP)                                                                                   \
    if (sa == 1 && sb == 1 && y == a)                                                                   \
        for (size_t i = 0; i < n; i++) y[i] = OP(y[i], b[i]);                                           \
    else if (sa == 1 && sb == 1)                                                                        \
        for (size_t i = 0; i < n; i++) y[i] = OP(a[i], b[i]);                                           \
    else if (sa == 1 && sb == 0) {                                                                      \
        const float v = b[0];                                                                           \
        for (size_t i = 0; i < n; i++) y[i] = OP(a[i], v);                                              \
    } else if (sa == 0 && sb == 1) {                                                                    \
        const float v = a[0];                                                                           \
        for (size_t i = 0; i < n; i++) y[i] = OP(v, b[i]);                                              \
    } else                                                                                              \
        for (size_t i = 0; i < n; i++) y[i] = OP(a[i * sa], b[i * sb]);

#define DEFINE_BINARY(NAME, ATTR)                                                                       \
    ATTR static void NAME(int op, const float *a, size_t sa, const float *b, size_t sb, float *y, size_t n) { \
        switch (op) {                                                                                   \
        case FERRY_BIN_ADD: BIN_LOOPS(BIN_ADD) break;                                                   \
        case FERRY_BIN_SUB: BIN_LOOPS(BIN_SUB) break;                                                   \
        case FERRY_BIN_MUL: BIN_LOOPS(BIN_MUL) break;                                                   \
        case FERRY_BIN_DIV: BIN_LOOPS(BIN_DIV) break;                                                   \
        case FERRY_BIN_MAX: BIN_LOOPS(BIN_MAX) break;                                                   \
        case FERRY_BIN_MIN: BIN_LOOPS(BIN_MIN) break;                                                   \
        default: break;                                                                                 \
        }                                                                                               \
    }

DEFINE_BINARY(binary_portable, )
#if FERRY_X86
DEFINE_BINARY(binary_avx2, FERRY_AVX2_ATTR)
#endif

void ferry_binary_f32(int op, const float *a, size_t sa, const float *b, size_t sb, float *y, size_t n) {
#if FERRY_X86
    if (ferry_has_avx2()) {
        binary_avx2(op, a, sa, b, sb, y, n);
        return;
    }
#endif
    binary_portable(op, a, sa, b, sb, y, n);
}
