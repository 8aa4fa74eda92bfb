import CKernels
import FerryIR

/// MatMul with NumPy semantics: 1-D operands promoted, batch axes broadcast. When B is a single
/// matrix the batch folds into one tall product; a constant float32 B matrix (a Linear layer's
/// weights) is packed once at plan time, and then a bias added after it, a residual (a run-time
/// fourth input of the output's shape) and an activation (`Fusion`) run in its output pass. A fused
/// scale multiplies any float32 product (the packed B is packed scaled, as Gemm's alpha is).
final class MatMulKernel: Kernel {
    private let packedB: PackedRightMatrix?
    /// The fused factor on the product (`Fusion.matMulScale`), 1 without one.
    private let scale: Float
    /// The fused bias (one value per column of B), with `Fusion.matMulBias` set.
    private let bias: Value?
    private let activation: FusedActivation

    var prepackedInputs: Set<Int> { packedB == nil ? [] : [1] }

    init(_ spec: NodeSpec) throws {
        activation = try FusedActivation(spec)
        scale = try spec.float(Fusion.matMulScale, 1)
        if let b = spec.constant(1), PackedRightMatrix.packs(b) {
            packedB = PackedRightMatrix(
                b.floats, ld: b.shape[1], transposed: false, k: b.shape[0], n: b.shape[1], scale: scale)
        } else {
            packedB = nil
        }
        if spec.has(Fusion.matMulBias) {
            guard let packedB, let bias = spec.constant(2), bias.type == .float, bias.count == packedB.n else {
                throw KernelError.invalid("a fused MatMul bias needs a constant B and one float per column")
            }
            self.bias = bias
        } else {
            bias = nil
        }
        if activation.kind != FERRY_ACT_NONE && packedB == nil {
            throw KernelError.invalid("a fused MatMul activation needs a constant B")
        }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let a0 = try inputs.required(0, "A")
        if let packedB { return [try multiply(a0, packedB, residual: inputs.optional(3), ctx)] }
        let b0 = try inputs.required(1, "B")
        guard a0.type == b0.type else { throw KernelError.invalid("A is \(a0.type.name), B is \(b0.type.name)") }
        guard a0.rank >= 1, b0.rank >= 1 else { throw KernelError.invalid("MatMul needs at least 1-D inputs") }
        let a = a0.rank == 1 ? a0.reshaped([1, a0.shape[0]]) : a0
        let b = b0.rank == 1 ? b0.reshaped([b0.shape[0], 1]) : b0
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], kb = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        guard k == kb else { throw KernelError.invalid("A \(a0.shape) and B \(b0.shape) do not multiply") }
        let batchShape = try Broadcast([Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))]).shape
        var outShape = batchShape + [m, n]
        let batch = batchShape.reduce(1, *)
        if a0.rank == 1 { outShape.remove(at: outShape.count - 2) }
        if b0.rank == 1 { outShape.removeLast() }
        if a.type != .float {
            guard scale == 1 else { throw KernelError.invalid("a fused MatMul scale needs float32 operands") }
            return [
                try dispatchNumeric(
                    a.type, MatMulNaive(a: a, b: b, m: m, n: n, k: k, batchShape: batchShape, outShape: outShape, ctx: ctx))
            ]
        }
        let y = try ctx.allocate(.float, outShape)
        guard y.count > 0 else { return [y] }
        if b.rank == 2 {
            // B has no batch axes, so A's batch folds into its rows: [batch * m, k] x [k, n].
            parallelGemm(
                ctx, m: batch * m, n: n, k: k, alpha: scale, a: a.floats, lda: k, b: b.floats, ldb: n, c: y.floats, ldc: n)
            return [y]
        }
        let bcA = try Broadcast([Array(a.shape.dropLast(2)), batchShape]),
            bcB = try Broadcast([Array(b.shape.dropLast(2)), batchShape])
        let offA = bcA.inputOffsets(), offB = bcB.inputOffsets()
        let pa = a.floats, pb = b.floats, py = y.floats, scale = self.scale
        ctx.parallel(batch, work: batch * m * n * k) { r in
            for i in r {
                sgemm(
                    m: m, n: n, k: k, alpha: scale, a: pa + offA[i] * m * k, lda: k, b: pb + offB[i] * k * n, ldb: n,
                    c: py + i * m * n, ldc: n)
            }
        }
        return [y]
    }
}

