/* Ferry's single-precision GEMM: C = A * B for row-major matrices, with A (the weights of a layer)
 * packed once into 6-row panels and B packed per call into 16-column panels, a 6x16 register-tile
 * micro-kernel (AVX2/FMA, with a portable version of the same loop), K blocked by 256 and M by 120.
 * Every element of C is the same chain of multiply-adds over k in order, whatever its row or column,
 * so equal rows of A give bitwise equal rows of C (which BLAS libraries do not promise). */
#include "ferry_kernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { MR = 6, NR = 16, KC = 256, MC = 120, NC = 1024 };

size_t ferry_sgemm_packed_a_size(size_t m, size_t k) { return (m + MR - 1) / MR * MR * k; }

void ferry_sgemm_pack_a(const float *a, size_t lda, int trans, size_t m, size_t k, float *packed) {
    for (size_t p = 0; p < m; p += MR) {
        float *dst = packed + p * k;
        const size_t rows = m - p < MR ? m - p : MR;
        for (size_t kk = 0; kk < k; kk++) {
            for (size_t r = 0; r < MR; r++)
                dst[kk * MR + r] = r < rows ? (trans ? a[kk * lda + p + r] : a[(p + r) * lda + kk]) : 0.f;
        }
    }
}

size_t ferry_sgemm_workspace_size(size_t n, size_t k) {
    const size_t kc = k < KC ? k : KC, nc = n < NC ? n : NC;
    return kc * ((nc + NR - 1) / NR * NR);
}

/* Packs rows [k0, k0 + kc) x columns [0, n) of B into NR-column panels, zero-padded. */
static void pack_b(const float *b, size_t ldb, int trans, size_t k0, size_t kc, size_t n, float *dst) {
    for (size_t j = 0; j < n; j += NR) {
        const size_t cols = n - j < NR ? n - j : NR;
        float *panel = dst + j * kc;
        if (!trans && cols == NR) {
            for (size_t kk = 0; kk < kc; kk++) memcpy(panel + kk * NR, b + (k0 + kk) * ldb + j, NR * sizeof(float));
        } else {
            for (size_t kk = 0; kk < kc; kk++)
                for (size_t c = 0; c < NR; c++)
                    panel[kk * NR + c] = c < cols ? (trans ? b[(j + c) * ldb + k0 + kk] : b[(k0 + kk) * ldb + j + c]) : 0.f;
        }
    }
}

/* The tile's result goes to C: stored on the first K block, added after. */
static inline void write_tile(const float *tile, float *c, size_t ldc, size_t mr, size_t nr, int accumulate) {
    for (size_t r = 0; r < mr; r++)
        for (size_t j = 0; j < nr; j++)
            c[r * ldc + j] = accumulate ? c[r * ldc + j] + tile[r * NR + j] : tile[r * NR + j];
}

static void kernel_portable(size_t kc, const float *ap, const float *bp, float *c, size_t ldc,
                            size_t mr, size_t nr, int accumulate) {
    float acc[MR * NR];
    memset(acc, 0, sizeof acc);
    for (size_t kk = 0; kk < kc; kk++) {
        for (size_t r = 0; r < MR; r++) {
            const float av = ap[kk * MR + r];
            for (size_t j = 0; j < NR; j++) acc[r * NR + j] += av * bp[kk * NR + j];
        }
    }
    write_tile(acc, c, ldc, mr, nr, accumulate);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void kernel_avx2(size_t kc, const float *ap, const float *bp, float *c, size_t ldc,
                        size_t mr, size_t nr, int accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
    for (size_t kk = 0; kk < kc; kk++) {
        const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
        __m256 a;
        a = _mm256_broadcast_ss(ap + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(ap + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(ap + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(ap + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(ap + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(ap + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
        ap += MR;
        bp += NR;
    }
    if (mr == MR && nr == NR) {
        __m256 *rows[MR][2] = {{&c00, &c01}, {&c10, &c11}, {&c20, &c21}, {&c30, &c31}, {&c40, &c41}, {&c50, &c51}};
        for (size_t r = 0; r < MR; r++) {
            float *cr = c + r * ldc;
            if (accumulate) {
                _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), *rows[r][0]));
                _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), *rows[r][1]));
            } else {
                _mm256_storeu_ps(cr, *rows[r][0]);
                _mm256_storeu_ps(cr + 8, *rows[r][1]);
            }
        }
        return;
    }
    float tile[MR * NR] __attribute__((aligned(32)));
    _mm256_store_ps(tile + 0, c00); _mm256_store_ps(tile + 8, c01);
    _mm256_store_ps(tile + 16, c10); _mm256_store_ps(tile + 24, c11);
    _mm256_store_ps(tile + 32, c20); _mm256_store_ps(tile + 40, c21);
    _mm256_store_ps(tile + 48, c30); _mm256_store_ps(tile + 56, c31);
    _mm256_store_ps(tile + 64, c40); _mm256_store_ps(tile + 72, c41);
    _mm256_store_ps(tile + 80, c50); _mm256_store_ps(tile + 88, c51);
    write_tile(tile, c, ldc, mr, nr, accumulate);
}

static int sgemm_has_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}
#endif

void ferry_sgemm_packed(size_t m, size_t n, size_t k, const float *packed_a,
                        const float *b, size_t ldb, int trans_b, float *c, size_t ldc, int accumulate, float *workspace) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (!accumulate) for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(float));
        return;
    }
    void (*kernel)(size_t, const float *, const float *, float *, size_t, size_t, size_t, int) = kernel_portable;
#if defined(__x86_64__)
    if (sgemm_has_avx2()) kernel = kernel_avx2;
#endif
    for (size_t n0 = 0; n0 < n; n0 += NC) {
        const size_t nc = n - n0 < NC ? n - n0 : NC;
        const float *bn = trans_b ? b + n0 * ldb : b + n0;
        for (size_t k0 = 0; k0 < k; k0 += KC) {
            const size_t kc = k - k0 < KC ? k - k0 : KC;
            pack_b(bn, ldb, trans_b, k0, kc, nc, workspace);
            const int acc = accumulate || k0 > 0;
            for (size_t m0 = 0; m0 < m; m0 += MC) {
                const size_t mc = m - m0 < MC ? m - m0 : MC;
                for (size_t j = 0; j < nc; j += NR) {
                    const size_t nr = nc - j < NR ? nc - j : NR;
                    const float *bp = workspace + j * kc;
                    for (size_t i = m0; i < m0 + mc; i += MR) {
                        const size_t mr = m - i < MR ? m - i : MR;
                        kernel(kc, packed_a + i * k + k0 * MR, bp, c + i * ldc + n0 + j, ldc, mr, nr, acc);
                    }
                }
            }
        }
    }
}
