import CKernels
import FerryIR

/// Gemm: Y = alpha * op(A) * op(B) + beta * C, C broadcast to [M, N]; a fused activation (from
/// `Fusion`) is applied in the output pass. A constant float32 B is packed once at plan time (alpha
/// folded in); otherwise a single row of A (batch 1) is a matrix-vector product.
final class GemmKernel: Kernel {
    private let alpha: Float, beta: Float
    private let transA: Bool, transB: Bool
    private let activation: FusedActivation
    private let packedB: PackedRightMatrix?

    var prepackedInputs: Set<Int> { packedB == nil ? [] : [1] }

    init(_ spec: NodeSpec) throws {
        alpha = try spec.float("alpha", 1)
        beta = try spec.float("beta", 1)
        transA = try spec.int("transA", 0) != 0
        transB = try spec.int("transB", 0) != 0
        activation = try FusedActivation(spec)
        if let b = spec.constant(1), PackedRightMatrix.packs(b) {
            let (rows, columns) = (b.shape[0], b.shape[1])
            packedB = PackedRightMatrix(
                b.floats, ld: columns, transposed: transB, k: transB ? columns : rows, n: transB ? rows : columns, scale: alpha)
        } else {
            packedB = nil
        }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let a = try inputs.required(0, "A")
        let b = packedB == nil ? try inputs.required(1, "B") : nil
        let c = inputs.optional(2)
        guard a.type == .float, b == nil || b!.type == .float, c == nil || c!.type == .float else {
            throw KernelError.unsupported("Gemm on \(a.type.name) (float32 only)")
        }
        guard a.rank == 2, b == nil || b!.rank == 2 else {
            throw KernelError.invalid("A \(a.shape) and B \(b?.shape ?? []) must be matrices")
        }
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kb = packedB?.k ?? (transB ? b!.shape[1] : b!.shape[0]), n = packedB?.n ?? (transB ? b!.shape[0] : b!.shape[1])
        guard k == kb else {
            let bShape = b?.shape ?? (transB ? [n, kb] : [kb, n])
            throw KernelError.invalid("A \(a.shape) and B \(bShape) do not multiply (transA \(transA), transB \(transB))")
        }
        let y = try ctx.allocate(.float, [m, n])
        var accumulate: Float = 0
        if let c, beta != 0 {
            let bc = try Broadcast([c.shape, [m, n]])
            guard bc.shape == [m, n] else { throw KernelError.invalid("C \(c.shape) does not broadcast to [\(m), \(n)]") }
            let pc = c.floats, py = y.floats, len = bc.rowLength, sc = bc.rowStride(0)
            bc.forEachRow(0..<bc.rowCount) { off, o in
                for i in 0..<len { py[o + i] = beta * pc[off[0] + i * sc] }
            }
            accumulate = 1
        }
        let lda = a.shape[1], py = y.floats
        if let packedB {
            // op(A) row-major: A itself, or its transpose copied once.
            let rowsOfA = transA ? try transposed(a, ctx) : a
            packedB.multiply(rowsOfA.floats, rows: m, lda: k, into: py, ldc: n, accumulate: accumulate != 0, ctx: ctx)
            applyActivation(py, m, n)
            return [y]
        }
        let pa = UnsafePointer(a.floats), pb = UnsafePointer(b!.floats), ldb = b!.shape[1]
        if m == 1 && k > 0 {
            // One row of A (a contiguous vector either way): a matrix-vector product, each thread
            // streaming its own share of B's outputs.
            let grain = max(64, minimumParallelWork / max(k, 1))
            ctx.parallel(n, grain: grain) { r in
                if self.transB {
                    sgemv(
                        rows: r.count, cols: k, alpha: self.alpha, b: pb + r.lowerBound * ldb, ldb: ldb, x: pa,
                        beta: accumulate, y: py + r.lowerBound)
                } else {
                    sgemv(
                        trans: true, rows: k, cols: r.count, alpha: self.alpha, b: pb + r.lowerBound, ldb: ldb, x: pa,
                        beta: accumulate, y: py + r.lowerBound)
                }
            }
        } else if ctx.threads > 1 && m * n * k >= minimumParallelWork {
            if n >= 64 * ctx.threads {
                let step = (n + ctx.threads - 1) / ctx.threads
                ctx.parallel((n + step - 1) / step, work: m * n * k) { r in
                    for blk in r {
                        let lo = blk * step, hi = min(n, lo + step)
                        sgemm(
                            transA: self.transA, transB: self.transB, m: m, n: hi - lo, k: k, alpha: self.alpha, a: pa, lda: lda,
                            b: self.transB ? pb + lo * ldb : pb + lo, ldb: ldb, beta: accumulate, c: py + lo, ldc: n)
                    }
                }
            } else {
                ctx.parallel(m, grain: 8) { r in
                    sgemm(
                        transA: self.transA, transB: self.transB, m: r.count, n: n, k: k, alpha: self.alpha,
                        a: self.transA ? pa + r.lowerBound : pa + r.lowerBound * lda, lda: lda, b: pb, ldb: ldb,
                        beta: accumulate, c: py + r.lowerBound * n, ldc: n)
                }
            }
        } else {
            sgemm(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: pa, lda: lda, b: pb, ldb: ldb,
                beta: accumulate, c: py, ldc: n)
        }
        applyActivation(py, m, n)
        return [y]
    }

    private func applyActivation(_ y: UnsafeMutablePointer<Float>, _ m: Int, _ n: Int) {
        guard activation.kind != FERRY_ACT_NONE else { return }
        ferry_scale_bias_act(y, m, n, n, nil, nil, activation.code, activation.alpha, activation.beta)
    }

    /// The transpose of matrix `a`.
    private func transposed(_ a: Value, _ ctx: ExecutionContext) throws -> Value {
        let rows = a.shape[0], columns = a.shape[1]
        let t = try ctx.allocate(.float, [columns, rows])
        ferry_transpose_f32(a.floats, columns, t.floats, rows, rows, columns)
        return t
    }
}
