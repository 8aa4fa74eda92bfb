import CKernels
import FerryIR

/// Where a quantized matrix product finds its inputs, for each op that has one.
struct QuantizedProductSlots {
    var a = 0, aScale: Int?, aZero: Int?, b = 1, bScale: Int?, bZero: Int?, bias: Int?, yScale: Int?, yZero: Int?
    /// A is float and quantized per run (DynamicQuantizeMatMul).
    var dynamicA = false
    /// The bias is float, added after dequantization (MatMulIntegerToFloat, DynamicQuantizeMatMul).
    var floatBias = false

    static let qlinearMatMul = QuantizedProductSlots(aScale: 1, aZero: 2, b: 3, bScale: 4, bZero: 5, yScale: 6, yZero: 7)
    static let matMulInteger = QuantizedProductSlots(aZero: 2, bZero: 3)
    static let matMulIntegerToFloat = QuantizedProductSlots(aScale: 2, aZero: 4, bScale: 3, bZero: 5, bias: 6, floatBias: true)
    static let dynamicQuantizeMatMul = QuantizedProductSlots(bScale: 2, bZero: 3, bias: 4, dynamicA: true, floatBias: true)
    static let qgemm = QuantizedProductSlots(aScale: 1, aZero: 2, b: 3, bScale: 4, bZero: 5, bias: 6, yScale: 7, yZero: 8)
}

/// QLinearMatMul, MatMulInteger and the com.microsoft products MatMulIntegerToFloat,
/// DynamicQuantizeMatMul and QGemm (and the MatMul / Gemm that QDQ fusion rewrites into
/// QLinearMatMul / QGemm). NumPy batching as MatMul. The product runs transposed, Yᵀ = Bᵀ Aᵀ, so
/// that B's per-column zero points and scales are per-row ones of the int8 GEMM: Bᵀ is packed once
/// at plan time when B is constant, Aᵀ is packed per run, and the output pass (bias, scale,
/// requantization) works on rows before the result is transposed back.
final class QuantizedMatMulKernel: Kernel {
    private let slots: QuantizedProductSlots
    private let transA: Bool, transB: Bool
    private let alpha: Float
    private let activation: FusedActivation
    private let floatOutput: Bool
    private let constantB: (shape: [Int], packed: PackedQuantizedMatrices)?

    var prepackedInputs: Set<Int> { constantB == nil ? [] : [slots.b] }

    init(_ spec: NodeSpec, slots: QuantizedProductSlots) throws {
        self.slots = slots
        transA = try spec.int("transA", 0) != 0
        transB = try spec.int("transB", 0) != 0
        alpha = try spec.float("alpha", 1)
        activation = try FusedActivation(spec)
        // Float out: ops without an output scale that have input scales (MatMulIntegerToFloat,
        // DynamicQuantizeMatMul), QGemm without y_scale, and fused products marked so.
        let hasOutputScale = slots.yScale.map { spec.hasInput($0) } ?? false
        floatOutput =
            try spec.int(QuantizedConvKernel.floatOutputAttribute, 0) != 0
            || !hasOutputScale && (slots.aScale != nil || slots.dynamicA)
        // B is packed at plan time when it and its zero point (if wired) are constant.
        let zeroKnown = slots.bZero.map { !spec.hasInput($0) || spec.constant($0) != nil } ?? true
        if let b = spec.constant(slots.b), b.rank >= 2, zeroKnown {
            guard QuantizedType.isByte(b.type) else { throw QuantizedType.unsupported(b.type) }
            constantB = (
                b.shape, try QuantizedMatMulKernel.pack(b, transB: transB, zero: slots.bZero.flatMap { spec.constant($0) })
            )
        } else {
            constantB = nil
        }
    }

