import CKernels
import FerryIR

/// Where a quantized convolution finds its inputs (ONNX QLinearConv or ConvInteger order).
struct QuantizedConvSlots {
    let xScale: Int?
    let xZero: Int
    let w: Int
    let wScale: Int?
    let wZero: Int
    let yScale: Int?
    let yZero: Int?
    let bias: Int?

    static let qlinear = QuantizedConvSlots(xScale: 1, xZero: 2, w: 3, wScale: 4, wZero: 5, yScale: 6, yZero: 7, bias: 8)
    static let integer = QuantizedConvSlots(
        xScale: nil, xZero: 2, w: 1, wScale: nil, wZero: 3, yScale: nil, yZero: nil, bias: nil)
}

/// QLinearConv, ConvInteger, and the Conv that QDQ fusion rewrites into a QLinearConv (attribute
/// `ferry.float_output`: dequantized float output; `ferry.activation`: Relu/Clip clamp or float
/// activation). Exact int32 sums from the int8 GEMM (weights packed once at plan time, im2col
/// straight into packed B, 1x1 stride-1 convolutions packed without im2col), the direct channels-last
/// kernel (DirectQuantizedConv, AVX-512 VNNI) or the int8 depthwise
/// kernel; bias and requantization in the output pass.
final class QuantizedConvKernel: Kernel {
    static let floatOutputAttribute = "ferry.float_output"

    private let slots: QuantizedConvSlots
    private let spec: NodeSpec
    private let groups: Int
    private let activation: FusedActivation
    private let floatOutput: Bool
    private let geometry: WindowGeometry?
    private let weightShape: [Int]?
    private let packedWeights: PackedQuantizedMatrices?
    private let direct: DirectQuantizedConv?

    var prepackedInputs: Set<Int> { packedWeights == nil ? [] : [slots.w] }

    /// Bytes of packed im2col columns per tile (and per thread).
    static let packedBudget = 1 << 20

    init(_ spec: NodeSpec, slots: QuantizedConvSlots) throws {
        self.spec = spec
        self.slots = slots
        groups = try spec.int("group", 1)
        guard groups >= 1 else { throw KernelError.invalid("group must be positive") }
        activation = try FusedActivation(spec)
        floatOutput = try spec.int(QuantizedConvKernel.floatOutputAttribute, 0) != 0
        weightShape = spec.constant(slots.w)?.shape
        guard let w = spec.constant(slots.w) else {
            geometry = nil
            packedWeights = nil
            direct = nil
            return
        }
        guard QuantizedType.isByte(w.type) else { throw QuantizedType.unsupported(w.type) }
        guard w.rank >= 3 else { throw KernelError.invalid("weights must have rank >= 3, got \(w.shape)") }
        geometry = try WindowGeometry(spec, kernel: try spec.ints("kernel_shape") ?? Array(w.shape.dropFirst(2)))
        guard w.shape[0] > 0, w.shape[0] % groups == 0 else {
            throw KernelError.invalid("\(w.shape[0]) output channels do not split into \(groups) groups")
        }
        let depthwise = w.rank == 4 && groups == w.shape[0] && w.shape[1] == 1
        // Packed now when the weights' zero point is constant too (or absent).
        if !depthwise && (!spec.hasInput(slots.wZero) || spec.constant(slots.wZero) != nil) {
            let zeros = try quantizedRowZeros(w.shape[0], spec.constant(slots.wZero), "weight")
            packedWeights = PackedQuantizedMatrices(
                w.buffer.baseAddress, signed: w.type == .int8, groups: groups,
                rows: w.shape[0] / groups, columns: w.count / w.shape[0], zeroPoints: zeros)
            direct = DirectQuantizedConv(w, groups: groups, zeroPoints: zeros)
        } else {
            packedWeights = nil
            direct = nil
        }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0, "x")
        let w = packedWeights == nil ? try inputs.required(slots.w, "w") : nil
        let wShape = w?.shape ?? weightShape!
        guard QuantizedType.isByte(x.type) else { throw QuantizedType.unsupported(x.type) }
        if let w { guard QuantizedType.isByte(w.type) else { throw QuantizedType.unsupported(w.type) } }
        let shape = try ConvolutionShape(spec, known: geometry, input: x.shape, weights: wShape, groups: groups)
        let g = shape.geometry, n = shape.batch, c = shape.channels, m = shape.outputChannels
        let xZero = try quantizedRowZeros(1, inputs.optional(slots.xZero), "x")[0]
        let xRange = try QuantizedType.range(x.type)
        guard xZero >= xRange.lo && xZero <= xRange.hi else {
            throw KernelError.invalid("x zero point \(xZero) is not a \(x.type.name) value")
        }
        let (output, scales) = try outputPass(inputs, m: m)
        var bias: [Int32]? = nil
        if let slot = slots.bias, let b = inputs.optional(slot) {
            guard b.type == .int32, b.count == m else {
                throw KernelError.invalid("bias must be \(m) int32 values, got \(b.type.name) \(b.shape)")
            }
            bias = try b.zeroPointValues()
        }
        let spatial = Array(x.shape.dropFirst(2))
        let (outSpatial, padBegin, _) = try g.forward(spatial)
        let y = try ctx.allocate(output.elementType, [n, m] + outSpatial)
        guard y.count > 0 else { return [y] }
        let job = QuantizedConvJob(
            x: x, xZero: xZero, wShape: wShape, groups: groups, geometry: g, spatial: spatial,
            outSpatial: outSpatial, padBegin: padBegin, output: output, scales: scales, bias: bias, y: y)
        if let w, g.rank == 2 && groups == c && m == c && wShape[1] == 1 {
            try job.depthwise(w: w, wZeros: try quantizedRowZeros(m, inputs.optional(slots.wZero), "weight"), ctx)
        } else if let direct, try job.direct(direct, ctx) {
            // written by the direct kernel
        } else {
            let packed =
                try packedWeights
                ?? PackedQuantizedMatrices(
                    w!.buffer.baseAddress, signed: w!.type == .int8, groups: groups,
                    rows: m / groups, columns: w!.count / m,
                    zeroPoints: try quantizedRowZeros(m, inputs.optional(slots.wZero), "weight"))
            try job.gemm(packed, ctx)
        }
        return [y]
    }

    /// The output pass in force and its per-channel scales.
    private func outputPass(_ inputs: [Value?], m: Int) throws -> (QuantizedOutput, [Float]) {
        guard let xScaleSlot = slots.xScale, let wScaleSlot = slots.wScale else {
            return (.int32, [Float](repeating: 1, count: m))
        }
        let xs = try inputs.required(xScaleSlot, "x_scale")
        guard xs.count == 1 else { throw KernelError.invalid("x_scale must be one value, got \(xs.shape)") }
        let ws = try inputs.required(wScaleSlot, "w_scale").scaleValues()
        if floatOutput {
            return (
                .float(activation),
                try quantizedRowScales(m, inputScale: try xs.scaleValues()[0], weightScales: ws, outputScale: nil)
            )
        }
        let ys = try inputs.required(slots.yScale!, "y_scale")
        guard ys.count == 1 else { throw KernelError.invalid("y_scale must be one value, got \(ys.shape)") }
        let yScale = try ys.scaleValues()[0]
        let output = try QuantizedOutput.requantize(
            try inputs.required(slots.yZero!, "y_zero_point"), scale: yScale, activation: activation)
        return (
            output,
            try quantizedRowScales(
                m, inputScale: try xs.scaleValues()[0], weightScales: ws, outputScale: output.rowScaleDivisor(yScale))
        )
    }
}

