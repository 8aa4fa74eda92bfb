/* Ferry's C micro-kernels: the hot loops of the interpreter. Each has a portable C version and,
 * where it pays, an AVX2/FMA version chosen at run time by CPU detection. */
#ifndef FERRY_KERNELS_H
#define FERRY_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/* Activations fused into a producer's output pass. */
typedef enum {
    FERRY_ACT_NONE = 0,
    FERRY_ACT_RELU = 1,
    FERRY_ACT_CLIP = 2,       /* min(max(x, a), b) */
    FERRY_ACT_SIGMOID = 3,
    FERRY_ACT_HARDSWISH = 4,  /* x * max(0, min(1, x / 6 + 0.5)) */
    FERRY_ACT_LEAKYRELU = 5,  /* x < 0 ? a * x : x */
    FERRY_ACT_HARDSIGMOID = 6, /* max(0, min(1, a * x + b)) */
    FERRY_ACT_TANH = 7,
    FERRY_ACT_SWISH = 8,       /* x * sigmoid(a * x) (SiLU when a is 1) */
    FERRY_ACT_GELU = 9,        /* x / 2 * (1 + erf(x / sqrt 2)) */
    FERRY_ACT_GELU_TANH = 10   /* x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))) */
} ferry_activation;

/* The functions of ferry_vmath. */
typedef enum {
    FERRY_VM_EXP,
    FERRY_VM_LOG,
    FERRY_VM_SIGMOID,
    FERRY_VM_TANH,
    FERRY_VM_ERF,
    FERRY_VM_GELU,      /* erf form */
    FERRY_VM_GELU_TANH, /* tanh form */
    FERRY_VM_SWISH,     /* x * sigmoid(alpha * x) */
    FERRY_VM_SOFTPLUS,
    FERRY_VM_SQRT,
    FERRY_VM_RECIPROCAL
} ferry_vmath_function;

/* y[i] = fn(x[i]) for i < n, on the widest vectors the CPU has (x == y allowed); alpha is Swish's.
 * Accuracy: exp, log, sigmoid, tanh and softplus within 4 ulp of the exact value where that is a
 * normal float, Swish where sigmoid(alpha * x) is (alpha * x > -87.3); erf within 1e-6 absolute, the
 * GELUs too for |x| <= 8 (beyond, float spacing alone exceeds it); sqrt and reciprocal correctly
 * rounded. Inputs beyond the ranges give the limits (0, 1, -1, +-inf); NaN gives NaN. */
void ferry_vmath(int fn, const float *x, float *y, size_t n, float alpha);

/* y[j * ldy + i] = x[i * ldx + j] for i < rows, j < cols (x and y must not overlap). */
void ferry_transpose_f32(const float *x, size_t ldx, float *y, size_t ldy, size_t rows, size_t cols);

/* Softmax (log 0) or LogSoftmax (log 1) of each of `rows` contiguous rows of n > 0 floats, x to y
 * (x == y allowed): exp(x - max) over the sum of those, or (x - max) - log(sum); a NaN anywhere in a
 * row makes the whole row NaN. The exponentials are ferry_vmath's, except that those below the
 * smallest normal float (x - max < -87.34) count as 0. */
void ferry_softmax_rows(const float *x, float *y, size_t rows, size_t n, int log);

/* LayerNormalization of each of `rows` contiguous rows of n > 0 floats, x to y (x == y allowed):
 * (x - mean) / sqrt(variance + epsilon) * scale[i] + bias[i] (bias may be NULL), the moments of the
 * row computed in float in two passes (mean, then squared deviations from it); each row's mean and
 * 1 / sqrt(variance + epsilon) are stored in mean[r] and inv_std_dev[r] when those are not NULL. */
void ferry_layer_norm_rows(const float *x, float *y, size_t rows, size_t n, const float *scale, const float *bias,
                           float epsilon, float *mean, float *inv_std_dev);