    /// Bᵀ of every batch matrix of `b`, packed with B's per-column zero points.
    private static func pack(_ b: Value, transB: Bool, zero: Value?) throws -> PackedQuantizedMatrices {
        let rows = transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1], cols = transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let batch = b.count / max(1, rows * cols)
        let zeros = try quantizedRowZeros(rows, zero, "B")
        let bt: Value
        if transB {
            bt = b
        } else {
            bt = Value(type: b.type, shape: [batch, rows, cols], buffer: TensorBuffer(count: max(1, b.count)) { _ in })
            try ShapeStridedCopy(shape: [batch, rows, cols], strides: [rows * cols, 1, rows])
                .run(
                    from: b.buffer.baseAddress, to: bt.buffer.baseAddress, type: b.type,
                    ctx: ExecutionContext(pool: BufferPool(reusesBlocks: false), threads: 1))
        }
        return PackedQuantizedMatrices(
            bt.buffer.baseAddress, signed: b.type == .int8, groups: batch, rows: rows, columns: cols,
            zeroPoints: Array((0..<batch).map { _ in zeros }.joined()))
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        // A, quantized per run when it arrives as float.
        var a = try inputs.required(slots.a, "A")
        var aParams = TensorQuantization(scale: 1, zeroPoint: 0)
        if slots.dynamicA {
            (a, aParams) = try dynamicQuantizeLinear(a, ctx)
        } else {
            if let s = slots.aScale {
                let sv = try inputs.required(s, "A scale")
                guard sv.count == 1 else { throw KernelError.unsupported("A scale of shape \(sv.shape) (one value only)") }
                aParams.scale = try sv.scaleValues()[0]
            }
            if let z = slots.aZero, let zv = inputs.optional(z) {
                guard zv.count == 1 else { throw KernelError.unsupported("A zero point of shape \(zv.shape) (one value only)") }
                aParams.zeroPoint = try zv.zeroPointValues()[0]
            }
        }
        let bv = constantB == nil ? try inputs.required(slots.b, "B") : nil
        guard QuantizedType.isByte(a.type) else { throw QuantizedType.unsupported(a.type) }
        if let bv { guard QuantizedType.isByte(bv.type) else { throw QuantizedType.unsupported(bv.type) } }
        var bShape = constantB?.shape ?? bv!.shape
        guard a.rank >= 1, bShape.count >= 1 else { throw KernelError.invalid("inputs must be at least 1-D") }
        guard !(transA || transB) || a.rank == 2 && bShape.count == 2 else {
            throw KernelError.invalid("transposed operands must be matrices")
        }
        let aMatrix = a.rank == 1 ? [1, a.shape[0]] : Array(a.shape.suffix(2))
        if bShape.count == 1 { bShape = [bShape[0], 1] }
        let m = transA ? aMatrix[1] : aMatrix[0], k = transA ? aMatrix[0] : aMatrix[1]
        let kb = transB ? bShape[bShape.count - 1] : bShape[bShape.count - 2],
            n = transB ? bShape[bShape.count - 2] : bShape[bShape.count - 1]
        guard k == kb else { throw KernelError.invalid("A \(a.shape) and B \(bShape) do not multiply") }
        let aBatch = a.rank > 2 ? Array(a.shape.dropLast(2)) : [], bBatch = Array(bShape.dropLast(2))
        let batchShape = try Broadcast([aBatch, bBatch]).shape
        var outShape = batchShape + [m, n]
        if a.rank == 1 { outShape.remove(at: outShape.count - 2) }
        if (constantB?.shape ?? bv!.shape).count == 1 { outShape.removeLast() }

        let packed =
            try constantB?.packed
            ?? QuantizedMatMulKernel.pack(
                bv!.rank == 1 ? bv!.reshaped(bShape) : bv!, transB: transB,
                zero: slots.bZero.flatMap { inputs.optional($0) })
        let (output, scales) = try outputPass(inputs, n: n, aScale: aParams.scale)
        let bias = try biasValues(inputs, n: n)
        let y = try ctx.allocate(output.elementType, outShape)
        guard y.count > 0 else { return [y] }

