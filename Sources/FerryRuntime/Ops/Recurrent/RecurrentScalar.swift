import CKernels

#if canImport(Accelerate)
    import Accelerate
#elseif canImport(CBLAS)
    import CBLAS
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The float types recurrent layers compute in: the math functions and the matrix product they need.
protocol RecurrentScalar: RTFloat {
    static func exp(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    /// Applies the vector math kernel's `function` to p[0..<n] in place; false when this type has
    /// none (then the caller loops).
    static func vectorApply(_ function: ferry_vmath_function, _ p: UnsafeMutablePointer<Self>, _ n: Int) -> Bool
    /// c = a * b^T (+ c when `accumulate`) for row-major a (m x k), b (n x k) and c (m x n).
    static func gemmTransB(
        m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        accumulate: Bool, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: RecurrentScalar {
    @inline(__always) static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) static func log1p(_ x: Float) -> Float { log1pf(x) }
    static func vectorApply(_ function: ferry_vmath_function, _ p: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        ferry_vmath(Int32(function.rawValue), p, p, n, 1)
        return true
    }
    static func gemmTransB(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemm(transB: true, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }
}

extension Double: RecurrentScalar {
    @inline(__always) static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    @inline(__always) static func log1p(_ x: Double) -> Double { Glibc.log1p(x) }
    static func vectorApply(_ function: ferry_vmath_function, _ p: UnsafeMutablePointer<Double>, _ n: Int) -> Bool { false }
    static func gemmTransB(
        m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        accumulate: Bool, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
            accumulate ? 1 : 0, c, Int32(ldc))
    }
}
