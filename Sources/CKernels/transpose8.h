/* The 8x8 float transpose of the kernels that move data between layouts (private to CKernels). */
#ifndef FERRY_TRANSPOSE8_H
#define FERRY_TRANSPOSE8_H

/* Defines NAME(VEC r[8]), VEC a vector of 8 floats, compiled with ATTR: transposes the 8x8 block
 * whose rows are r[0..8), so that afterwards r[j] holds the old column j (three rounds of
 * shuffles: pairs of lanes, pairs of pairs, halves). */
#define DEFINE_TRANSPOSE8(NAME, ATTR, VEC)                                                              \
    ATTR static inline void NAME(VEC r[8]) {                                                            \
        VEC a[8], b[8];                                                                                 \
        for (int i = 0; i < 8; i += 2) {                                                                \
            a[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);                   \
            a[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);             \
        }                                                                                               \
        for (int i = 0; i < 8; i += 4)                                                                  \
            for (int j = 0; j < 2; j++) {                                                               \
                b[i + 2 * j] = __builtin_shufflevector(a[i + j], a[i + j + 2], 0, 1, 8, 9, 4, 5, 12, 13); \
                b[i + 2 * j + 1] = __builtin_shufflevector(a[i + j], a[i + j + 2], 2, 3, 10, 11, 6, 7, 14, 15); \
            }                                                                                           \
        for (int j = 0; j < 4; j++) {                                                                   \
            r[j] = __builtin_shufflevector(b[j], b[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);                   \
            r[j + 4] = __builtin_shufflevector(b[j], b[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);             \
        }                                                                                               \
    }

#endif
