/// The kinds of attribute value ONNX defines, numbered as `AttributeProto.AttributeType`.
public enum AttributeKind: Int32, Sendable, CaseIterable {
    case undefined = 0
    case float = 1
    case int = 2
    case string = 3
    case tensor = 4
    case graph = 5
    case sparseTensor = 11
    case typeProto = 13
    case floats = 6
    case ints = 7
    case strings = 8
    case tensors = 9
    case graphs = 10
    case sparseTensors = 12
    case typeProtos = 14
}

/// An attribute's value.
public enum AttributeValue: Equatable, Sendable {
    case float(Float)
    case int(Int64)
    case string([UInt8])
    case tensor(Tensor)
    case graph(Graph)
    case sparseTensor(SparseTensor)
    case typeProto(TypeInfo)
    case floats([Float])
    case ints([Int64])
    case strings([[UInt8]])
    case tensors([Tensor])
    case graphs([Graph])
    case sparseTensors([SparseTensor])
    case typeProtos([TypeInfo])
    /// Inside a function body: the value of the calling node's attribute `name`, of kind `kind`.
    case reference(name: String, kind: AttributeKind)

    /// The kind of this value.
    public var kind: AttributeKind {
        switch self {
        case .float: return .float
        case .int: return .int
        case .string: return .string
        case .tensor: return .tensor
        case .graph: return .graph
        case .sparseTensor: return .sparseTensor
        case .typeProto: return .typeProto
        case .floats: return .floats
        case .ints: return .ints
        case .strings: return .strings
        case .tensors: return .tensors
        case .graphs: return .graphs
        case .sparseTensors: return .sparseTensors
        case .typeProtos: return .typeProtos
        case .reference(_, let kind): return kind
        }
    }

    /// The subgraphs this value carries.
    public var subgraphs: [Graph] {
        switch self {
        case .graph(let g): return [g]
        case .graphs(let gs): return gs
        default: return []
        }
    }
}

/// A named attribute of a node.
public struct Attribute: Equatable, Sendable {
    public var name: String
    public var value: AttributeValue
    public var docString: String

    public init(_ name: String, _ value: AttributeValue, docString: String = "") {
        self.name = name
        self.value = value
        self.docString = docString
    }
}
