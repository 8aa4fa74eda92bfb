import FerryIR

/// An activation a producing op (Conv, Gemm, QLinearConv, ...) can apply in its output pass: its
/// kind and up to two parameters. It maps an activation node to that form and back, and to the
/// `activation` / `activation_params` attributes of onnxruntime's com.microsoft FusedConv; the
/// interpreter's kernels and the passes read activations only through it.
public struct ActivationDescriptor: Equatable, Sendable {
    /// The activations output passes implement, named as their ONNX ops.
    public enum Kind: String, CaseIterable, Sendable {
        case relu = "Relu"
        case sigmoid = "Sigmoid"
        case hardSwish = "HardSwish"
        case leakyRelu = "LeakyRelu"
        case hardSigmoid = "HardSigmoid"
        case clip = "Clip"
        case tanh = "Tanh"
        /// x * sigmoid(alpha * x) (ONNX opset 24; SiLU when alpha is 1).
        case swish = "Swish"
        /// GELU; alpha is 0 for its erf form and 1 for the tanh form (the op's `approximate`).
        case gelu = "Gelu"

        /// How many of alpha and beta the op has (FusedConv's `activation_params` count).
        public var parameterCount: Int {
            switch self {
            case .relu, .sigmoid, .hardSwish, .tanh, .gelu: return 0
            case .leakyRelu, .swish: return 1
            case .hardSigmoid, .clip: return 2
            }
        }

        /// True for the activations com.microsoft FusedConv takes.
        public var isFusedConvActivation: Bool { ![.hardSwish, .swish, .gelu].contains(self) }
    }

    /// Clip's bounds when an input or attribute leaves them out: ONNX's numeric_limits lowest() and
    /// max() (onnxruntime clamps infinities to them too).
    public static let clipDefaults: (lower: Float, upper: Float) = (-.greatestFiniteMagnitude, .greatestFiniteMagnitude)

    public var kind: Kind
    /// LeakyRelu's, HardSigmoid's and Swish's alpha, Clip's lower bound, Gelu's form (1 for tanh);
    /// 0 when unused.
    public var alpha: Float
    /// HardSigmoid's beta, Clip's upper bound; 0 when unused.
    public var beta: Float

    public init(_ kind: Kind, alpha: Float = 0, beta: Float = 0) {
        self.kind = kind
        self.alpha = alpha
        self.beta = beta
    }

    /// The form of activation node `node` (ONNX domain, one output) at default-domain opset
    /// `opset`; nil when `node` is no such activation or a Clip bound is not a fixed scalar.
    public init?(_ node: Node, opset: Int64, constants: Constants) {
        guard node.isDefaultDomain, let kind = Kind(rawValue: node.opType), node.outputs.count == 1, node.subgraphs.isEmpty,
            !node.inputs.isEmpty, node.inputs[0] != ""
        else { return nil }
        switch kind {
        case .relu, .sigmoid, .hardSwish, .tanh:
            guard node.inputs.count == 1 else { return nil }
            self.init(kind)
        case .swish:
            self.init(kind, alpha: node.float("alpha", 1))
        case .gelu:
            switch node.string("approximate") ?? "none" {
            case "none": self.init(kind)
            case "tanh": self.init(kind, alpha: 1)
            default: return nil
            }
        case .leakyRelu:
            self.init(kind, alpha: node.float("alpha", 0.01))
        case .hardSigmoid:
            self.init(kind, alpha: node.float("alpha", 0.2), beta: node.float("beta", 0.5))
        case .clip:
            let widest = ActivationDescriptor.clipDefaults
            guard opset >= 11 else {
                self.init(kind, alpha: node.float("min", widest.lower), beta: node.float("max", widest.upper))
                return
            }
            func bound(_ i: Int, _ fallback: Float) -> Float? {
                i < node.inputs.count && !node.inputs[i].isEmpty ? constants.scalar(node.inputs[i]) : fallback
            }
            guard node.inputs.count <= 3, let lo = bound(1, widest.lower), let hi = bound(2, widest.upper) else { return nil }
            self.init(kind, alpha: lo, beta: hi)
        }
    }

    /// The parameters in op order (alpha, then beta), as many as the kind has.
    public var parameters: [Float] { Array([alpha, beta].prefix(kind.parameterCount)) }

    /// The activation FusedConv's `activation` and `activation_params` name; nil for a name it does
    /// not take or the wrong number of parameters.
    public init?(fusedConvActivation name: String, parameters: [Float]) {
        guard let kind = Kind(rawValue: name), kind.isFusedConvActivation, parameters.count == kind.parameterCount else {
            return nil
        }
        self.init(kind, alpha: parameters.first ?? 0, beta: parameters.count > 1 ? parameters[1] : 0)
    }

    /// FusedConv's `activation` and `activation_params` attributes for this activation; nil for
    /// those FusedConv does not take (HardSwish, Swish, Gelu).
    public var fusedConvAttributes: [Attribute]? {
        guard kind.isFusedConvActivation else { return nil }
        var result = [Attribute("activation", .string(Array(kind.rawValue.utf8)))]
        if kind.parameterCount > 0 { result.append(Attribute("activation_params", .floats(parameters))) }
        return result
    }
}
