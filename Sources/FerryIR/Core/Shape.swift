/// One axis of a declared shape: a fixed size, a symbolic name, or unknown.
public enum DimValue: Hashable, Sendable {
    case fixed(Int64)
    case symbol(String)
    case unknown
}

/// One axis of a declared shape with its optional denotation (e.g. `DATA_BATCH`).
public struct Dim: Hashable, Sendable {
    public var value: DimValue
    public var denotation: String

    public init(_ value: DimValue, denotation: String = "") {
        self.value = value
        self.denotation = denotation
    }

    public static func fixed(_ n: Int64) -> Dim { Dim(.fixed(n)) }
    public static func symbol(_ s: String) -> Dim { Dim(.symbol(s)) }
}

extension Dim: CustomStringConvertible {
    public var description: String {
        switch value {
        case .fixed(let n): return String(n)
        case .symbol(let s): return s
        case .unknown: return "?"
        }
    }
}

/// The declared type of a value, as ONNX's `TypeProto` describes it.
public indirect enum ValueType: Hashable, Sendable {
    /// A dense tensor; `shape` is nil when even the rank is unknown.
    case tensor(ElementType, shape: [Dim]?)
    case sparseTensor(ElementType, shape: [Dim]?)
    case sequence(TypeInfo?)
    case map(key: ElementType, value: TypeInfo?)
    case optional(TypeInfo?)
    case opaque(domain: String, name: String)
    /// A TypeProto with no value set (allowed in some function signatures).
    case unspecified
}

/// A value type with its optional denotation (e.g. `IMAGE`).
public struct TypeInfo: Hashable, Sendable {
    public var type: ValueType
    public var denotation: String

    public init(_ type: ValueType, denotation: String = "") {
        self.type = type
        self.denotation = denotation
    }
}

extension TypeInfo: CustomStringConvertible {
    public var description: String {
        func shapeText(_ shape: [Dim]?) -> String {
            guard let shape else { return "[?]" }
            return "[" + shape.map(\.description).joined(separator: ",") + "]"
        }
        switch type {
        case .tensor(let e, let s): return "\(e.name)\(shapeText(s))"
        case .sparseTensor(let e, let s): return "sparse \(e.name)\(shapeText(s))"
        case .sequence(let t): return "seq(\(t?.description ?? "?"))"
        case .map(let k, let v): return "map(\(k.name),\(v?.description ?? "?"))"
        case .optional(let t): return "optional(\(t?.description ?? "?"))"
        case .opaque(let d, let n): return "opaque(\(d).\(n))"
        case .unspecified: return "?"
        }
    }
}

/// A key and value string pair (metadata, bindings, external data fields).
public struct KeyValue: Hashable, Sendable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}
