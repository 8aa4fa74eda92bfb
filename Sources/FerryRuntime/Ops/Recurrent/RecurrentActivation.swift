import CKernels

/// One activation function of a recurrent cell (ONNX names, case-insensitive) with its alpha and
/// beta, applied in place to a contiguous run of gate values.
struct RecurrentActivation {
    /// The functions ONNX allows in `activations`.
    enum Kind: String {
        case sigmoid, tanh, relu, hardsigmoid, leakyrelu, thresholdedrelu, scaledtanh, affine, elu, softsign, softplus

        /// Default alpha and beta of the function; nil where it takes none.
        var defaults: (alpha: Double?, beta: Double?) {
            switch self {
            case .hardsigmoid: return (0.2, 0.5)
            case .leakyrelu: return (0.01, nil)
            case .thresholdedrelu, .elu: return (1, nil)
            case .scaledtanh: return (1, 1)
            case .affine: return (1, 0)
            case .sigmoid, .tanh, .relu, .softsign, .softplus: return (nil, nil)
            }
        }
    }

    let kind: Kind
    let alpha: Double
    let beta: Double

    /// The activations of every direction (`count` per direction) from the node's `activations`,
    /// `activation_alpha` and `activation_beta`. Alphas and betas are consumed in order by the
    /// functions that take them (as onnxruntime does); missing ones take the function's default.
    /// One direction's list given to a bidirectional node serves both directions.
    static func parse(_ spec: NodeSpec, defaults: [Kind], directions: Int) throws -> [[RecurrentActivation]] {
        let names = try spec.strings("activations")
        var kinds: [Kind] =
            try names.map { list in
                try list.map { name in
                    guard let k = Kind(rawValue: name.lowercased()) else {
                        throw KernelError.unsupported("activation '\(name)'")
                    }
                    return k
                }
            } ?? Array(repeating: defaults, count: directions).flatMap { $0 }
        if kinds.count == defaults.count && directions == 2 { kinds += kinds }
        guard kinds.count == defaults.count * directions else {
            throw KernelError.invalid("'activations' lists \(kinds.count) functions, expected \(defaults.count * directions)")
        }
        var alphas = (try spec.floats("activation_alpha") ?? [])[...]
        var betas = (try spec.floats("activation_beta") ?? [])[...]
        let all = kinds.map { kind -> RecurrentActivation in
            let d = kind.defaults
            let alpha = d.alpha.map { alphas.popFirst().map(Double.init) ?? $0 } ?? 0
            let beta = d.beta.map { betas.popFirst().map(Double.init) ?? $0 } ?? 0
            return RecurrentActivation(kind: kind, alpha: alpha, beta: beta)
        }
        return (0..<directions).map { Array(all[$0 * defaults.count..<($0 + 1) * defaults.count]) }
    }

    /// Replaces p[0..<n] by f(p[i]), clipping the inputs to [-clip, clip] first when `clip` is set.
    func apply<T: RecurrentScalar>(_ p: UnsafeMutablePointer<T>, _ n: Int, clip: T?) {
        if let clip { for i in 0..<n { p[i] = min(max(p[i], -clip), clip) } }
        let a = T(double: alpha), b = T(double: beta)
        switch kind {
        case .sigmoid: if !T.vectorApply(FERRY_VM_SIGMOID, p, n) { for i in 0..<n { p[i] = 1 / (1 + T.exp(-p[i])) } }
        case .tanh: if !T.vectorApply(FERRY_VM_TANH, p, n) { for i in 0..<n { p[i] = T.tanh(p[i]) } }
        case .relu: for i in 0..<n { p[i] = max(p[i], 0) }
        case .hardsigmoid: for i in 0..<n { p[i] = min(max(a * p[i] + b, 0), 1) }
        case .leakyrelu: for i in 0..<n where p[i] < 0 { p[i] = a * p[i] }
        case .thresholdedrelu: for i in 0..<n where !(p[i] > a) { p[i] = 0 }
        case .scaledtanh: for i in 0..<n { p[i] = a * T.tanh(b * p[i]) }
        case .affine: for i in 0..<n { p[i] = a * p[i] + b }
        case .elu: for i in 0..<n where p[i] < 0 { p[i] = a * (T.exp(p[i]) - 1) }
        case .softsign: for i in 0..<n { p[i] = p[i] / (1 + abs(p[i])) }
        case .softplus:
            guard !T.vectorApply(FERRY_VM_SOFTPLUS, p, n) else { break }
            for i in 0..<n {
                let x = p[i]
                p[i] = x > 30 ? x : T.log1p(T.exp(x))
            }
        }
    }
}
