/* The vector math functions, written once over clang/GCC vector types and compiled once per
 * instruction set by vmath.c, which defines before each inclusion:
 *   VM_BYTES  the vector width in bytes,
 *   VM(name)  the name of this compilation's copy of a function,
 *   VM_ATTR   its target attribute,
 *   VM_FMA    1 when fused multiply-add is an instruction here.
 * No header guard: it is meant to be included several times (it undefines those four at its end).
 * Accuracy: see ferry_vmath in ferry_kernels.h; coefficients: tools/fit_vmath.py. */

typedef float VM(float_vector) __attribute__((vector_size(VM_BYTES)));
typedef int VM(int_vector) __attribute__((vector_size(VM_BYTES)));
#define V VM(float_vector)
#define VI VM(int_vector)
#define LANES (VM_BYTES / sizeof(float))

#if VM_FMA
#define MADD(a, b, c) __builtin_elementwise_fma((a), (b), (c))
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif

/* Lane-wise m ? a : b, m a comparison result (all ones or all zeros per lane). */
VM_ATTR static inline V VM(select)(VI m, V a, V b) { return (V)(((VI)a & m) | ((VI)b & ~m)); }

VM_ATTR static inline V VM(abs)(V x) { return (V)((VI)x & 0x7fffffff); }

/* |magnitude| with the sign of `sign`. */
VM_ATTR static inline V VM(copysign)(V magnitude, V sign) {
    return (V)(((VI)magnitude & 0x7fffffff) | ((VI)sign & (int)0x80000000));
}

/* The core of exp for x in [-104, 89]: x = n ln2 + r with |r| <= ln2 / 2 (Cody-Waite: ln2 in two
 * parts, the first exact in n * ln2_hi); returns exp(r) = 1 + r + r^2 P(r) and n (a float) in *n. */
VM_ATTR static inline V VM(exp_reduced)(V x, V *n) {
    const float magic = 12582912.f; /* 1.5 * 2^23: adding it rounds to an integer, kept in the low bits */
    const V t = MADD(x, (V){} + 1.44269504f, (V){} + magic);
    const V nf = t - magic;
    V r = MADD(nf, (V){} - 0.693359375f, x);
    r = MADD(nf, (V){} + 2.12194440e-4f, r);
    V p = (V){} + 1.381461043e-03f;
    p = MADD(p, r, (V){} + 8.368710056e-03f);
    p = MADD(p, r, (V){} + 4.166838899e-02f);
    p = MADD(p, r, (V){} + 1.666652113e-01f);
    p = MADD(p, r, (V){} + 4.999999404e-01f);
    *n = nf;
    return MADD(p, r * r, r) + 1.f;
}

#if VM_BYTES == 64
/* p 2^n (n integral, at most 128 in magnitude) in one instruction, which rounds results below the
 * normal floats to subnormals (0 below half the smallest) and gives inf past the largest float. */
VM_ATTR static inline V VM(scale)(V p, V n) { return (V)_mm512_scalef_ps((__m512)p, (__m512)n); }
#endif

/* exp(x): exp(r) times 2^n in two factors (with AVX-512 one scalef) so that results down to the
 * smallest subnormal and up to overflow come out right. NaN stays NaN; x > 88.73 gives +inf, x < -104
 * zero. */
VM_ATTR static inline V VM(exp)(V x) {
    x = VM(select)(x > 89.f, (V){} + 89.f, x);
    x = VM(select)(x < -104.f, (V){} - 104.f, x);
    V nf;
    const V p = VM(exp_reduced)(x, &nf);
#if VM_BYTES == 64
    return VM(scale)(p, nf);
#else
    const VI n = __builtin_convertvector(nf, VI), n1 = n >> 1, n2 = n - n1;
    return p * (V)((n1 + 127) << 23) * (V)((n2 + 127) << 23);
#endif
}

/* exp(x) for x <= 0 (or NaN) with one scaling factor: x is kept at or above -87.3365 (exp of it the
 * smallest normal float, so 2^n stays normal) and results below are 0; with AVX-512 they are the
 * rounded subnormals (x kept at or above -104, where they are 0). */
VM_ATTR static inline V VM(exp_nonpositive)(V x) {
    V nf;
#if VM_BYTES == 64
    const V p = VM(exp_reduced)(VM(select)(x < -104.f, (V){} - 104.f, x), &nf);
    return VM(scale)(p, nf);
#else
    const VI tiny = x < -87.3365448f;
    const V p = VM(exp_reduced)(VM(select)(tiny, (V){} - 87.3365448f, x), &nf);
    return (V)((VI)(p * (V)((__builtin_convertvector(nf, VI) + 127) << 23)) & ~tiny);
#endif
}

