/// One operator application in a graph.
public struct Node: Equatable, Sendable {
    public var opType: String
    /// Operator domain; "" (or "ai.onnx") is the default ONNX domain.
    public var domain: String
    public var name: String
    /// Input value names; "" marks an omitted optional input.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [Attribute]
    public var docString: String
    /// Selects one of several model-local functions with the same name and domain.
    public var overload: String
    public var metadata: [KeyValue]
    public var deviceConfigurations: [NodeDeviceConfiguration]

    public init(
        opType: String, domain: String = "", name: String = "", inputs: [String], outputs: [String],
        attributes: [Attribute] = [], docString: String = "", overload: String = "",
        metadata: [KeyValue] = [], deviceConfigurations: [NodeDeviceConfiguration] = []
    ) {
        self.opType = opType
        self.domain = domain
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.docString = docString
        self.overload = overload
        self.metadata = metadata
        self.deviceConfigurations = deviceConfigurations
    }

    /// The attribute called `name`, if present.
    public func attribute(_ name: String) -> AttributeValue? {
        attributes.first(where: { $0.name == name })?.value
    }

    /// True for a node of ONNX's default domain with this op type.
    public func isONNX(_ op: String) -> Bool {
        opType == op && Domain.isONNX(domain)
    }

    /// The subgraphs of all graph-valued attributes (If branches, Loop/Scan bodies).
    public var subgraphs: [Graph] { attributes.flatMap(\.value.subgraphs) }

    /// How errors refer to this node: its name, or its op type and position when unnamed.
    public func label(index: Int) -> String {
        name.isEmpty ? "#\(index) (\(opType))" : "'\(name)' (\(opType))"
    }
}

/// Placement of a node on the devices of a named configuration (ONNX multi-device annotations).
public struct NodeDeviceConfiguration: Equatable, Sendable {
    public var configurationID: String
    public var shardingSpecs: [ShardingSpec]
    public var pipelineStage: Int32?

    public init(configurationID: String, shardingSpecs: [ShardingSpec] = [], pipelineStage: Int32? = nil) {
        self.configurationID = configurationID
        self.shardingSpecs = shardingSpecs
        self.pipelineStage = pipelineStage
    }
}

/// How one tensor of a node is split across devices.
public struct ShardingSpec: Equatable, Sendable {
    public var tensorName: String
    public var devices: [Int64]
    public var indexToDeviceGroup: [IndexToDeviceGroup]
    public var shardedDims: [ShardedDim]

    /// One entry of the device-group map.
    public struct IndexToDeviceGroup: Equatable, Sendable {
        public var key: Int64
        public var value: [Int64]
        public init(key: Int64, value: [Int64]) {
            self.key = key
            self.value = value
        }
    }

    public init(
        tensorName: String, devices: [Int64] = [], indexToDeviceGroup: [IndexToDeviceGroup] = [], shardedDims: [ShardedDim] = []
    ) {
        self.tensorName = tensorName
        self.devices = devices
        self.indexToDeviceGroup = indexToDeviceGroup
        self.shardedDims = shardedDims
    }
}

/// The sharding of one axis.
public struct ShardedDim: Equatable, Sendable {
    public var axis: Int64
    public var simpleShardings: [SimpleSharding]

    /// An even split of an axis of the given length into `shardCount` pieces.
    public struct SimpleSharding: Equatable, Sendable {
        public var dim: DimValue
        public var shardCount: Int64?
        public init(dim: DimValue, shardCount: Int64?) {
            self.dim = dim
            self.shardCount = shardCount
        }
    }

    public init(axis: Int64, simpleShardings: [SimpleSharding] = []) {
        self.axis = axis
        self.simpleShardings = simpleShardings
    }
}
