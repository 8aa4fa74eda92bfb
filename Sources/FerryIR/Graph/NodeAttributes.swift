/// Node `name`'s attribute holds another kind of value than the caller reads.
public struct AttributeKindError: Error, Sendable {
    public let name: String
    /// What the attribute must hold ("an int", "a list of floats", ...).
    public let expected: String
}

/// Typed reads of a node's attributes. The throwing forms return nil for an absent attribute and
/// throw `AttributeKindError` for one of another kind (kernels refuse such nodes); the forms with
/// a fallback take it for both (passes and writers, which leave such nodes alone).
extension Node {
    private func read<T>(_ name: String, _ expected: String, _ value: (AttributeValue) -> T?) throws -> T? {
        guard let a = attribute(name) else { return nil }
        guard let v = value(a) else { throw AttributeKindError(name: name, expected: expected) }
        return v
    }

    public func intAttribute(_ name: String) throws -> Int? {
        try read(name, "an int") { if case .int(let v) = $0 { return Int(clamping: v) } else { return nil } }
    }

    public func intsAttribute(_ name: String) throws -> [Int]? {
        try read(name, "a list of ints") { if case .ints(let v) = $0 { return v.map { Int(clamping: $0) } } else { return nil } }
    }

    /// A float attribute (an int attribute is read as its float value).
    public func floatAttribute(_ name: String) throws -> Float? {
        try read(name, "a float") {
            switch $0 {
            case .float(let v): return v
            case .int(let v): return Float(v)
            default: return nil
            }
        }
    }

    public func floatsAttribute(_ name: String) throws -> [Float]? {
        try read(name, "a list of floats") { if case .floats(let v) = $0 { return v } else { return nil } }
    }

    public func stringAttribute(_ name: String) throws -> String? {
        try read(name, "a string") {
            if case .string(let v) = $0 { return String(decoding: v, as: UTF8.self) } else { return nil }
        }
    }

    public func stringsAttribute(_ name: String) throws -> [String]? {
        try read(name, "a list of strings") {
            if case .strings(let v) = $0 { return v.map { String(decoding: $0, as: UTF8.self) } } else { return nil }
        }
    }

    public func tensorAttribute(_ name: String) throws -> Tensor? {
        try read(name, "a tensor") { if case .tensor(let t) = $0 { return t } else { return nil } }
    }

    public func graphAttribute(_ name: String) throws -> Graph? {
        try read(name, "a graph") { if case .graph(let g) = $0 { return g } else { return nil } }
    }

    /// Int attribute `name`; nil when absent or of another kind.
    public func int(_ name: String) -> Int? { (try? intAttribute(name)) ?? nil }
    /// Int attribute `name`, or `fallback` when absent or of another kind.
    public func int(_ name: String, _ fallback: Int) -> Int { int(name) ?? fallback }
    public func ints(_ name: String) -> [Int]? { (try? intsAttribute(name)) ?? nil }
    public func float(_ name: String) -> Float? { (try? floatAttribute(name)) ?? nil }
    public func float(_ name: String, _ fallback: Float) -> Float { float(name) ?? fallback }
    public func floats(_ name: String) -> [Float]? { (try? floatsAttribute(name)) ?? nil }
    public func string(_ name: String) -> String? { (try? stringAttribute(name)) ?? nil }
    public func strings(_ name: String) -> [String]? { (try? stringsAttribute(name)) ?? nil }
}

extension Dim {
    /// The size when fixed and not negative.
    public var fixedSize: Int? {
        if case .fixed(let n) = value, n >= 0 { return Int(clamping: n) }
        return nil
    }
}

extension Array where Element == Dim {
    /// Every size, when every axis is fixed.
    public var fixedSizes: [Int]? {
        let sizes = compactMap(\.fixedSize)
        return sizes.count == count ? sizes : nil
    }
}

extension Node {
    /// The tensor a Constant node holds, from whichever of its attributes is set (`value`,
    /// `value_float(s)`, `value_int(s)`), named after its output; nil for other nodes and for
    /// sparse and string values.
    public var constantValue: Tensor? {
        guard isONNX("Constant"), let name = outputs.first else { return nil }
        for a in attributes {
            switch (a.name, a.value) {
            case ("value", .tensor(var t)):
                t.name = name
                return t
            case ("value_float", .float(let f)): return Tensor(name: name, floats: [f], shape: [])
            case ("value_floats", .floats(let f)): return Tensor(name: name, floats: f, shape: [f.count])
            case ("value_int", .int(let i)): return Tensor(name: name, elementType: .int64, shape: [], values: [i])
            case ("value_ints", .ints(let i)): return Tensor(name: name, elementType: .int64, shape: [i.count], values: i)
            default: continue
            }
        }
        return nil
    }
}
