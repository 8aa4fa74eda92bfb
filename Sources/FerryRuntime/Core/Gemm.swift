#if canImport(Accelerate)
    import Accelerate
#elseif canImport(CBLAS)
    import CBLAS
#endif

/// C = alpha * op(A) * op(B) + beta * C for row-major float matrices (op = optional transpose),
/// on the calling thread: CBLAS sgemm (OpenBLAS on Linux, Accelerate on macOS).
/// A is M x K (K x M when transposed), B is K x N (N x K when transposed), C is M x N.
@inline(__always)
func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// y = alpha * op(B) * x + beta * y for a row-major float matrix B (rows x cols; op = optional
/// transpose) and contiguous vectors, on the calling thread: CBLAS sgemv, which streams B once in
/// its stored order (a batch-1 fully connected layer is bound by memory, not arithmetic).
@inline(__always)
func sgemv(
    trans: Bool = false, rows: Int, cols: Int, alpha: Float = 1, b: UnsafePointer<Float>, ldb: Int,
    x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
) {
    guard rows > 0, cols > 0 else { return }
    cblas_sgemv(
        CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols), alpha, b, Int32(ldb),
        x, 1, beta, y, 1)
}
