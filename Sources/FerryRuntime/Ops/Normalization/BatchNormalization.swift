import FerryIR

extension NormalizationOps {
    /// BatchNormalization: `scale * (x - mean) / sqrt(var + epsilon) + B` per channel (axis 1) with the
    /// given statistics, or in training mode with the batch's statistics, also returning the updated
    /// running statistics (opset 14+: `training_mode`; before: when the extra outputs are wired).
    static func batchNormalization(_ spec: NodeSpec) throws -> Kernel {
        let epsilon = Double(try spec.float("epsilon", 1e-5))
        let momentum = Double(try spec.float("momentum", 0.9))
        // Opsets 6 and 7 have `spatial`: when 0, the statistics are per element of C x D1 x ... Dn.
        let spatial = spec.opset < 9 ? try spec.int("spatial", 1) != 0 : true
        let training: Bool
        if spec.opset >= 14 {
            training = try spec.int("training_mode", 0) != 0
        } else {
            training = (1..<max(spec.outputCount, 1)).contains { spec.hasOutput($0) }
        }
        let legacyOutputs = spec.opset < 14
        let plain = FunctionKernel { inputs, ctx in
            let x0 = try inputs.required(0, "X")
            guard x0.rank >= 2 else { throw KernelError.invalid("X must have rank 2 or more, got shape \(x0.shape)") }
            let x = try NormalizationMath.widened(x0, ctx)
            let batch = x.shape[0]
            let perBatch = x.shape.dropFirst().reduce(1, *)
            let channels = spatial ? x.shape[1] : perBatch
            let inner = channels == 0 ? 0 : perBatch / channels
            let scale = try NormalizationMath.parameters(try inputs.required(1, "scale"), "scale", count: channels, ctx)
            let bias = try NormalizationMath.parameters(try inputs.required(2, "B"), "B", count: channels, ctx)
            let meanInput = try inputs.required(3, "input_mean")
            let mean = try NormalizationMath.parameters(meanInput, "input_mean", count: channels, ctx)
            let variance = try NormalizationMath.parameters(
                try inputs.required(4, "input_var"), "input_var", count: channels, ctx)

            var useMean = mean, useVariance = variance
            var extra: [Value?] = []
            if training {
                let stats = try dispatchFloat(
                    x.type, NormalizationChannelMoments(x: x, batch: batch, channels: channels, inner: inner, ctx: ctx))
                useMean = stats.mean
                useVariance = stats.variance
                let runningMean = (0..<channels).map { mean[$0] * momentum + stats.mean[$0] * (1 - momentum) }
                let runningVar = (0..<channels).map { variance[$0] * momentum + stats.variance[$0] * (1 - momentum) }
                let type = meanInput.type, shape = [channels]
                extra = [
                    try NormalizationMath.tensor(runningMean, type: type, shape: shape, ctx),
                    try NormalizationMath.tensor(runningVar, type: type, shape: shape, ctx)
                ]
                if legacyOutputs {
                    extra += [
                        try NormalizationMath.tensor(stats.mean, type: type, shape: shape, ctx),
                        try NormalizationMath.tensor(stats.variance, type: type, shape: shape, ctx)
                    ]
                }
            }
            let (a, b) = affineCoefficients(scale: scale, bias: bias, mean: useMean, variance: useVariance, epsilon: epsilon)
            let y = try NormalizationMath.applyAffine(x, inner: inner, a: a, b: b, ctx)
            return [try NormalizationMath.narrowed(y, to: x0.type, ctx)] + extra
        }
        if spec.has(ChannelSteps.attribute) || spec.has(FusedActivation.attribute) {
            return try ChannelStepsBatchNormalizationKernel(spec, plain: plain)
        }
        return plain
    }

    /// Per channel, `a` and `b` with y = a * x + b: the normalization with the given statistics.
    private static func affineCoefficients(
        scale: [Double], bias: [Double], mean: [Double], variance: [Double],
        epsilon: Double
    ) -> (a: [Double], b: [Double]) {
        var a = [Double](repeating: 0, count: scale.count), b = a
        for c in 0..<scale.count {
            a[c] = scale[c] / (variance[c] + epsilon).squareRoot()
            b[c] = bias[c] - mean[c] * a[c]
        }
        return (a, b)
    }

    /// The inference-mode coefficients (`affineCoefficients` of the running statistics) from the
    /// op's inputs 1-4.
    static func inferenceCoefficients(
        _ inputs: [Value?], channels: Int, epsilon: Double,
        _ ctx: ExecutionContext
    ) throws -> (a: [Double], b: [Double]) {
        let scale = try NormalizationMath.parameters(try inputs.required(1, "scale"), "scale", count: channels, ctx)
        let bias = try NormalizationMath.parameters(try inputs.required(2, "B"), "B", count: channels, ctx)
        let mean = try NormalizationMath.parameters(try inputs.required(3, "input_mean"), "input_mean", count: channels, ctx)
        let variance = try NormalizationMath.parameters(try inputs.required(4, "input_var"), "input_var", count: channels, ctx)
        return affineCoefficients(scale: scale, bias: bias, mean: mean, variance: variance, epsilon: epsilon)
    }
}

/// Per-channel mean and population variance over the batch and spatial axes of [N, C, inner] data.
private struct NormalizationChannelMoments: FloatVisitor {
    let x: Value, batch: Int, channels: Int, inner: Int, ctx: ExecutionContext

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func visit<T: RTFloat>(_: T.Type) throws -> (mean: [Double], variance: [Double]) {
        var mean = [Double](repeating: 0, count: channels)
        var variance = [Double](repeating: 0, count: channels)
        let total = Double(batch * inner)
        guard total > 0 else { return (mean, variance) }
        let src = x.pointer(T.self)
        let (n, c, k) = (batch, channels, inner)
        mean.withUnsafeMutableBufferPointer { mp in
            variance.withUnsafeMutableBufferPointer { vp in
                let m = mp, v = vp
                ctx.parallel(c, itemElements: n * k) { r in
                    for ch in r {
                        var s = 0.0
                        for i in 0..<n { s += NormalizationMath.sum(src + (i * c + ch) * k, k) }
                        let mu = s / total
                        var q = 0.0
                        for i in 0..<n { q += NormalizationMath.squaredDeviations(src + (i * c + ch) * k, k, from: mu) }
                        m[ch] = mu
                        v[ch] = q / total
                    }
                }
            }
        }
        return (mean, variance)
    }
}
