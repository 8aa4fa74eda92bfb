/* CBLAS from OpenBLAS (Debian libopenblas-dev); Ferry's fp32 GEMM. */
#include <cblas.h>
