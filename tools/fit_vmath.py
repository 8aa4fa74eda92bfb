#!/usr/bin/env python3
"""Fits the polynomial coefficients of Ferry's vector math (Sources/CKernels/vmath_body.h).

Each polynomial is a near-minimax fit (Lawson's iteratively reweighted least squares on Chebyshev
nodes, in float64) of the smooth part left after the kernel's range reduction, minimising the
relative error of the function value the kernel computes from it. The script prints the
coefficients as C initialisers and the fit's own error; run it again after changing a range.

    .venv/bin/python tools/fit_vmath.py
"""

import math

import numpy as np

ERFC_SPLIT = 1.0  # erf uses x * P(x^2) below this and 1 - exp(-x^2) * R(x) above
ERF_ONE = 3.92  # erf(x) rounds to 1 in float32 from here on
TANH_SPLIT = 0.625  # tanh uses x + x^3 * P(x^2) below this and 1 - 2 / (exp(2x) + 1) above


def lawson(basis, target, weight, nodes, iterations=60):
    """Coefficients c minimising max |weight * (basis @ c - target)| over nodes (approximately)."""
    a = basis(nodes)
    t = target(nodes)
    w = weight(nodes)
    lw = np.ones_like(nodes) / len(nodes)
    for _ in range(iterations):
        sw = np.sqrt(lw) * w
        c, *_ = np.linalg.lstsq(a * sw[:, None], t * sw, rcond=None)
        err = np.abs((a @ c - t) * w)
        lw = lw * err
        lw /= lw.sum()
    return c, float(np.max(np.abs((a @ c - t) * w)))


def chebyshev_nodes(lo, hi, n=4000):
    k = np.arange(n)
    return (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / n)


def powers(variable, degree):
    return lambda x: np.stack([variable(x) ** i for i in range(degree + 1)], axis=1)


def show(name, coefficients, error):
    body = ", ".join(f"{float(np.float32(c)):.9e}f" for c in coefficients)
    print(f"/* {name}: fit error {error:.2e} */")
    print(f"{{{body}}}")


def main():
    ln2 = math.log(2)
    # exp(r) = 1 + r + r^2 * P(r) on |r| <= ln2 / 2; error relative to exp(r).
    x = chebyshev_nodes(-ln2 / 2, ln2 / 2)
    x = x[np.abs(x) > 1e-6]
    c, e = lawson(powers(lambda r: r, 4), lambda r: (np.expm1(r) - r) / r**2, lambda r: r**2 / np.exp(r), x)
    show("exp P(r), c2..c6", c, e)

    # log(1 + f) = f - f^2 / 2 + f^3 * P(f) for 1 + f in [sqrt(1/2), sqrt(2)); error relative to log(1 + f).
    x = chebyshev_nodes(math.sqrt(0.5) - 1, math.sqrt(2) - 1)
    x = x[np.abs(x) > 1e-6]
    c, e = lawson(
        powers(lambda f: f, 8), lambda f: (np.log1p(f) - f + f * f / 2) / f**3, lambda f: np.abs(f**3 / np.log1p(f)), x
    )
    show("log P(f), f^3 coefficient first", c, e)

    # tanh(x) = x + x^3 * P(x^2) on |x| < TANH_SPLIT; error relative to tanh(x).
    x = chebyshev_nodes(1e-4, TANH_SPLIT)
    c, e = lawson(powers(lambda v: v * v, 5), lambda v: (np.tanh(v) - v) / v**3, lambda v: v**3 / np.tanh(v), x)
    show("tanh P(x^2)", c, e)

    erf = np.vectorize(math.erf)
    erfc = np.vectorize(math.erfc)
    # erf(x) = x * P(x^2) on |x| < ERFC_SPLIT; error relative to erf(x).
    x = chebyshev_nodes(1e-4, ERFC_SPLIT)
    c, e = lawson(powers(lambda v: v * v, 6), lambda v: erf(v) / v, lambda v: v / erf(v), x)
    show("erf P(x^2)", c, e)

    # erfc(x) = exp(-x^2) * R(x - ERFC_SPLIT) on [ERFC_SPLIT, ERF_ONE]; error relative to erfc(x).
    x = chebyshev_nodes(ERFC_SPLIT, ERF_ONE)
    c, e = lawson(powers(lambda v: v - ERFC_SPLIT, 11), lambda v: erfc(v) * np.exp(v * v), lambda v: np.exp(-v * v) / erfc(v), x)
    show("erfc R(x - 1)", c, e)


if __name__ == "__main__":
    main()