/// One run of a quantized convolution over a batch of images.
private struct QuantizedConvJob {
    let x: Value, xZero: Int32, wShape: [Int], groups: Int, geometry: WindowGeometry
    let spatial: [Int], outSpatial: [Int], padBegin: [Int]
    let output: QuantizedOutput, scales: [Float], bias: [Int32]?, y: Value

    /// Depthwise 2-D: one filter per channel, int32 sums of a channel range then its output pass.
    func depthwise(w: Value, wZeros: [Int32], _ ctx: ExecutionContext) throws {
        let n = x.shape[0], c = x.shape[1], p = outSpatial.reduce(1, *), inPlane = spatial.reduce(1, *)
        let g = geometry, ys = elementSize(y.type)
        let acc = try ctx.allocate(.int32, [c * p])
        let sums = acc.pointer(Int32.self)
        let xSigned: Int32 = x.type == .int8 ? 1 : 0, wSigned: Int32 = w.type == .int8 ? 1 : 0
        try withParameters { scale, bias in
            wZeros.withUnsafeBufferPointer { wz in
                for img in 0..<n {
                    let xi = UnsafeRawPointer(x.buffer.baseAddress + img * c * inPlane),
                        yi = y.buffer.baseAddress + img * c * p * ys
                    ctx.parallel(c, grain: max(1, minimumParallelWork / max(1, p * g.kernel[0] * g.kernel[1]))) { r in
                        ferry_qdepthwise_2d(
                            xi, xSigned, xZero, w.buffer.baseAddress, wSigned, wz.baseAddress, sums, r.lowerBound, r.upperBound,
                            spatial[0], spatial[1], g.kernel[0], g.kernel[1], g.strides[0], g.strides[1],
                            g.dilations[0], g.dilations[1], padBegin[0], padBegin[1], outSpatial[0], outSpatial[1])
                        let lo = r.lowerBound
                        output.write(
                            sums + lo * p, ldc: p, rows: r.count, cols: p, bias: bias.map { $0 + lo }, scale: scale + lo,
                            to: yi + lo * p * ys, ldy: p)
                    }
                }
            }
        }
    }

