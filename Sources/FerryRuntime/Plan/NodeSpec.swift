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

    /// Reads an attribute with FerryIR's typed getters; one of another kind is an invalid node.
    private func read<T>(_ get: () throws -> T) throws -> T {
        do { return try get() } catch let e as AttributeKindError {
            throw KernelError.invalid("attribute '\(e.name)' must be \(e.expected)")
        }
    }

    func int(_ name: String, _ fallback: Int) throws -> Int { try read { try node.intAttribute(name) } ?? fallback }
    func ints(_ name: String) throws -> [Int]? { try read { try node.intsAttribute(name) } }
    func float(_ name: String, _ fallback: Float) throws -> Float { try read { try node.floatAttribute(name) } ?? fallback }
    func floats(_ name: String) throws -> [Float]? { try read { try node.floatsAttribute(name) } }
    func string(_ name: String, _ fallback: String) throws -> String { try read { try node.stringAttribute(name) } ?? fallback }
    func strings(_ name: String) throws -> [String]? { try read { try node.stringsAttribute(name) } }
    func tensor(_ name: String) throws -> Tensor? { try read { try node.tensorAttribute(name) } }
    func graph(_ name: String) throws -> Graph? { try read { try node.graphAttribute(name) } }
}
