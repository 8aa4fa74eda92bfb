import FerryIR

extension NormalizationOps {
    /// MeanVarianceNormalization: `(X - mean) / (sqrt(variance) + 1e-9)` with the statistics taken
    /// over `axes` (default [0, 2, 3]).
    static func meanVarianceNormalization(_ spec: NodeSpec) throws -> Kernel {
        let axesAttribute = try spec.ints("axes") ?? [0, 2, 3]
        return FunctionKernel { inputs, ctx in
            let x0 = try inputs.required(0, "X")
            var reduced = [Bool](repeating: false, count: x0.rank)
            for a in axesAttribute { reduced[try NormalizationMath.axis(a, rank: x0.rank, "axes entry")] = true }
            let x = try NormalizationMath.widened(x0, ctx)
            let y = try ctx.allocate(x.type, x.shape)
            try dispatchFloat(x.type, NormalizationMVNVisitor(x: x, y: y, reduced: reduced))
            return [try NormalizationMath.narrowed(y, to: x0.type, ctx)]
        }
    }
}

/// Normalises each slice over the reduced axes by its own mean and standard deviation.
private struct NormalizationMVNVisitor: FloatVisitor {
    let x: Value, y: Value, reduced: [Bool]

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func visit<T: RTFloat>(_: T.Type) throws {
        let shape = x.shape, total = x.count
        guard total > 0 else { return }
        // Each element's slice: its index over the axes that are kept.
        var keptStrides = [Int](repeating: 0, count: shape.count)
        var slices = 1
        for d in shape.indices.reversed() where !reduced[d] {
            keptStrides[d] = slices
            slices *= shape[d]
        }
        var slice = [Int](repeating: 0, count: total)
        var walk = StridedWalk(shape: shape, strides: keptStrides)
        for i in 0..<total {
            slice[i] = walk.offset
            walk.advance()
        }
        let src = x.pointer(T.self), dst = y.pointer(T.self)
        let perSlice = Double(total / slices)
        var mean = [Double](repeating: 0, count: slices)
        for i in 0..<total { mean[slice[i]] += Double(src[i]) }
        for s in 0..<slices { mean[s] /= perSlice }
        var deviation = [Double](repeating: 0, count: slices)
        for i in 0..<total {
            let d = Double(src[i]) - mean[slice[i]]
            deviation[slice[i]] += d * d
        }
        let m = mean.map { T($0) }
        let divisor = deviation.map { T(($0 / perSlice).squareRoot() + 1e-9) }
        for i in 0..<total { dst[i] = (src[i] - m[slice[i]]) / divisor[slice[i]] }
    }
}