/* y[m * ldy + p] = act(y[m * ldy + p] * (scale ? scale[m] : 1) + (bias ? bias[m] : 0)) for m < rows, p < cols. */
void ferry_scale_bias_act(float *y, size_t rows, size_t cols, size_t ldy, const float *scale, const float *bias,
                          int act, float a, float b);

/* y[m * ldy + p] = act(y[m * ldy + p] + (bias ? bias[m] : 0) + z[m * ldz + p]) for m < rows, p < cols: a
 * residual tensor z (an Add fused into a convolution) joins the bias before the activation. */
void ferry_bias_residual_act(float *y, size_t rows, size_t cols, size_t ldy, const float *bias, const float *z,
                             size_t ldz, int act, float a, float b);

/* N-d col2im (adds col into y, which must be initialised): the inverse of im2col over all columns
 * (rows channel x kernel taps, columns the output grid), used by ConvTranspose. in_shape is the
 * image (y) shape, out_shape the column grid. */
void ferry_col2im_nd(const float *col, size_t channels, size_t rank, const size_t *in_shape,
                     const size_t *kernel, const size_t *strides, const size_t *dilations,
                     const size_t *pads_begin, const size_t *out_shape, float *y);

/* Depthwise 2-D convolution of channels [c_begin, c_end) of one image: every channel convolved with
 * its own kh x kw filter (w is [channels][kh][kw]), any stride, dilation and padding; bias/activation
 * fused. scratch holds ferry_depthwise_2d_scratch(...) floats; channels go eight at a time, so ranges
 * that start at multiples of 8 waste no vector lanes. */
size_t ferry_depthwise_2d_scratch(size_t wd, size_t kh, size_t kw, size_t stride_h, size_t stride_w, size_t dil_h,
                                  size_t dil_w, size_t oh, size_t ow);
void ferry_depthwise_2d(const float *x, const float *w, const float *bias, float *y,
                        size_t c_begin, size_t c_end, size_t h, size_t wd,
                        size_t kh, size_t kw, size_t stride_h, size_t stride_w,
                        size_t dil_h, size_t dil_w, size_t pad_top, size_t pad_left,
                        size_t oh, size_t ow, int act, float a, float b, float *scratch);

/* Ferry's SGEMM (sgemm.c). A is packed once (ferry_sgemm_pack_a: m x k, or k x m when trans) into
 * ferry_sgemm_packed_a_size(m, k) floats. Bitwise equal rows of A give bitwise equal rows of C. */
size_t ferry_sgemm_packed_a_size(size_t m, size_t k);
void ferry_sgemm_pack_a(const float *a, size_t lda, int trans, size_t m, size_t k, float *packed);

/* B packed whole (all k rows) in NR-column panels: ferry_sgemm_packed_b_size(n, k) floats, from a
 * row-major matrix (ferry_pack_b_panels) or straight from an image by im2col (ferry_im2col_packed,
 * columns [col_begin, col_end) of the output grid; row is scratch for col_end - col_begin floats). */
size_t ferry_sgemm_packed_b_size(size_t n, size_t k);
void ferry_pack_b_panels(const float *b, size_t ldb, size_t k, size_t n, float *packed);
void ferry_im2col_packed(const float *x, size_t channels, size_t rank, const size_t *in_shape,
                         const size_t *kernel, const size_t *strides, const size_t *dilations,
                         const size_t *pads_begin, const size_t *out_shape,
                         size_t col_begin, size_t col_end, float *packed, float *row);
/* C[m x n] = packed A * packed B (both from the functions above), K in blocks of FERRY_SGEMM_DEPTH_BLOCK
 * steps: only one block of a packed B's rows needs to stay in cache. */
enum { FERRY_SGEMM_DEPTH_BLOCK = 256 };
void ferry_sgemm_prepacked(size_t m, size_t n, size_t k, const float *packed_a, const float *packed_b,
                           float *c, size_t ldc);

