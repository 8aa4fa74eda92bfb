/* The fused activations of the float kernels (private to CKernels): the loop over a contiguous row,
 * specialised per activation so that each loop vectorises; the transcendental ones run ferry_vmath. */
#ifndef FERRY_ACTIVATION_H
#define FERRY_ACTIVATION_H
#include "ferry_kernels.h"
#include <stddef.h>

/* The ferry_vmath function of an activation that has one (the transcendental ones), or -1. */
static inline int act_vmath_function(int act) {
    switch (act) {
    case FERRY_ACT_SIGMOID: return FERRY_VM_SIGMOID;
    case FERRY_ACT_TANH: return FERRY_VM_TANH;
    case FERRY_ACT_SWISH: return FERRY_VM_SWISH;
    case FERRY_ACT_GELU: return FERRY_VM_GELU;
    case FERRY_ACT_GELU_TANH: return FERRY_VM_GELU_TANH;
    default: return -1;
    }
}

/* The activation loop over one contiguous row, specialised per activation so each loop vectorises. */
#define ACT_ROW_BODY                                                                    \
    switch (act) {                                                                      \
    case FERRY_ACT_NONE:                                                                \
        for (size_t p = 0; p < n; p++) row[p] = row[p] * s + bb;                         \
        break;                                                                          \
    case FERRY_ACT_RELU:                                                                \
        for (size_t p = 0; p < n; p++) { float v = row[p] * s + bb; row[p] = v > 0.f ? v : 0.f; } \
        break;                                                                          \
    case FERRY_ACT_CLIP:                                                                \
        for (size_t p = 0; p < n; p++) {                                                \
            float v = row[p] * s + bb; v = v < a ? a : v; row[p] = v > b ? b : v;       \
        }                                                                               \
        break;                                                                          \
    case FERRY_ACT_HARDSWISH:                                                           \
        for (size_t p = 0; p < n; p++) {                                                \
            float v = row[p] * s + bb; float t = v * (1.f / 6.f) + 0.5f;               \
            t = t < 0.f ? 0.f : t; t = t > 1.f ? 1.f : t; row[p] = v * t;               \
        }                                                                               \
        break;                                                                          \
    case FERRY_ACT_LEAKYRELU:                                                           \
        for (size_t p = 0; p < n; p++) { float v = row[p] * s + bb; row[p] = v < 0.f ? a * v : v; } \
        break;                                                                          \
    case FERRY_ACT_HARDSIGMOID:                                                         \
        for (size_t p = 0; p < n; p++) {                                                \
            float t = a * (row[p] * s + bb) + b; t = t < 0.f ? 0.f : t; row[p] = t > 1.f ? 1.f : t; \
        }                                                                               \
        break;                                                                          \
    default: /* the transcendental ones: scale and bias, then the vector function in place */ \
        if (s != 1.f || bb != 0.f)                                                      \
            for (size_t p = 0; p < n; p++) row[p] = row[p] * s + bb;                    \
        ferry_vmath(act_vmath_function(act), row, row, n, a);                           \
    }

#endif
