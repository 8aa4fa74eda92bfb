/* CPU feature detection shared by Ferry's C kernels (private to CKernels). */
#ifndef FERRY_CPU_H
#define FERRY_CPU_H

#if defined(__x86_64__) || defined(__i386__)
#define FERRY_X86 1
#define FERRY_AVX2_ATTR __attribute__((target("avx2,fma")))
#define FERRY_VNNI_ATTR __attribute__((target("avx2,fma,avx512vnni,avx512vl")))
/* The same on 512-bit registers (ferry_has_vnni() also checks AVX-512 F and BW). */
#define FERRY_VNNI512_ATTR __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vnni,avx512vl")))
/* AVX-512 F and DQ for float code on 512-bit registers (ferry_has_avx512). */
#define FERRY_AVX512_ATTR __attribute__((target("avx2,fma,avx512f,avx512dq")))
#include <immintrin.h>
#else
#define FERRY_X86 0
#define FERRY_AVX2_ATTR
#define FERRY_VNNI_ATTR
#define FERRY_VNNI512_ATTR
#define FERRY_AVX512_ATTR
#endif

/* True when the CPU has AVX2 and FMA (checked once) and the calling thread is not limited to the
 * portable paths (ferry_kernels_limit_isa). */
int ferry_has_avx2(void);

/* True when ferry_has_avx2() and the CPU also has AVX-512 VNNI with 256-bit (VL) forms, unless the
 * calling thread is limited to AVX2. */
int ferry_has_vnni(void);

/* True when ferry_has_avx2() and the CPU also has AVX-512 F and DQ, unless the calling thread is
 * limited to AVX2. */
int ferry_has_avx512(void);

/* True when ferry_has_avx2() and the CPU also has AVX-512 VBMI (with F and BW), unless the calling
 * thread is limited to AVX2. */
int ferry_has_vbmi(void);

#endif