/* Float binary arithmetic: y[i] = a[i * sa] op b[i * sb] for i < n (strides 1, or 0 for a repeated
 * scalar; any other stride works, unvectorised). Max and Min give NaN when an operand is NaN. */
typedef enum { FERRY_BIN_ADD, FERRY_BIN_SUB, FERRY_BIN_MUL, FERRY_BIN_DIV, FERRY_BIN_MAX, FERRY_BIN_MIN } ferry_binary_op;
void ferry_binary_f32(int op, const float *a, size_t sa, const float *b, size_t sb, float *y, size_t n);

/* A constant right-hand matrix (a layer's weights) packed once into the panels of B: W is k x n, or
 * n x k when trans (Gemm's transB, recurrent weights); ferry_sgemm_packed_b_size(n, k) floats. */
void ferry_sgemm_pack_b(const float *w, size_t ldw, int trans, size_t k, size_t n, float *packed);
/* Columns [col_begin, col_end) of C[m x n] = A[m x k] (row-major, lda) * B packed by
 * ferry_sgemm_pack_b, added to C when accumulate; col_begin a multiple of 16, so threads can share
 * the columns. Up to 4 rows of A are read in place (a matrix-vector product for one row); more are
 * packed into scratch, ferry_sgemm_packed_b_scratch(m, k) floats (NULL will do when that is 0). */
size_t ferry_sgemm_packed_b_scratch(size_t m, size_t k);
void ferry_sgemm_packed_b(size_t m, size_t k, const float *a, size_t lda, const float *packed_b, size_t col_begin,
                          size_t col_end, float *c, size_t ldc, int accumulate, float *scratch);

/* 2-D max (average = 0) or average pooling of planes [p_begin, p_end) of x (each h x w) into y
 * (each oh x ow); pads are top, left, bottom, right. Average divides by the taps inside the input, or
 * with count_include_pad by the taps inside the padded input. */
void ferry_pool_2d(const float *x, float *y, size_t p_begin, size_t p_end, size_t h, size_t w,
                   size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw,
                   size_t pt, size_t pl, size_t pb, size_t pr, size_t oh, size_t ow, int average, int count_include_pad);
/* 2-D max pooling of uint8 (is_signed 0) or int8 planes [p_begin, p_end) with ferry_pool_2d's
 * geometry; a window with no tap inside the input gives `empty`. */
void ferry_max_pool_2d_bytes(const void *x, void *y, int is_signed, int32_t empty, size_t p_begin, size_t p_end, size_t h,
                             size_t w, size_t kh, size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, size_t pt, size_t pl,
                             size_t oh, size_t ow);

/* C[m x n] = packed A * B with B's row r read in place at base + offsets[r] (columns j < n rounded up
 * to 16 must be readable, and offsets[k .. k + FERRY_SHIFTED_AHEAD - 1]): a stride-1 convolution
 * over zero-padded planes, whose im2col rows are the planes shifted by each tap's offset, without
 * the im2col copy. Gives the same numbers as packing B. */
enum { FERRY_SHIFTED_AHEAD = 8 /* offsets past the last read (fetched ahead; any readable row) */ };
void ferry_sgemm_shifted(size_t m, size_t n, size_t k, const float *packed_a, const float *base,
                         const ptrdiff_t *offsets, float *c, size_t ldc);

/* C[m x n] = packed A * B with B read in place from a row-major matrix (for 1x1 convolutions with few
 * output channels, where packing B would cost as much as the product); tail is scratch for 16 * k
 * floats. Gives the same numbers as packing B first. */
void ferry_sgemm_rows(size_t m, size_t n, size_t k, const float *packed_a, const float *b, size_t ldb,
                      float *c, size_t ldc, float *tail);

/* Runs fn(ctx, i) for i in [0, count) on up to `threads` threads (the caller and pooled workers
 * that spin briefly between jobs before sleeping); returns when all are done. */