    /// The direct channels-last kernel, when it applies to this run (false: take the GEMM path).
    func direct(_ kernel: DirectQuantizedConv, _ ctx: ExecutionContext) throws -> Bool {
        var done = false
        try withParameters { scale, bias in
            done = try kernel.run(
                x: x, xZero: xZero, geometry: geometry, outSpatial: outSpatial, padBegin: padBegin,
                output: output, scale: scale, bias: bias, y: y, ctx)
        }
        return done
    }

    /// im2col (or direct packing for 1x1 stride-1 convolutions) into packed B, int8 GEMM, output
    /// pass; threads take whole column tiles.
    func gemm(_ packed: PackedQuantizedMatrices, _ ctx: ExecutionContext) throws {
        let n = x.shape[0], c = x.shape[1], m = wShape[0], g = geometry
        let p = outSpatial.reduce(1, *), inPlane = spatial.reduce(1, *)
        let cg = c / groups, mg = m / groups, kc = cg * g.kernel.reduce(1, *)
        let pointwise =
            g.kernel.allSatisfy { $0 == 1 } && g.strides.allSatisfy { $0 == 1 } && padBegin.allSatisfy { $0 == 0 } && p == inPlane
        // Packed B holds int16 values (two bytes per element) or, in the byte layout, one byte.
        let elementBytes = packed.bytes ? 1 : 2
        let tileCols = min((p + 15) / 16 * 16, max(16, QuantizedConvKernel.packedBudget / max(1, elementBytes * kc) / 16 * 16))
        let parts = ctx.threads
        let direct = output.elementType == .int32
        // Per part: packed B, the im2col row scratch, and the int32 sums of one tile.
        let bBytes = packed.packedBSize(columns: tileCols, depth: kc)
        let rowBytes = (tileCols * 4 + 63) / 64 * 64
        let partBytes = bBytes + rowBytes + (direct ? 0 : mg * tileCols * 4)
        let scratch = try ctx.allocate(.uint8, [parts * partBytes])
        let xSigned: Int32 = x.type == .int8 ? 1 : 0, ys = elementSize(y.type)
        let inShape = spatial, outShape = outSpatial, pads = padBegin, xZero = self.xZero, output = self.output
        let panels = (p + 15) / 16
        try withParameters { scale, bias in
            for img in 0..<n {
                for grp in 0..<groups {
                    let xg = UnsafeRawPointer(x.buffer.baseAddress + (img * c + grp * cg) * inPlane)
                    let yg = y.buffer.baseAddress + (img * m + grp * mg) * p * ys
                    let bg = bias.map { $0 + grp * mg }, sg = scale + grp * mg
                    parallelRanges(parts, threads: mg * p * kc >= minimumParallelWork ? parts : 1) { r in
                        for part in r {
                            let b = scratch.buffer.baseAddress + part * partBytes
                            let row = b + bBytes
                            let sums = (row + rowBytes).assumingMemoryBound(to: Int32.self)
                            var start = panels * part / parts * 16
                            let hi = min(p, panels * (part + 1) / parts * 16)
                            while start < hi {
                                let end = min(hi, start + tileCols), cols = end - start
                                if pointwise {
                                    packed.packB(xg + start, signed: xSigned, ldb: p, k: kc, n: cols, zeroPoint: xZero, into: b)
                                } else {
                                    packed.im2col(
                                        xg, signed: xSigned, zeroPoint: xZero, channels: cg, geometry: g, inShape: inShape,
                                        padBegin: pads, outShape: outShape, begin: start, end: end, into: b, row: row)
                                }
                                if direct {
                                    packed.multiply(
                                        group: grp, m: mg, n: cols, k: kc, packedB: b, bSigned: xSigned, bZeroPoint: xZero,
                                        c: (yg + start * 4).assumingMemoryBound(to: Int32.self), ldc: p)
                                } else {
                                    packed.multiply(
                                        group: grp, m: mg, n: cols, k: kc, packedB: b, bSigned: xSigned, bZeroPoint: xZero,
                                        c: sums, ldc: cols)
                                    output.write(
                                        sums, ldc: cols, rows: mg, cols: cols, bias: bg, scale: sg, to: yg + start * ys, ldy: p)
                                }
                                start = end
                            }
                        }
                    }
                }
            }
        }
    }

    /// Runs `body` with pointers to the per-channel scales and biases.
    private func withParameters(_ body: (UnsafePointer<Float>, UnsafePointer<Int32>?) throws -> Void) throws {
        try scales.withUnsafeBufferPointer { s in
            if let bias {
                try bias.withUnsafeBufferPointer { b in try body(s.baseAddress!, b.baseAddress!) }
            } else {
                try body(s.baseAddress!, nil)
            }
        }
    }
}
