import FerryIR

extension NormalizationOps {
    /// LRN: `x / (bias + alpha / size * Σ x²)^beta`, the sum over a window of `size` channels
    /// (axis 1) around each element: floor((size - 1) / 2) before, ceil((size - 1) / 2) after.
    static func lrn(_ spec: NodeSpec) throws -> Kernel {
        let size = try spec.int("size", 0)
        guard size > 0 else { throw KernelError.invalid("size must be positive, got \(size)") }
        let alpha = Double(try spec.float("alpha", 1e-4))
        let beta = Double(try spec.float("beta", 0.75))
        let bias = Double(try spec.float("bias", 1.0))
        return FunctionKernel { inputs, ctx in
            let x0 = try inputs.required(0, "X")
            guard x0.rank >= 2 else { throw KernelError.invalid("X must have rank 2 or more, got shape \(x0.shape)") }
            let x = try NormalizationMath.widened(x0, ctx)
            let y = try ctx.allocate(x.type, x.shape)
            let window = NormalizationLRNWindow(
                before: (size - 1) / 2, after: size / 2, coefficient: alpha / Double(size), bias: bias, beta: beta)
            try dispatchFloat(x.type, NormalizationLRNVisitor(x: x, y: y, window: window, ctx: ctx))
            return [try NormalizationMath.narrowed(y, to: x0.type, ctx)]
        }
    }
}

/// LRN's channel window and constants.
private struct NormalizationLRNWindow {
    let before: Int, after: Int
    let coefficient: Double, bias: Double, beta: Double
}

/// Computes LRN one (n, c) plane at a time: sums the squares of the window's planes into the output,
/// then scales the input by the power of that sum.
private struct NormalizationLRNVisitor: FloatVisitor {
    let x: Value, y: Value, window: NormalizationLRNWindow, ctx: ExecutionContext

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func visit<T: RTFloat>(_: T.Type) throws {
        let channels = x.shape[1]
        let inner = x.shape.dropFirst(2).reduce(1, *)
        let planes = x.shape[0] * channels
        guard planes > 0, inner > 0 else { return }
        let src = x.pointer(T.self), dst = y.pointer(T.self)
        let w = window
        let k = T(w.coefficient), bias = T(w.bias), negBeta = T(-w.beta)
        ctx.parallel(planes, grain: max(1, 8192 / inner)) { r in
            for p in r {
                let c = p % channels, base = p - c
                let out = dst + p * inner
                for i in 0..<inner { out[i] = T.zero }
                for cc in max(0, c - w.before)...min(channels - 1, c + w.after) {
                    let s = src + (base + cc) * inner
                    for i in 0..<inner { out[i] += s[i] * s[i] }
                }
                let xs = src + p * inner
                switch w.beta {
                case 0.75:
                    for i in 0..<inner {
                        let t = (bias + k * out[i]).squareRoot()
                        out[i] = xs[i] / (t * t.squareRoot())
                    }
                case 0.5:
                    for i in 0..<inner { out[i] = xs[i] / (bias + k * out[i]).squareRoot() }
                case 1:
                    for i in 0..<inner { out[i] = xs[i] / (bias + k * out[i]) }
                default:
                    for i in 0..<inner { out[i] = xs[i] * T.pow(bias + k * out[i], negBeta) }
                }
            }
        }
    }
}