typedef void (*ferry_task_fn)(void *ctx, size_t index);
void ferry_parallel_for(size_t count, size_t threads, ferry_task_fn fn, void *ctx);


/* ---- int8 (GEMM qgemm.c, output passes requantize.c, depthwise qdepthwise.c, elementwise
 * qelementwise.c) ----------------------------------------------------------------------------
 * Exact integer GEMM for quantized Conv/MatMul: C[m x n] (int32) = sum_k (A[m,k] - za[m]) * (B[k,n] - zb).
 * A (weights, m x k, int8 or uint8, one zero point per row) is packed once at plan time; B (activations,
 * k x n, uint8 or int8, one zero point) is packed per call, from a row-major matrix or straight from
 * an image by im2col (padding reads as zb, i.e. as real zero). Both are packed as int16 with the zero
 * points already subtracted, k rounded up to even (B in 16-column panels, A in 6-row panels), so the
 * sums are exact for any operands and zero points of the operands' types (int32 wraps only past
 * k = 33025 with extreme values). Packed buffers are 64-byte aligned by the caller; their sizes are
 * in bytes. AVX2 where the CPU has it (the GEMM tile with AVX-512 VNNI's vpdpwssd where it also has
 * that), portable C elsewhere, same results bit for bit. Every
 * function only writes its outputs (no shared scratch), so calls on disjoint outputs may run
 * concurrently. */
size_t ferry_qgemm_packed_a_size(size_t m, size_t k);
/* zero_points: m values (NULL: all 0). */
void ferry_qgemm_pack_a(const void *a, int a_signed, size_t lda, size_t m, size_t k,
                        const int32_t *zero_points, void *packed);
size_t ferry_qgemm_packed_b_size(size_t n, size_t k);
void ferry_qgemm_pack_b(const void *b, int b_signed, size_t ldb, size_t k, size_t n, int32_t zero_point, void *packed);
/* im2col of one image and one group (channels x in_shape, any rank up to 8), columns [col_begin,
 * col_end) of the output grid, into B's packed layout (k = channels * prod(kernel)); row is scratch
 * for 4 * (col_end - col_begin) bytes (two int16 rows). */
void ferry_qim2col_packed(const void *x, int x_signed, int32_t zero_point, size_t channels, size_t rank,
                          const size_t *in_shape, const size_t *kernel, const size_t *strides,
                          const size_t *dilations, const size_t *pads_begin, const size_t *out_shape,
                          size_t col_begin, size_t col_end, void *packed, void *row);
void ferry_qgemm_prepacked(size_t m, size_t n, size_t k, const void *packed_a, const void *packed_b,
                           int32_t *c, size_t ldc);
/* Rows per panel of a packed A (both layouts): row ranges given to the matrix-vector products start
 * at a multiple of it. */
enum { FERRY_QGEMM_PANEL_ROWS = 6 };
/* Matrix-vector product with a packed A (n = 1, no packed B): c[i] = sum_k (a[i][k] - za[i]) *
 * (x[k] - x_zero_point) for rows [row_begin, row_end) of m, row_begin a multiple of
 * FERRY_QGEMM_PANEL_ROWS; x holds k int8 (x_signed) or uint8 values; scratch holds 2 * k + 4 bytes
 * (4-byte aligned). Streams A once, so a batch-1 fully connected layer runs at memory speed instead
 * of using one column of a 16-column tile. */
void ferry_qgemv_prepacked(size_t m, size_t k, const void *packed_a, const void *x, int x_signed, int32_t x_zero_point,
                           size_t row_begin, size_t row_end, int32_t *c, void *scratch);