        // B without batch axes: A's batch folds into its rows.
        let fold = bBatch.allSatisfy { $0 == 1 }
        let rows = fold ? a.count / max(1, k) : m
        let batch = fold ? 1 : batchShape.reduce(1, *)
        let offA = fold ? [0] : try Broadcast([aBatch, batchShape]).inputOffsets()
        let offB = fold ? [0] : try Broadcast([bBatch, batchShape]).inputOffsets()
        let product = QuantizedProduct(
            rows: rows, n: n, k: k, aType: a.type, aZero: aParams.zeroPoint, transA: transA, output: output,
            scales: scales, bias: bias.int, floatBias: bias.float)
        for i in 0..<batch {
            try product.run(
                a: a.buffer.baseAddress + offA[i] * m * k, weights: packed, group: offB[i],
                y: y.buffer.baseAddress + i * rows * n * elementSize(y.type), ctx)
        }
        return [y]
    }

    /// The output pass in force and its per-column scales.
    private func outputPass(_ inputs: [Value?], n: Int, aScale: Float) throws -> (QuantizedOutput, [Float]) {
        guard let bScaleSlot = slots.bScale else { return (.int32, [Float](repeating: 1, count: n)) }
        let bScales = try inputs.required(bScaleSlot, "B scale").scaleValues()
        if floatOutput {
            return (
                .float(activation), try quantizedRowScales(n, inputScale: aScale * alpha, weightScales: bScales, outputScale: nil)
            )
        }
        let yScale = try TensorQuantization(inputs, scale: slots.yScale!, zeroPoint: slots.yZero!, "Y").scale
        let output = try QuantizedOutput.requantize(
            try inputs.required(slots.yZero!, "Y zero point"), scale: yScale, activation: activation)
        return (
            output,
            try quantizedRowScales(
                n, inputScale: aScale * alpha, weightScales: bScales, outputScale: output.rowScaleDivisor(yScale))
        )
    }

    /// The bias as int32 per column (QGemm's C) or float per column.
    private func biasValues(_ inputs: [Value?], n: Int) throws -> (int: [Int32]?, float: [Float]?) {
        guard let slot = slots.bias, let b = inputs.optional(slot) else { return (nil, nil) }
        guard b.count == n || b.count == 1, b.shape.dropLast().allSatisfy({ $0 == 1 }) else {
            throw KernelError.unsupported("bias of shape \(b.shape) (one value per output column only)")
        }
        let expand: ([Int32]) -> [Int32] = { $0.count == 1 ? [Int32](repeating: $0[0], count: n) : $0 }
        if slots.floatBias {
            let v = try b.scaleValues()
            return (nil, v.count == 1 ? [Float](repeating: v[0], count: n) : v)
        }
        guard b.type == .int32 else { throw KernelError.invalid("bias must be int32, got \(b.type.name)") }
        return (expand(try b.zeroPointValues()), nil)
    }
}

/// One [rows x k] x [k x n] product of the quantized MatMul family, run transposed on the int8 GEMM.
private struct QuantizedProduct {
    let rows: Int, n: Int, k: Int
    let aType: ElementType, aZero: Int32, transA: Bool
    let output: QuantizedOutput, scales: [Float], bias: [Int32]?, floatBias: [Float]?

    /// Y (rows x n, row-major) from A at `a` (rows x k, or k x rows when transposed) and packed Bᵀ
    /// (group `group` of `weights`).
    func run(
        a: UnsafeMutableRawPointer, weights: PackedQuantizedMatrices, group: Int, y: UnsafeMutableRawPointer,
        _ ctx: ExecutionContext
    ) throws {
        if rows == 1 {
            try multiplyVector(a: a, weights: weights, group: group, y: y, ctx)
        } else {
            try multiplyMatrix(a: a, weights: weights, group: group, y: y, ctx)
        }
    }

    /// One row of A (batch 1): Yᵀ = Bᵀ a as matrix-vector products over parts of Bᵀ's rows, each
    /// with its output pass; Yᵀ and Y share their layout.
    private func multiplyVector(
        a: UnsafeMutableRawPointer, weights: PackedQuantizedMatrices, group: Int, y: UnsafeMutableRawPointer,
        _ ctx: ExecutionContext
    ) throws {
        let es = elementSize(output.elementType), panel = Int(FERRY_QGEMM_PANEL_ROWS)
        let parts = n * k >= minimumParallelWork ? ctx.threads : 1, panels = (n + panel - 1) / panel
        let scratchBytes = (2 * k + 4 + 63) / 64 * 64
        let sums = try ctx.allocate(.int32, [n]), scratch = try ctx.allocate(.uint8, [parts * scratchBytes])
        let c = sums.pointer(Int32.self), signed: Int32 = aType == .int8 ? 1 : 0
        let output = self.output, n = self.n, k = self.k, aZero = self.aZero
        try scales.withUnsafeBufferPointer { s in
            try withBias { bias in
                parallelRanges(parts, threads: parts) { r in
                    for part in r {
                        let lo = min(n, panels * part / parts * panel), hi = min(n, panels * (part + 1) / parts * panel)
                        guard lo < hi else { continue }
                        weights.multiplyVector(
                            group: group, m: n, k: k, x: a, signed: signed, zeroPoint: aZero, rows: lo..<hi, c: c,
                            scratch: scratch.buffer.baseAddress + part * scratchBytes)
                        output.write(
                            c + lo, ldc: 1, rows: hi - lo, cols: 1, bias: bias.int.map { $0 + lo }, scale: s.baseAddress! + lo,
                            floatBias: bias.float.map { $0 + lo }, to: y + lo * es, ldy: 1)
                    }
                }
            }
        }
    }

