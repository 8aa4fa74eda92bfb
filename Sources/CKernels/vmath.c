/* Vector math over float rows (see ferry_kernels.h): the transcendental functions of the unary ops
 * and of the fused activations, Softmax's rows and LayerNormalization's rows. The bodies are written once (vmath_body.h) over
 * vector types and compiled three times: 128-bit portable vectors, AVX2 + FMA, and AVX-512. */
#include "ferry_kernels.h"
#include "cpu.h"
#include <stddef.h>

#define VM_BYTES 16
#define VM(name) vm_portable_##name
#define VM_ATTR
#define VM_FMA 0
#include "vmath_body.h"

#if FERRY_X86
#define VM_BYTES 32
#define VM(name) vm_avx2_##name
#define VM_ATTR FERRY_AVX2_ATTR
#define VM_FMA 1
#include "vmath_body.h"

#define VM_BYTES 64
#define VM(name) vm_avx512_##name
#define VM_ATTR FERRY_AVX512_ATTR
#define VM_FMA 1
#include "vmath_body.h"
#endif

void ferry_vmath(int fn, const float *x, float *y, size_t n, float alpha) {
#if FERRY_X86
    if (ferry_has_avx512()) { vm_avx512_row(fn, x, y, n, alpha); return; }
    if (ferry_has_avx2()) { vm_avx2_row(fn, x, y, n, alpha); return; }
#endif
    vm_portable_row(fn, x, y, n, alpha);
}

void ferry_softmax_rows(const float *x, float *y, size_t rows, size_t n, int log) {
#if FERRY_X86
    if (ferry_has_avx512()) { vm_avx512_softmax_rows(x, y, rows, n, log); return; }
    if (ferry_has_avx2()) { vm_avx2_softmax_rows(x, y, rows, n, log); return; }
#endif
    vm_portable_softmax_rows(x, y, rows, n, log);
}

void ferry_layer_norm_rows(const float *x, float *y, size_t rows, size_t n, const float *scale, const float *bias,
                           float epsilon, float *mean, float *inv_std_dev) {
#if FERRY_X86
    if (ferry_has_avx512()) { vm_avx512_layer_norm_rows(x, y, rows, n, scale, bias, epsilon, mean, inv_std_dev); return; }
    if (ferry_has_avx2()) { vm_avx2_layer_norm_rows(x, y, rows, n, scale, bias, epsilon, mean, inv_std_dev); return; }
#endif
    vm_portable_layer_norm_rows(x, y, rows, n, scale, bias, epsilon, mean, inv_std_dev);
}