/* ---- byte GEMM (qgemm_bytes.c) --------------------------------------------------------------
 * The same exact sums as ferry_qgemm_prepacked, bit for bit, for int8 A whose zero points are all 0
 * (symmetric weights): A packed as int8 with its row sums, B as uint8 (int8 B shifted by 128) with
 * the zero point left in, four k per 32-bit lane for AVX-512 VNNI's vpdpbusd, the zero point taken
 * out afterwards (sum (b - zb) a = sum b a - zb * rowsum a). Worth it only where
 * ferry_qgemm_bytes_suits(A): the CPU has AVX-512 VNNI, or AVX2 and every weight lies in
 * [-64, 64] (vpmaddubsw's pair sums cannot saturate then); elsewhere a portable tile gives the same
 * results slowly. B's zero point must be a value of its type (im2col pads with it). Packed A holds
 * its row sums and whether it fits 7 bits, so packed A of one path is not usable by the other. */
int ferry_qgemm_bytes_suits(const int8_t *a, size_t lda, size_t m, size_t k);
size_t ferry_qgemm_bytes_packed_a_size(size_t m, size_t k);
void ferry_qgemm_bytes_pack_a(const int8_t *a, size_t lda, size_t m, size_t k, void *packed);
size_t ferry_qgemm_bytes_packed_b_size(size_t n, size_t k);
void ferry_qgemm_bytes_pack_b(const void *b, int b_signed, size_t ldb, size_t k, size_t n, void *packed);
/* ferry_qgemv_prepacked for an A packed in the byte layout. */
void ferry_qgemv_bytes_prepacked(size_t m, size_t k, const void *packed_a, const void *x, int x_signed,
                                 int32_t x_zero_point, size_t row_begin, size_t row_end, int32_t *c, void *scratch);
/* As ferry_qim2col_packed into the byte layout; row is scratch for 4 * (col_end - col_begin) bytes. */
void ferry_qim2col_bytes_packed(const void *x, int x_signed, int32_t zero_point, size_t channels, size_t rank,
                                const size_t *in_shape, const size_t *kernel, const size_t *strides,
                                const size_t *dilations, const size_t *pads_begin, const size_t *out_shape,
                                size_t col_begin, size_t col_end, void *packed, void *row);
void ferry_qgemm_bytes_prepacked(size_t m, size_t n, size_t k, const void *packed_a, const void *packed_b, int b_signed,
                                 int32_t b_zero_point, int32_t *c, size_t ldc);

/* ---- direct int8 convolution (qconv_direct.c) ----------------------------------------------
 * 2-D convolution of one image with one group, no im2col, for int8 weights whose zero points are all
 * 0 and uint8 or int8 activations, requantized as ferry_requantize does (same numbers as the GEMM
 * path and its output pass). Runs only where ferry_qconv_direct_available() (AVX-512 VNNI); elsewhere
 * ferry_qconv_direct does nothing. Weights (w: [m][c][taps] int8, ONNX's layout) are packed once into
 * ferry_qconv_direct_packed_w_size bytes. The input (x: [c][plane], plane = h * w) is first copied
 * channels-last into ferry_qconv_direct_input_size bytes, pixels [p_begin, p_end) per call (the call
 * that reaches p_end = plane also writes the zero point row that padding reads). ferry_qconv_direct
 * then writes output pixels [p_begin, p_end) of all m channels of y ([m][oh * ow], uint8 or int8 as
 * the output range says); bias is m values or NULL, scale m values. Filters of 1 to
 * FERRY_QCONV_DIRECT_MAX_TAPS taps over a non-empty input only (ferry_qconv_direct does nothing
 * otherwise). */
enum { FERRY_QCONV_DIRECT_MAX_TAPS = 49 };
int ferry_qconv_direct_available(void);
size_t ferry_qconv_direct_packed_w_size(size_t m, size_t c, size_t taps);
void ferry_qconv_direct_pack_w(const int8_t *w, size_t m, size_t c, size_t taps, void *packed);
size_t ferry_qconv_direct_input_size(size_t c, size_t plane);
void ferry_qconv_direct_channels_last(const void *x, int x_signed, int32_t zero_point, size_t c, size_t plane,
                                      size_t p_begin, size_t p_end, void *out);