/* log(x): x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) = f - f^2 / 2 + f^3 P(f) with f = m - 1,
 * plus e ln2 in two parts. Subnormals are scaled first; log(0) = -inf, log(x < 0) = NaN. */
VM_ATTR static inline V VM(log)(V x) {
    const VI subnormal = x < 1.17549435e-38f;
    const V xs = VM(select)(subnormal, x * 8388608.f, x);
    const VI bits = (VI)xs;
    const VI k = (bits - 0x3f3504f3) >> 23; /* 0x3f3504f3: sqrt(1/2) */
    const V f = (V)(bits - (k << 23)) - 1.f;
    const V e = __builtin_convertvector(k, V) - VM(select)(subnormal, (V){} + 23.f, (V){});
    V p = (V){} + 6.746601313e-02f;
    p = MADD(p, f, (V){} - 1.167564094e-01f);
    p = MADD(p, f, (V){} + 1.188817471e-01f);
    p = MADD(p, f, (V){} - 1.240559146e-01f);
    p = MADD(p, f, (V){} + 1.421955079e-01f);
    p = MADD(p, f, (V){} - 1.666799635e-01f);
    p = MADD(p, f, (V){} + 2.000211924e-01f);
    p = MADD(p, f, (V){} - 2.500000894e-01f);
    p = MADD(p, f, (V){} + 3.333331347e-01f);
    const V f2 = f * f;
    V r = MADD(p * f, f2, e * -2.12194440e-4f);
    r = MADD(f2, (V){} - 0.5f, r);
    V y = MADD(e, (V){} + 0.693359375f, f + r);
    y = VM(select)(x == __builtin_inff(), x, y);
    y = VM(select)(x == 0.f, (V){} - __builtin_inff(), y);
    return VM(select)((x < 0.f) | (x != x), (V){} + __builtin_nanf(""), y);
}

/* 1 / (1 + exp(-x)), as exp(x) / (1 + exp(x)) below zero so that no term cancels; 0 where
 * exp(-|x|) is below the normal floats (x < -87.34, where the exact value is subnormal), with
 * AVX-512 that subnormal. */
VM_ATTR static inline V VM(sigmoid)(V x) {
    const V e = VM(exp_nonpositive)(-VM(abs)(x));
    return VM(select)(x >= 0.f, (V){} + 1.f, e) / (1.f + e);
}

/* tanh: x + x^3 P(x^2) below 0.625, 1 - 2 / (exp(2|x|) + 1) with x's sign above. */
VM_ATTR static inline V VM(tanh)(V x) {
    const V a = VM(abs)(x), x2 = x * x;
    V p = (V){} + 2.142963698e-03f;
    p = MADD(p, x2, (V){} - 8.177400567e-03f);
    p = MADD(p, x2, (V){} + 2.170070447e-02f);
    p = MADD(p, x2, (V){} - 5.394676328e-02f);
    p = MADD(p, x2, (V){} + 1.333320588e-01f);
    p = MADD(p, x2, (V){} - 3.333333135e-01f);
    const V small = MADD(p * x2, x, x);
    const V large = VM(copysign)(1.f - 2.f / (VM(exp)(a + a) + 1.f), x);
    return VM(select)(a < 0.625f, small, large);
}

/* erf(a) for 0 <= a < 1: a P(a^2). */
VM_ATTR static inline V VM(erf_small)(V a) {
    const V a2 = a * a;
    V p = (V){} + 7.854024443e-05f;
    p = MADD(p, a2, (V){} - 8.010247257e-04f);
    p = MADD(p, a2, (V){} + 5.188334268e-03f);
    p = MADD(p, a2, (V){} - 2.685381658e-02f);
    p = MADD(p, a2, (V){} + 1.128358543e-01f);
    p = MADD(p, a2, (V){} - 3.761262596e-01f);
    p = MADD(p, a2, (V){} + 1.128379107e+00f);
    return p * a;
}

/* erfc(a) for a >= 1: exp(-a^2) R(a - 1) up to 3.92, 0 beyond (erfc(3.92) < 6e-8). */
VM_ATTR static inline V VM(erfc_large)(V a) {
    const V c = VM(select)(a > 3.92f, (V){} + 3.92f, a), q = c - 1.f;
    V r = (V){} - 4.402465379e-07f;
    r = MADD(r, q, (V){} + 8.898939996e-06f);
    r = MADD(r, q, (V){} - 8.269419050e-05f);
    r = MADD(r, q, (V){} + 4.750507942e-04f);
    r = MADD(r, q, (V){} - 1.930557541e-03f);
    r = MADD(r, q, (V){} + 6.082957145e-03f);
    r = MADD(r, q, (V){} - 1.600940153e-02f);
    r = MADD(r, q, (V){} + 3.725643456e-02f);
    r = MADD(r, q, (V){} - 7.913415134e-02f);
    r = MADD(r, q, (V){} + 1.543571353e-01f);
    r = MADD(r, q, (V){} - 2.732111216e-01f);
    r = MADD(r, q, (V){} + 4.275835752e-01f);
    return VM(select)(a > 3.92f, (V){}, VM(exp_nonpositive)(-(c * c)) * r);
}

