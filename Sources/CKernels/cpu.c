/* Which instruction-set paths the kernels take (see ferry_kernels.h): the CPU's features, checked
 * once, under the process-wide FERRY_ISA limit or a thread's own. */
#include "ferry_kernels.h"
#include "cpu.h"
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
 * AVX-512 VBMI with F and BW, bit 3 AVX-512 F and DQ. */
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
        const int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
        cached = avx2 | (avx2 && vnni) << 1 | (avx2 && vbmi) << 2 | (avx2 && avx512) << 3;
    }
    return cached;
#else
    return 0;
#endif
}

int ferry_has_avx2(void) { return (cpu_features() & 1) && isa_limit() != FERRY_ISA_PORTABLE; }

int ferry_has_vnni(void) { return (cpu_features() & 2) && isa_limit() == FERRY_ISA_BEST; }

int ferry_has_avx512(void) { return (cpu_features() & 8) && isa_limit() == FERRY_ISA_BEST; }

int ferry_has_vbmi(void) { return (cpu_features() & 4) && isa_limit() == FERRY_ISA_BEST; }

const char *ferry_isa_active_name(void) { return ferry_has_vnni() ? "avx512-vnni" : ferry_has_avx512() ? "avx512" : ferry_has_avx2() ? "avx2" : "portable"; }
