/// The declared name and type of a value.
public struct ValueInfo: Equatable, Sendable {
    public var name: String
    /// nil when the file declares no type.
    public var type: TypeInfo?
    public var docString: String
    public var metadata: [KeyValue]

    public init(name: String, type: TypeInfo?, docString: String = "", metadata: [KeyValue] = []) {
        self.name = name
        self.type = type
        self.docString = docString
        self.metadata = metadata
    }

    /// The same declaration with element type `type` (shape and denotation kept); unchanged when it
    /// declares no tensor.
    public func withElementType(_ type: ElementType) -> ValueInfo {
        guard case .tensor(_, let shape)? = self.type?.type else { return self }
        var v = self
        v.type = TypeInfo(.tensor(type, shape: shape), denotation: self.type!.denotation)
        return v
    }
}

/// Quantization parameters attached to a tensor (ONNX `TensorAnnotation`).
public struct TensorAnnotation: Equatable, Sendable {
    public var tensorName: String
    public var quantParameterTensorNames: [KeyValue]

    public init(tensorName: String, quantParameterTensorNames: [KeyValue]) {
        self.tensorName = tensorName
        self.quantParameterTensorNames = quantParameterTensorNames
    }
}

/// A computation graph: nodes, constant initializers and declared inputs, outputs and value types.
public struct Graph: Equatable, Sendable {
    public var name: String
    public var nodes: [Node]
    public var initializers: [Tensor]
    public var sparseInitializers: [SparseTensor]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    public var valueInfo: [ValueInfo]
    public var quantizationAnnotations: [TensorAnnotation]
    public var docString: String
    public var metadata: [KeyValue]

    public init(
        name: String = "", nodes: [Node] = [], initializers: [Tensor] = [], sparseInitializers: [SparseTensor] = [],
        inputs: [ValueInfo] = [], outputs: [ValueInfo] = [], valueInfo: [ValueInfo] = [],
        quantizationAnnotations: [TensorAnnotation] = [], docString: String = "", metadata: [KeyValue] = []
    ) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.sparseInitializers = sparseInitializers
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
        self.quantizationAnnotations = quantizationAnnotations
        self.docString = docString
        self.metadata = metadata
    }

    /// Every graph nested in this one's nodes, depth first, not including this graph.
    public var nestedGraphs: [Graph] {
        nodes.flatMap { $0.subgraphs.flatMap { [$0] + $0.nestedGraphs } }
    }

    /// Graph inputs that are not initializers (the values a caller must feed).
    public var runtimeInputs: [ValueInfo] {
        let initialized = Set(initializers.map(\.name)).union(sparseInitializers.map(\.name))
        return inputs.filter { !initialized.contains($0.name) }
    }
}

extension Graph {
    /// Bytes of every initializer and Constant node value of this graph (not its subgraphs): the
    /// weights, wherever the exporter put them.
    public var weightBytes: Int {
        initializers.reduce(0) { $0 + $1.byteCount }
            + nodes.reduce(0) { total, n in
                if n.isONNX("Constant"), case .tensor(let t)? = n.attribute("value") { return total + t.byteCount }
                return total
            }
    }
}