VM_ATTR static inline V VM(erf)(V x) {
    const V a = VM(abs)(x);
    const V y = VM(select)(a < 1.f, VM(erf_small)(a), 1.f - VM(erfc_large)(a));
    return VM(copysign)(y, x);
}

/* x / 2 (1 + erf(x / sqrt 2)); below zero 1 + erf is erfc(|x| / sqrt 2), computed as such. */
VM_ATTR static inline V VM(gelu)(V x) {
    const V a = VM(abs)(x) * 0.707106781f;
    const V small = VM(erf_small)(a), c = VM(erfc_large)(a);
    const V positive = VM(select)(a < 1.f, 1.f + small, 2.f - c);
    const V negative = VM(select)(a < 1.f, 1.f - small, c);
    return 0.5f * x * VM(select)(x >= 0.f, positive, negative);
}

/* x * sigmoid(alpha x) (Swish; SiLU when alpha is 1). */
VM_ATTR static inline V VM(swish)(V x, float alpha) { return x * VM(sigmoid)(x * alpha); }

/* The tanh form of GELU, x / 2 (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2 / pi) (x + 0.044715 x^3). */
VM_ATTR static inline V VM(gelu_tanh)(V x) {
    const V u = x * MADD(x * x, (V){} + 0.0356774081f, (V){} + 0.797884561f);
    return x * VM(sigmoid)(u + u);
}

/* log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), log1p(e) = log(u) e / (u - 1) with u = 1 + e
 * rounded (e itself when u is 1). */
VM_ATTR static inline V VM(softplus)(V x) {
    const V e = VM(exp_nonpositive)(-VM(abs)(x)), u = 1.f + e;
    const V l = VM(select)(u == 1.f, e, VM(log)(u) * (e / (u - 1.f)));
    return VM(select)(x > 0.f, x, (V){}) + l;
}

/* v loaded from x[0..<count) (count <= LANES), the other lanes `fill`. */
VM_ATTR static inline V VM(load_part)(const float *x, size_t count, float fill) {
    V v = (V){} + fill;
    __builtin_memcpy(&v, x, count * sizeof(float));
    return v;
}

/* One function over a row: pairs of vectors (two independent chains in flight; `expr` reads v, so
 * it is evaluated once with each of the pair in v), single vectors, then the tail in a zero-padded
 * vector. */
#define VM_ROW(expr)                                                                                    \
    do {                                                                                                \
        size_t i = 0;                                                                                   \
        for (; i + 2 * LANES <= n; i += 2 * LANES) {                                                    \
            V v, w;                                                                                     \
            __builtin_memcpy(&v, x + i, sizeof v);                                                      \
            __builtin_memcpy(&w, x + i + LANES, sizeof w);                                              \
            const V fv = (expr);                                                                        \
            v = w;                                                                                      \
            const V fw = (expr);                                                                        \
            __builtin_memcpy(y + i, &fv, sizeof fv);                                                    \
            __builtin_memcpy(y + i + LANES, &fw, sizeof fw);                                            \
        }                                                                                               \
        for (; i + LANES <= n; i += LANES) {                                                            \
            V v;                                                                                        \
            __builtin_memcpy(&v, x + i, sizeof v);                                                      \
            v = (expr);                                                                                 \
            __builtin_memcpy(y + i, &v, sizeof v);                                                      \
        }                                                                                               \
        if (i < n) {                                                                                    \
            V v = VM(load_part)(x + i, n - i, 0.f);                                                     \
            v = (expr);                                                                                 \
            __builtin_memcpy(y + i, &v, (n - i) * sizeof(float));                                       \
        }                                                                                               \
    } while (0)

/* y[i] = fn(x[i]) for i < n (x == y allowed); alpha is Swish's. */
VM_ATTR static void VM(row)(int fn, const float *x, float *y, size_t n, float alpha) {
    switch (fn) {
    case FERRY_VM_EXP: VM_ROW(VM(exp)(v)); break;
    case FERRY_VM_LOG: VM_ROW(VM(log)(v)); break;
    case FERRY_VM_SIGMOID: VM_ROW(VM(sigmoid)(v)); break;
    case FERRY_VM_TANH: VM_ROW(VM(tanh)(v)); break;
    case FERRY_VM_ERF: VM_ROW(VM(erf)(v)); break;
    case FERRY_VM_GELU: VM_ROW(VM(gelu)(v)); break;
    case FERRY_VM_GELU_TANH: VM_ROW(VM(gelu_tanh)(v)); break;
    case FERRY_VM_SWISH: VM_ROW(VM(swish)(v, alpha)); break;
    case FERRY_VM_SOFTPLUS: VM_ROW(VM(softplus)(v)); break;
    case FERRY_VM_SQRT: VM_ROW(__builtin_elementwise_sqrt(v)); break;
    case FERRY_VM_RECIPROCAL: VM_ROW(1.f / v); break;
    default: break;
    }
}

