import FerryIR

extension NormalizationOps {
    /// InstanceNormalization: each (n, c) plane normalised by its own mean and variance, then
    /// `scale[c] * x̂ + B[c]`.
    static func instanceNormalization(_ spec: NodeSpec) throws -> Kernel {
        let epsilon = Double(try spec.float("epsilon", 1e-5))
        return FunctionKernel { inputs, ctx in
            let x0 = try inputs.required(0, "input")
            guard x0.rank >= 2 else { throw KernelError.invalid("input must have rank 2 or more, got shape \(x0.shape)") }
            let x = try NormalizationMath.widened(x0, ctx)
            let (batch, channels) = (x.shape[0], x.shape[1])
            let inner = x.shape.dropFirst(2).reduce(1, *)
            let scale = try NormalizationMath.parameters(try inputs.required(1, "scale"), "scale", count: channels, ctx)
            let bias = try NormalizationMath.parameters(try inputs.required(2, "B"), "B", count: channels, ctx)
            if x.count == 0 { return [try ctx.allocate(x0.type, x0.shape)] }
            let stats = try NormalizationMath.segmentMoments(x, inner: inner, ctx)
            var a = [Double](repeating: 0, count: batch * channels), b = a
            for s in 0..<batch * channels {
                let c = s % channels
                a[s] = scale[c] / (stats.variance[s] + epsilon).squareRoot()
                b[s] = bias[c] - stats.mean[s] * a[s]
            }
            let y = try NormalizationMath.applyAffine(x, inner: inner, a: a, b: b, ctx)
            return [try NormalizationMath.narrowed(y, to: x0.type, ctx)]
        }
    }

    /// GroupNormalization: the channels split into `num_groups` groups, each (n, group) normalised by
    /// its own mean and variance; `scale`/`bias` hold one value per group before opset 21 and one
    /// per channel from opset 21 on.
    static func groupNormalization(_ spec: NodeSpec) throws -> Kernel {
        let epsilon = Double(try spec.float("epsilon", 1e-5))
        let groups = try spec.int("num_groups", 0)
        guard groups > 0 else { throw KernelError.invalid("num_groups must be positive, got \(groups)") }
        let perChannel = spec.opset >= 21
        return FunctionKernel { inputs, ctx in
            let x0 = try inputs.required(0, "X")
            guard x0.rank >= 2 else { throw KernelError.invalid("X must have rank 2 or more, got shape \(x0.shape)") }
            let x = try NormalizationMath.widened(x0, ctx)
            let (batch, channels) = (x.shape[0], x.shape[1])
            guard channels % groups == 0 else {
                throw KernelError.invalid("\(channels) channels cannot be split into \(groups) groups")
            }
            let spatial = x.shape.dropFirst(2).reduce(1, *)
            let perGroup = channels / groups
            let count = perChannel ? channels : groups
            let scale = try NormalizationMath.parameters(try inputs.required(1, "scale"), "scale", count: count, ctx)
            let bias = try NormalizationMath.parameters(try inputs.required(2, "bias"), "bias", count: count, ctx)
            if x.count == 0 { return [try ctx.allocate(x0.type, x0.shape)] }
            let stats = try NormalizationMath.segmentMoments(x, inner: perGroup * spatial, ctx)
            var a = [Double](repeating: 0, count: batch * channels), b = a
            for s in 0..<batch * channels {
                let c = s % channels, g = (s / channels) * groups + c / perGroup
                let p = perChannel ? c : c / perGroup
                a[s] = scale[p] / (stats.variance[g] + epsilon).squareRoot()
                b[s] = bias[p] - stats.mean[g] * a[s]
            }
            let y = try NormalizationMath.applyAffine(x, inner: spatial, a: a, b: b, ctx)
            return [try NormalizationMath.narrowed(y, to: x0.type, ctx)]
        }
    }
}