    /// Several rows of A: Aᵀ packed per part of its columns, the GEMM, the output pass, Yᵀ transposed
    /// into Y.
    private func multiplyMatrix(
        a: UnsafeMutableRawPointer, weights: PackedQuantizedMatrices, group: Int, y: UnsafeMutableRawPointer,
        _ ctx: ExecutionContext
    ) throws {
        // Aᵀ (k x rows) is B of the transposed product.
        let at: UnsafeRawPointer
        var aTransposed: Value? = nil
        if transA {
            at = UnsafeRawPointer(a)
        } else {
            let t = try ctx.allocate(aType, [k, rows])
            try ShapeStridedCopy(shape: [k, rows], strides: [1, k]).run(from: a, to: t.buffer.baseAddress, type: aType, ctx: ctx)
            aTransposed = t
            at = UnsafeRawPointer(t.buffer.baseAddress)
        }
        let es = elementSize(output.elementType)
        // Yᵀ (n x rows) in the output type, transposed into Y at the end.
        let yt = try ctx.allocate(output.elementType, [n, rows])
        let parts = ctx.threads
        let panels = (rows + 15) / 16
        let span = (panels + parts - 1) / parts * 16
        let bBytes = weights.packedBSize(columns: span, depth: k)
        let partBytes = bBytes + n * span * 4
        let scratch = try ctx.allocate(.uint8, [parts * partBytes])
        let signed: Int32 = aType == .int8 ? 1 : 0
        let output = self.output, n = self.n, k = self.k, rows = self.rows, aZero = self.aZero
        try scales.withUnsafeBufferPointer { s in
            try withBias { bias in
                parallelRanges(parts, threads: rows * n * k >= minimumParallelWork ? parts : 1) { r in
                    for part in r {
                        let lo = min(rows, panels * part / parts * 16), hi = min(rows, panels * (part + 1) / parts * 16)
                        guard lo < hi else { continue }
                        let b = scratch.buffer.baseAddress + part * partBytes
                        let sums = (b + bBytes).assumingMemoryBound(to: Int32.self)
                        weights.packB(at + lo, signed: signed, ldb: rows, k: k, n: hi - lo, zeroPoint: aZero, into: b)
                        weights.multiply(
                            group: group, m: n, n: hi - lo, k: k, packedB: b, bSigned: signed, bZeroPoint: aZero,
                            c: sums, ldc: hi - lo)
                        output.write(
                            sums, ldc: hi - lo, rows: n, cols: hi - lo, bias: bias.int, scale: s.baseAddress!,
                            floatBias: bias.float, to: yt.buffer.baseAddress + lo * es, ldy: rows)
                    }
                }
            }
        }
        withExtendedLifetime(aTransposed) {}
        try ShapeStridedCopy(shape: [rows, n], strides: [1, rows]).run(
            from: yt.buffer.baseAddress, to: y, type: output.elementType, ctx: ctx)
    }

    /// The int32 and float biases (either, both or neither) as pointers.
    private func withBias(_ body: ((int: UnsafePointer<Int32>?, float: UnsafePointer<Float>?)) throws -> Void) throws {
        func floats(_ int: UnsafePointer<Int32>?) throws {
            if let floatBias {
                try floatBias.withUnsafeBufferPointer { try body((int, $0.baseAddress!)) }
            } else {
                try body((int, nil))
            }
        }
        if let bias { try bias.withUnsafeBufferPointer { try floats($0.baseAddress!) } } else { try floats(nil) }
    }
}
