import CKernels
import FerryIR

extension NormalizationOps {
    /// LayerNormalization: every row over the axes from `axis` on normalised by its mean and variance,
    /// then `* Scale + B` (broadcast over those axes); optional Mean and InvStdDev outputs with the
    /// reduced axes kept as 1.
    static func layerNormalization(_ spec: NodeSpec) throws -> Kernel {
        let axisAttribute = try spec.int("axis", -1)
        let epsilon = Double(try spec.float("epsilon", 1e-5))
        return FunctionKernel { inputs, ctx in
            let x0 = try inputs.required(0, "X")
            let axis = try NormalizationMath.axis(axisAttribute, rank: x0.rank)
            let x = try NormalizationMath.widened(x0, ctx)
            let normalized = Array(x.shape[axis...])
            let rows = x.shape[..<axis].reduce(1, *), cols = normalized.reduce(1, *)
            let scale = try layerColumns(try inputs.required(1, "Scale"), normalized, "Scale", ctx)
            let bias = try inputs.optional(2).map { try layerColumns($0, normalized, "B", ctx) }
            let reduced = Array(x.shape[..<axis]) + [Int](repeating: 1, count: normalized.count)
            let outputs =
                x.type == .float
                ? try layerRowsFloat(x, rows: rows, cols: cols, scale: scale, bias: bias, epsilon: epsilon, reduced, ctx)
                : try layerRowsDouble(x, rows: rows, cols: cols, scale: scale, bias: bias, epsilon: epsilon, reduced, ctx)
            return [try NormalizationMath.narrowed(outputs[0], to: x0.type, ctx), outputs[1], outputs[2]]
        }
    }

    /// A Scale or B tensor expanded to one value per element of the normalised shape: the same
    /// element count, or unidirectionally broadcastable to that shape.
    private static func layerColumns(_ v: Value, _ normalized: [Int], _ what: String, _ ctx: ExecutionContext) throws -> [Double]
    {
        let values = try NormalizationMath.parameters(v, what, count: nil, ctx)
        let cols = normalized.reduce(1, *)
        if values.count == cols { return values }
        var shape = v.shape
        while shape.count > normalized.count, shape.first == 1 { shape.removeFirst() }
        shape = [Int](repeating: 1, count: max(normalized.count - shape.count, 0)) + shape
        guard shape.count == normalized.count, zip(shape, normalized).allSatisfy({ $0 == $1 || $0 == 1 }) else {
            throw KernelError.invalid("\(what) of shape \(v.shape) does not broadcast to the normalized shape \(normalized)")
        }
        var strides = [Int](repeating: 0, count: shape.count)
        var step = 1
        for d in shape.indices.reversed() {
            strides[d] = shape[d] == 1 ? 0 : step
            step *= shape[d]
        }
        var out = [Double](repeating: 0, count: cols)
        var index = [Int](repeating: 0, count: shape.count)
        for j in 0..<cols {
            var source = 0
            for d in shape.indices { source += index[d] * strides[d] }
            out[j] = values[source]
            stepIndex(&index, within: normalized, axes: shape.count)
        }
        return out
    }

    /// Y, Mean and InvStdDev of float32 `x` by `ferry_layer_norm_rows`, rows shared among the threads.
    private static func layerRowsFloat(
        _ x: Value, rows: Int, cols: Int, scale: [Double], bias: [Double]?, epsilon: Double, _ reduced: [Int],
        _ ctx: ExecutionContext
    ) throws -> [Value] {
        let y = try ctx.allocate(.float, x.shape)
        let mean = try ctx.allocate(.float, reduced), inverse = try ctx.allocate(.float, reduced)
        guard cols > 0 else {
            // Rows of no elements: mean 0 and variance 0, as their moments are taken to be.
            for r in 0..<rows { (mean.floats[r], inverse.floats[r]) = (0, Float(1 / epsilon.squareRoot())) }
            return [y, mean, inverse]
        }
        let w = scale.map { Float($0) }, b = bias.map { $0.map { Float($0) } }
        let src = UnsafePointer(x.floats), dst = y.floats, m = mean.floats, s = inverse.floats
        w.withUnsafeBufferPointer { wp in
            func run(_ bp: UnsafePointer<Float>?) {
                ctx.parallel(rows, itemElements: cols) { r in
                    let lo = r.lowerBound
                    ferry_layer_norm_rows(
                        src + lo * cols, dst + lo * cols, r.count, cols, wp.baseAddress, bp, Float(epsilon), m + lo, s + lo)
                }
            }
            if let b { b.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
        }
        return [y, mean, inverse]
    }

    /// Y, Mean and InvStdDev of float64 `x`, moments and arithmetic in double.
    private static func layerRowsDouble(
        _ x: Value, rows: Int, cols: Int, scale: [Double], bias: [Double]?, epsilon: Double, _ reduced: [Int],
        _ ctx: ExecutionContext
    ) throws -> [Value] {
        let stats =
            cols == 0
            ? (mean: [Double](repeating: 0, count: rows), variance: [Double](repeating: 0, count: rows))
            : try NormalizationMath.segmentMoments(x, inner: cols, ctx)
        let inverse = stats.variance.map { 1 / ($0 + epsilon).squareRoot() }
        let y = try ctx.allocate(.double, x.shape)
        let src = x.pointer(Double.self), dst = y.pointer(Double.self)
        for (row, (mu, inv)) in zip(stats.mean, inverse).enumerated() {
            for j in 0..<cols { dst[row * cols + j] = (src[row * cols + j] - mu) * inv * scale[j] + (bias?[j] ?? 0) }
        }
        return [
            y, try NormalizationMath.tensor(stats.mean, type: .double, shape: reduced, ctx),
            try NormalizationMath.tensor(inverse, type: .double, shape: reduced, ctx)
        ]
    }
}
