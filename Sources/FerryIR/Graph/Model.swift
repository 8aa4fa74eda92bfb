/// An operator set a model or function imports.
public struct OpsetID: Hashable, Sendable {
    /// "" (or "ai.onnx") is the default ONNX domain.
    public var domain: String
    public var version: Int64

    public init(domain: String, version: Int64) {
        self.domain = domain
        self.version = version
    }
}

/// A model-local function: an operator defined by a body of nodes (ONNX `FunctionProto`).
public struct Function: Equatable, Sendable {
    public var name: String
    public var domain: String
    public var overload: String
    public var inputs: [String]
    public var outputs: [String]
    /// Attribute names without defaults.
    public var attributeNames: [String]
    /// Attributes with default values.
    public var attributeDefaults: [Attribute]
    public var nodes: [Node]
    public var opsetImports: [OpsetID]
    public var valueInfo: [ValueInfo]
    public var docString: String
    public var metadata: [KeyValue]

    public init(
        name: String, domain: String, overload: String = "", inputs: [String], outputs: [String],
        attributeNames: [String] = [], attributeDefaults: [Attribute] = [], nodes: [Node],
        opsetImports: [OpsetID] = [], valueInfo: [ValueInfo] = [], docString: String = "", metadata: [KeyValue] = []
    ) {
        self.name = name
        self.domain = domain
        self.overload = overload
        self.inputs = inputs
        self.outputs = outputs
        self.attributeNames = attributeNames
        self.attributeDefaults = attributeDefaults
        self.nodes = nodes
        self.opsetImports = opsetImports
        self.valueInfo = valueInfo
        self.docString = docString
        self.metadata = metadata
    }
}

/// Training information stored with a model (ONNX `TrainingInfoProto`).
public struct TrainingInfo: Equatable, Sendable {
    public var initialization: Graph?
    public var algorithm: Graph?
    public var initializationBinding: [KeyValue]
    public var updateBinding: [KeyValue]

    public init(initialization: Graph?, algorithm: Graph?, initializationBinding: [KeyValue] = [], updateBinding: [KeyValue] = [])
    {
        self.initialization = initialization
        self.algorithm = algorithm
        self.initializationBinding = initializationBinding
        self.updateBinding = updateBinding
    }
}

/// A named multi-device configuration (ONNX `DeviceConfigurationProto`).
public struct DeviceConfiguration: Equatable, Sendable {
    public var name: String
    public var deviceCount: Int32?
    public var devices: [String]

    public init(name: String, deviceCount: Int32?, devices: [String]) {
        self.name = name
        self.deviceCount = deviceCount
        self.devices = devices
    }
}

/// A whole model: the main graph with everything a model file carries around it. Every reader
/// produces one and every writer, pass and the interpreter consume it.
public struct Model: Equatable, Sendable {
    /// ONNX IR version the model declares (nil when absent).
    public var irVersion: Int64?
    public var opsetImports: [OpsetID]
    public var producerName: String
    public var producerVersion: String
    public var domain: String
    public var modelVersion: Int64?
    public var docString: String
    public var graph: Graph
    public var metadata: [KeyValue]
    public var trainingInfo: [TrainingInfo]
    public var functions: [Function]
    public var deviceConfigurations: [DeviceConfiguration]

    public init(
        irVersion: Int64? = nil, opsetImports: [OpsetID] = [], producerName: String = "", producerVersion: String = "",
        domain: String = "", modelVersion: Int64? = nil, docString: String = "", graph: Graph,
        metadata: [KeyValue] = [], trainingInfo: [TrainingInfo] = [], functions: [Function] = [],
        deviceConfigurations: [DeviceConfiguration] = []
    ) {
        self.irVersion = irVersion
        self.opsetImports = opsetImports
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.graph = graph
        self.metadata = metadata
        self.trainingInfo = trainingInfo
        self.functions = functions
        self.deviceConfigurations = deviceConfigurations
    }

    /// The imported version of `domain` ("" and "ai.onnx" are the same domain).
    public func opsetVersion(for domain: String) -> Int64? {
        let canonical = Domain.canonical(domain)
        return opsetImports.first(where: { Domain.canonical($0.domain) == canonical })?.version
    }

    /// Every tensor stored in the model: initializers, sparse initializers' parts, attribute tensors,
    /// in the main graph, nested graphs, functions and training graphs.
    public func forEachTensor(_ body: (Tensor) throws -> Void) rethrows {
        func visit(_ attrs: [Attribute]) throws {
            for a in attrs {
                switch a.value {
                case .tensor(let t): try body(t)
                case .tensors(let ts): for t in ts { try body(t) }
                case .sparseTensor(let s):
                    try body(s.values)
                    try body(s.indices)
                case .sparseTensors(let ss):
                    for s in ss {
                        try body(s.values)
                        try body(s.indices)
                    }
                case .graph(let g): try visit(g)
                case .graphs(let gs): for g in gs { try visit(g) }
                default: break
                }
            }
        }
        func visit(_ g: Graph) throws {
            for t in g.initializers { try body(t) }
            for s in g.sparseInitializers {
                try body(s.values)
                try body(s.indices)
            }
            for n in g.nodes { try visit(n.attributes) }
        }
        try visit(graph)
        for f in functions {
            try visit(f.attributeDefaults)
            for n in f.nodes { try visit(n.attributes) }
        }
        for t in trainingInfo {
            if let g = t.initialization { try visit(g) }
            if let g = t.algorithm { try visit(g) }
        }
    }
}
