/* The fused activations of the float kernels (private to CKernels): one value, and the loop over a
 * contiguous row, specialised per activation so that each loop vectorises. */
#ifndef FERRY_ACTIVATION_H
#define FERRY_ACTIVATION_H
#include "ferry_kernels.h"
#include <math.h>
#include <stddef.h>

static inline float act_apply(float v, int act, float a, float b) {
    switch (act) {
    case FERRY_ACT_RELU: return v > 0.f ? v : 0.f;
    case FERRY_ACT_CLIP: return v < a ? a : (v > b ? b : v);
    case FERRY_ACT_SIGMOID: return 1.f / (1.f + expf(-v));
    case FERRY_ACT_HARDSWISH: { float t = v / 6.f + 0.5f; t = t < 0.f ? 0.f : (t > 1.f ? 1.f : t); return v * t; }
    case FERRY_ACT_LEAKYRELU: return v < 0.f ? a * v : v;
    case FERRY_ACT_HARDSIGMOID: { float t = a * v + b; return t < 0.f ? 0.f : (t > 1.f ? 1.f : t); }
    default: return v;
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
    default:                                                                            \
        for (size_t p = 0; p < n; p++) row[p] = act_apply(row[p] * s + bb, act, a, b);  \
    }

#endif