/* See ferry_softmax_rows: per row the largest element (a NaN wins), exp(x - max) (never positive:
 * the one-scaling exp, results below the smallest normal float 0) and its sum in lanes, then the
 * scaling pass; the tail in a vector padded with -inf (exp gives 0 there). */
VM_ATTR static void VM(softmax_rows)(const float *x, float *y, size_t rows, size_t n, int log) {
    const float minus_inf = -__builtin_inff();
    for (size_t r = 0; r < rows; r++, x += n, y += n) {
        V m = (V){} + minus_inf;
        size_t i = 0;
        for (; i + LANES <= n; i += LANES) {
            V v;
            __builtin_memcpy(&v, x + i, sizeof v);
            m = VM(select)((v > m) | (v != v), v, m);
        }
        if (i < n) {
            const V v = VM(load_part)(x + i, n - i, minus_inf);
            m = VM(select)((v > m) | (v != v), v, m);
        }
        float top = m[0];
        for (size_t l = 1; l < LANES; l++)
            if (m[l] > top || m[l] != m[l]) top = m[l];
        V sum = {};
        for (i = 0; i + LANES <= n; i += LANES) {
            V v;
            __builtin_memcpy(&v, x + i, sizeof v);
            v = VM(exp_nonpositive)(v - top);
            sum += v;
            if (!log) __builtin_memcpy(y + i, &v, sizeof v);
        }
        if (i < n) {
            const V v = VM(exp_nonpositive)(VM(load_part)(x + i, n - i, minus_inf) - top);
            sum += v;
            if (!log) __builtin_memcpy(y + i, &v, (n - i) * sizeof(float));
        }
        float total = 0.f;
        for (size_t l = 0; l < LANES; l++) total += sum[l];
        if (log) {
            const float log_total = VM(log)((V){} + total)[0];
            for (i = 0; i < n; i++) y[i] = (x[i] - top) - log_total;
        } else {
            const float scale = 1.f / total;
            for (i = 0; i < n; i++) y[i] *= scale;
        }
    }
}

/* See ferry_layer_norm_rows: the mean, then the mean squared deviation from it (two passes over
 * the row, in lanes), then one pass writing (x - mean) * inv * scale + bias. */
VM_ATTR static void VM(layer_norm_rows)(const float *x, float *y, size_t rows, size_t n, const float *scale,
                                        const float *bias, float epsilon, float *mean_out, float *inv_out) {
    for (size_t r = 0; r < rows; r++, x += n, y += n) {
        V sum = {}, sq = {};
        size_t i = 0;
        for (; i + LANES <= n; i += LANES) {
            V v;
            __builtin_memcpy(&v, x + i, sizeof v);
            sum += v;
        }
        if (i < n) sum += VM(load_part)(x + i, n - i, 0.f);
        float total = 0.f;
        for (size_t l = 0; l < LANES; l++) total += sum[l];
        const float mean = total / (float)n;
        for (i = 0; i + LANES <= n; i += LANES) {
            V v;
            __builtin_memcpy(&v, x + i, sizeof v);
            v -= mean;
            sq = MADD(v, v, sq);
        }
        if (i < n) {
            const V v = VM(load_part)(x + i, n - i, mean) - mean;
            sq = MADD(v, v, sq);
        }
        float squares = 0.f;
        for (size_t l = 0; l < LANES; l++) squares += sq[l];
        const float inv = 1.f / __builtin_sqrtf(squares / (float)n + epsilon);
        if (mean_out) mean_out[r] = mean;
        if (inv_out) inv_out[r] = inv;
        for (i = 0; i + LANES <= n; i += LANES) {
            V v, s, b = {};
            __builtin_memcpy(&v, x + i, sizeof v);
            __builtin_memcpy(&s, scale + i, sizeof s);
            if (bias) __builtin_memcpy(&b, bias + i, sizeof b);
            v = MADD((v - mean) * inv, s, b);
            __builtin_memcpy(y + i, &v, sizeof v);
        }
        for (; i < n; i++) y[i] = (x[i] - mean) * inv * scale[i] + (bias ? bias[i] : 0.f);
    }
}

#undef MADD
#undef VM_ROW
#undef V
#undef VI
#undef LANES
#undef VM_BYTES
#undef VM
#undef VM_ATTR
#undef VM_FMA
