import FerryIR

/// A node as its kernel builder sees it: attributes (read with defaults), the opset in force, and the
/// inputs already known at plan time (initializers and folded constants).
struct NodeSpec {
    let node: Node
    /// The opset version imported for the node's domain.
    let opset: Int
    /// Per input: its value when known at plan time.
    let constants: [Value?]
    /// Builds kernels for subgraphs (If, Loop, Scan bodies).
    let subgraphCompiler: SubgraphCompiler?
    /// Values the node's subgraphs read from enclosing graphs; they follow the node's own inputs.
    let implicitInputs: [String]
    /// For nodes with subgraphs: the element types known for the values of the node's graph.
    var valueTypes: [String: ElementType] = [:]

    var op: String { node.opType }
    var inputCount: Int { node.inputs.count }
    var outputCount: Int { node.outputs.count }

    /// True when input `i` is wired (present and not the empty name).
    func hasInput(_ i: Int) -> Bool { i < node.inputs.count && !node.inputs[i].isEmpty }

    /// True when output `i` is wanted.
    func hasOutput(_ i: Int) -> Bool { i < node.outputs.count && !node.outputs[i].isEmpty }

    /// Input `i`'s value when it is known at plan time.
    func constant(_ i: Int) -> Value? { i < constants.count ? constants[i] : nil }

    func has(_ name: String) -> Bool { node.attribute(name) != nil }

    func int(_ name: String, _ fallback: Int) throws -> Int {
        switch node.attribute(name) {
        case nil: return fallback
        case .int(let v)?: return Int(v)
        default: throw wrongKind(name, "an int")
        }
    }

    func ints(_ name: String) throws -> [Int]? {
        switch node.attribute(name) {
        case nil: return nil
        case .ints(let v)?: return v.map { Int($0) }
        default: throw wrongKind(name, "a list of ints")
        }
    }

    func float(_ name: String, _ fallback: Float) throws -> Float {
        switch node.attribute(name) {
        case nil: return fallback
        case .float(let v)?: return v
        case .int(let v)?: return Float(v)
        default: throw wrongKind(name, "a float")
        }
    }

    func floats(_ name: String) throws -> [Float]? {
        switch node.attribute(name) {
        case nil: return nil
        case .floats(let v)?: return v
        default: throw wrongKind(name, "a list of floats")
        }
    }

    func string(_ name: String, _ fallback: String) throws -> String {
        switch node.attribute(name) {
        case nil: return fallback
        case .string(let v)?: return String(decoding: v, as: UTF8.self)
        default: throw wrongKind(name, "a string")
        }
    }

    func strings(_ name: String) throws -> [String]? {
        switch node.attribute(name) {
        case nil: return nil
        case .strings(let v)?: return v.map { String(decoding: $0, as: UTF8.self) }
        default: throw wrongKind(name, "a list of strings")
        }
    }

    func tensor(_ name: String) throws -> Tensor? {
        switch node.attribute(name) {
        case nil: return nil
        case .tensor(let t)?: return t
        default: throw wrongKind(name, "a tensor")
        }
    }

    func graph(_ name: String) throws -> Graph? {
        switch node.attribute(name) {
        case nil: return nil
        case .graph(let g)?: return g
        default: throw wrongKind(name, "a graph")
        }
    }

    private func wrongKind(_ name: String, _ expected: String) -> KernelError {
        .invalid("attribute '\(name)' must be \(expected)")
    }
}