extension MatMulKernel {
    /// A (any rank, its leading axes folded into rows) times the packed constant B, plus `residual`
    /// (added in the output pass when it has the output's shape, else broadcast after it).
    private func multiply(_ a: Value, _ b: PackedRightMatrix, residual: Value?, _ ctx: ExecutionContext) throws -> Value {
        guard a.type == .float else { throw KernelError.invalid("A is \(a.type.name), B is float32") }
        guard a.rank >= 1, a.shape[a.rank - 1] == b.k else {
            throw KernelError.invalid("A \(a.shape) and B [\(b.k), \(b.n)] do not multiply")
        }
        if let residual { guard residual.type == .float else { throw KernelError.invalid("the residual must be float32") } }
        let y = try ctx.allocate(.float, Array(a.shape.dropLast()) + [b.n])
        let rows = a.count / b.k, n = b.n, py = y.floats
        let inPass = residual?.shape == y.shape ? residual.map { UnsafePointer($0.floats) } : nil
        let biasValues = bias.map { UnsafePointer($0.floats) }
        let activation = residual != nil && inPass == nil ? FusedActivation() : self.activation
        let finishes = biasValues != nil || inPass != nil || activation.kind != FERRY_ACT_NONE
        b.multiply(a.floats, rows: rows, lda: b.k, into: py, ldc: n, ctx: ctx) { rowRange, columns in
            guard finishes else { return }
            let block = py + rowRange.lowerBound * n + columns.lowerBound
            for r in 0..<rowRange.count {
                let row = block + r * n
                if let biasValues {
                    ferry_binary_f32(
                        Int32(FERRY_BIN_ADD.rawValue), row, 1, biasValues + columns.lowerBound, 1, row, columns.count)
                }
                if let inPass {
                    let z = inPass + (rowRange.lowerBound + r) * n + columns.lowerBound
                    ferry_binary_f32(Int32(FERRY_BIN_ADD.rawValue), row, 1, z, 1, row, columns.count)
                }
            }
            ferry_scale_bias_act(
                block, rowRange.count, columns.count, n, nil, nil, activation.code, activation.alpha, activation.beta)
        }
        guard let residual, inPass == nil else { return y }
        return try self.activation.applied(to: y, plusBroadcast: residual, ctx)
    }
}

/// Integer and double MatMul by plain loops.
private struct MatMulNaive: NumericVisitor {
    let a: Value, b: Value, m: Int, n: Int, k: Int, batchShape: [Int], outShape: [Int], ctx: ExecutionContext

    func visit<T: RTNumber>(_: T.Type) throws -> Value {
        let y = try ctx.allocate(a.type, outShape)
        let batch = batchShape.reduce(1, *)
        let bcA = try Broadcast([Array(a.shape.dropLast(2)), batchShape]),
            bcB = try Broadcast([Array(b.shape.dropLast(2)), batchShape])
        let offA = bcA.inputOffsets(), offB = bcB.inputOffsets()
        let pa = a.pointer(T.self), pb = b.pointer(T.self), py = y.pointer(T.self)
        for bi in 0..<batch {
            let xa = pa + offA[bi] * m * k, xb = pb + offB[bi] * k * n, out = py + bi * m * n
            for i in 0..<m {
                for j in 0..<n {
                    var s = T.zero
                    for t in 0..<k { s = T.add(s, T.mul(xa[i * k + t], xb[t * n + j])) }
                    out[i * n + j] = s
                }
            }
        }
        return y
    }
}

/// Gemm and MatMul.
enum MatMulOps {
    static func register(into r: inout KernelRegistry) {
        r.register("Gemm") { spec in try GemmKernel(spec) }
        r.register("MatMul") { spec in try MatMulKernel(spec) }
    }
}
