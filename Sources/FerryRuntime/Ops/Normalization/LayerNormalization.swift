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
            let stats =
                x.count == 0
                ? (mean: [Double](repeating: 0, count: rows), variance: [Double](repeating: 0, count: rows))
                : try NormalizationMath.segmentMoments(x, inner: cols, ctx)
            let inverse = stats.variance.map { 1 / ($0 + epsilon).squareRoot() }
            let y = try ctx.allocate(x.type, x.shape)
            try dispatchFloat(
                x.type,
                NormalizationLayerApply(
                    x: x, y: y, cols: cols, mean: stats.mean, inverse: inverse,
                    scale: scale, bias: bias, ctx: ctx))
            let reduced = Array(x.shape[..<axis]) + [Int](repeating: 1, count: normalized.count)
            return [
                try NormalizationMath.narrowed(y, to: x0.type, ctx),
                try NormalizationMath.tensor(stats.mean, type: x.type, shape: reduced, ctx),
                try NormalizationMath.tensor(inverse, type: x.type, shape: reduced, ctx)
            ]
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
}

/// Writes `(x - mean[row]) * inverse[row] * scale[col] + bias[col]` for every element.
private struct NormalizationLayerApply: FloatVisitor {
    let x: Value, y: Value, cols: Int
    let mean: [Double], inverse: [Double], scale: [Double], bias: [Double]?
    let ctx: ExecutionContext

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func visit<T: RTFloat>(_: T.Type) throws {
        let rows = mean.count, n = cols
        guard rows > 0, n > 0 else { return }
        let w = scale.map { T($0) }
        let b = bias.map { $0.map { T($0) } } ?? [T](repeating: T.zero, count: n)
        let m = mean.map { T($0) }, s = inverse.map { T($0) }
        let src = x.pointer(T.self), dst = y.pointer(T.self)
        w.withUnsafeBufferPointer { wp in
            b.withUnsafeBufferPointer { bp in
                ctx.parallel(rows, itemElements: n) { r in
                    for row in r {
                        let xs = src + row * n, ys = dst + row * n
                        let mu = m[row], inv = s[row]
                        for j in 0..<n { ys[j] = (xs[j] - mu) * inv * wp[j] + bp[j] }
                    }
                }
            }
        }
    }
}