void ferry_qconv_direct(const void *packed_w, size_t m, size_t c, const void *x_channels_last, int x_signed,
                        int32_t x_zero_point, size_t h, size_t w, size_t kh, size_t kw, size_t stride_h, size_t stride_w,
                        size_t dil_h, size_t dil_w, size_t pad_top, size_t pad_left, size_t oh, size_t ow,
                        size_t p_begin, size_t p_end, const int32_t *bias, const float *scale, int32_t zero_point,
                        int32_t qmin, int32_t qmax, void *y);

/* Output passes over C (rows x cols, leading dimension ldc), row m using bias[m] (NULL: 0) and
 * scale[m]. Requantize: y = clamp(nearbyint((float)(c + bias) * scale) + zero_point, qmin, qmax),
 * in float32 and rounding half to even as onnxruntime does, stored as uint8 (out_signed 0) or int8
 * (1); a fused Relu/Clip is a narrower [qmin, qmax] (within the output type's range). Dequantize:
 * y = act((float)(c + bias) * scale + float_bias) as float, the product and the sum each rounded
 * (as Cast, Mul and Add would; float_bias[m], NULL: none). */
void ferry_requantize(const int32_t *c, size_t ldc, size_t rows, size_t cols, const int32_t *bias,
                      const float *scale, int32_t zero_point, int32_t qmin, int32_t qmax, int out_signed,
                      void *y, size_t ldy);
void ferry_dequantize_output(const int32_t *c, size_t ldc, size_t rows, size_t cols, const int32_t *bias,
                             const float *scale, const float *float_bias, int act, float a, float b, float *y,
                             size_t ldy);
/* Dequantize with an activation that is not a clamp (hard swish, sigmoid, ...), then quantize as
 * QuantizeLinear does with out_scale and zero_point into [qmin, qmax] (ferry_quantize_floats). */
void ferry_activate_quantize(const int32_t *c, size_t ldc, size_t rows, size_t cols, const int32_t *bias,
                             const float *scale, int act, float a, float b, float out_scale, int32_t zero_point,
                             int32_t qmin, int32_t qmax, int out_signed, void *y, size_t ldy);

/* QLinearAdd / QLinearMul of 8-bit operands (both uint8 or both int8) over n elements, a and b
 * stepping by a_step and b_step (1, or 0 for a broadcast value): y[i] = clamp(((a - za) * sa op
 * (b - zb) * sb) / sc, qmin - zc, qmax - zc) rounded half to even, plus zc, in float32 as
 * onnxruntime computes it. */
void ferry_qlinear_binary_bytes(const void *a, size_t a_step, const void *b, size_t b_step, size_t n, int is_signed,
                                int multiply, float a_scale, int32_t a_zero_point, float b_scale, int32_t b_zero_point,
                                float c_scale, int32_t c_zero_point, int32_t qmin, int32_t qmax, void *y);

/* y[i] = table[x[i]] for n bytes (a 256-entry table): 64 at a time with AVX-512 VBMI. */
void ferry_byte_lookup(const uint8_t *x, size_t n, const uint8_t *table, uint8_t *y);

/* QuantizeLinear to 8 bits: y[i] = clamp(x[i] / scale, qmin - zero_point, qmax - zero_point) rounded
 * half to even, plus zero_point, stored as uint8 (out_signed 0) or int8 (1); NaN gives qmin. */
void ferry_quantize_floats(const float *x, size_t n, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                           int out_signed, void *y);

/* Depthwise int8 convolution of channels [c_begin, c_end) of one image (x is [channels][h][wd], w is
 * [channels][kh][kw], its zero points per channel, NULL: all 0; x's padding reads as x_zero_point):
 * exact int32 sums written to acc ([channels][oh][ow], indexed like x by absolute channel) for the
 * output passes above. */
