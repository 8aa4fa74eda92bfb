/* col2im (see ferry_kernels.h): the columns of a transposed convolution added back into its image. */
#include "ferry_kernels.h"
#include <stddef.h>

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
