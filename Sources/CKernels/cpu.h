/* CPU feature detection shared by Ferry's C kernels (private to CKernels). */
#ifndef FERRY_CPU_H
#define FERRY_CPU_H

#if defined(__x86_64__) || defined(__i386__)
#define FERRY_X86 1
#define FERRY_AVX2_ATTR __attribute__((target("avx2,fma")))
#include <immintrin.h>
#else
#define FERRY_X86 0
#define FERRY_AVX2_ATTR
#endif

/* True when the CPU has AVX2 and FMA (checked once) and the calling thread is not forced to the
 * portable paths (ferry_kernels_force_portable). */
int ferry_has_avx2(void);

#endif