void ferry_qdepthwise_2d(const void *x, int x_signed, int32_t x_zero_point, const void *w, int w_signed,
                         const int32_t *w_zero_points, int32_t *acc, size_t c_begin, size_t c_end,
                         size_t h, size_t wd, size_t kh, size_t kw, size_t stride_h, size_t stride_w,
                         size_t dil_h, size_t dil_w, size_t pad_top, size_t pad_left, size_t oh, size_t ow);

/* Which instruction-set paths the kernels may take: every one the CPU has (FERRY_ISA_BEST), AVX2
 * without the AVX-512 paths (FERRY_ISA_AVX2), or the portable C paths only (FERRY_ISA_PORTABLE).
 * The process-wide limit comes from the environment variable FERRY_ISA=best|avx2|portable (read
 * once; unset means best), so a whole run can be made to take what an AVX2-only CPU takes.
 * ferry_kernels_limit_isa sets a limit for the calling thread only (tests use it to compare the
 * paths); FERRY_ISA_DEFAULT returns that thread to the process-wide limit. */
enum { FERRY_ISA_DEFAULT = -1, FERRY_ISA_BEST = 0, FERRY_ISA_PORTABLE = 1, FERRY_ISA_AVX2 = 2 };
void ferry_kernels_limit_isa(int isa);

/* The paths the calling thread's kernels take on this CPU under the limit in force: "avx512-vnni",
 * "avx2" or "portable". ferry_isa_env_invalid is nonzero for an unknown FERRY_ISA value (the limit
 * is then best). */
const char *ferry_isa_active_name(void);
int ferry_isa_env_invalid(void);

/* 4-bit blockwise weights (nbits.c; onnxruntime's MatMulNBits layout): B holds n rows of k codes,
 * `block` codes (a power of two, at least 16) per block of block / 2 bytes; scales n x blocks;
 * zero_points n rows of (blocks + 1) / 2 bytes, or NULL for 8. */
size_t ferry_nbits4_row_bytes(size_t k, size_t block);
/* y[r, j] = sum over k of a[r, k] * weight[j, k] for r < m, j in [n_begin, n_end) (codes read once
 * per four rows of A, unpacked in registers). */
void ferry_nbits4_rows(size_t m, size_t k, const float *a, size_t lda, const uint8_t *b, const float *scales,
                       const uint8_t *zero_points, size_t block, size_t n_begin, size_t n_end, float *y, size_t ldy);
/* Rows [n_begin, n_end) of the weights as floats, w[j * k + i]. */
void ferry_nbits4_dequantize(size_t k, const uint8_t *b, const float *scales, const uint8_t *zero_points, size_t block,
                             size_t n_begin, size_t n_end, float *w);
/* Y[m x n] columns of panels [panel_begin, panel_end) (16 columns each) = A · weightsᵀ for A packed
 * by ferry_sgemm_pack_a: each panel of weights is dequantized into scratch
 * (ferry_nbits4_gemm_scratch(k) floats) and multiplied while in cache. */
size_t ferry_nbits4_gemm_scratch(size_t k);
/* One row of A with int8 activations (MatMulNBits' accuracy_level 4): A quantized per block
 * (round(a * 127 / max |a|), half to even), each block's sum of (code - zero point) * q exact in
 * integers, times the two scales; y[j] for j in [n_begin, n_end). scratch holds
 * ferry_nbits4_int8_scratch(k, block) bytes. */
size_t ferry_nbits4_int8_scratch(size_t k, size_t block);
void ferry_nbits4_row_int8(size_t k, const float *a, const uint8_t *b, const float *scales, const uint8_t *zero_points,
                           size_t block, size_t n_begin, size_t n_end, float *y, void *scratch);
void ferry_nbits4_gemm(size_t m, size_t k, size_t n, const float *packed_a, const uint8_t *b, const float *scales,
                       const uint8_t *zero_points, size_t block, size_t panel_begin, size_t panel_end, float *y,
                       size_t ldy, float *scratch);

#endif
