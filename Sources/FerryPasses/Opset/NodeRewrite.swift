import FerryIR

/// One node on its way to the target opset: the node as the rules leave it, the nodes to put
/// before and after it, the initializers they add, and the helpers rules share (an attribute
/// becoming an input and back, an attribute the older opset lacks).
struct NodeRewrite {
    var node: Node
    var before: [Node] = []
    var after: [Node] = []
    var initializers: [Tensor] = []
    let rewriter: OpsetRewriter
    /// The values known to be constant here, the ones rules add included.
    private(set) var constants: [String: Tensor]

    init(node: Node, rewriter: OpsetRewriter, constants: [String: Tensor]) {
        self.node = node
        self.rewriter = rewriter
        self.constants = constants
    }

    /// Runs the rules of every change between the two opsets, oldest first going up and newest
    /// first going down; a rule that renames the op hands the later versions to the new op's rules.
    mutating func applyChanges() throws {
        let (from, to) = (rewriter.from, rewriter.to)
        // every rule reads the first input and output slot; a node without them (a damaged model) is refused
        if node.opType != "Constant", node.inputs.first?.isEmpty != false || node.outputs.isEmpty {
            guard
                (OpsetChanges.table[node.opType] ?? []).allSatisfy({ $0.version <= min(from, to) || $0.version > max(from, to) })
            else { throw refusal("it has no first input or no output") }
        }
        if to > from {
            for v in (from + 1)...to {
                for change in OpsetChanges.table[node.opType] ?? [] where change.version == v { try change.up?(&self) }
            }
        } else {
            for v in stride(from: from, to: to, by: -1) {
                for change in OpsetChanges.table[node.opType] ?? [] where change.version == v {
                    try change.down?(&self, v - 1)
                }
            }
        }
    }

    /// Refuses an op that does not exist at the target opset (too new, removed, or unknown), and
    /// element types the op's schema at the target does not take (`int8` Add before 14).
    func checkExists() throws {
        let to = rewriter.to
        guard let history = OpsetHistory.ops[node.opType] else {
            throw refusal("not an ONNX operator of the schemas Ferry knows (up to opset \(OpsetHistory.newest))")
        }
        if let first = history.schemas.first, first.since > to {
            throw refusal("\(node.opType) exists from opset \(first.since) on")
        }
        if let gone = history.deprecatedFrom, gone <= to {
            throw refusal("\(node.opType) is deprecated from opset \(gone) on")
        }
        guard let at = OpsetHistory.schema(node.opType, at: to),
            OpsetHistory.schema(node.opType, at: rewriter.from)?.since != at.since
        else { return }
        try checkTypes(node.inputs, "input", history.schemas, at: at, \.inputs, \.variadicInputs)
        try checkTypes(node.outputs, "output", history.schemas, at: at, \.outputs, \.variadicOutputs)
    }

    private func checkTypes(
        _ values: [String], _ kind: String, _ schemas: [OpsetHistory.Schema], at: OpsetHistory.Schema,
        _ masks: KeyPath<OpsetHistory.Schema, [UInt64]>, _ variadic: KeyPath<OpsetHistory.Schema, Bool>
    ) throws {
        func mask(_ s: OpsetHistory.Schema, _ slot: Int) -> UInt64? {
            let m = s[keyPath: masks]
            return slot < m.count ? m[slot] : (s[keyPath: variadic] ? m.last : nil)
        }
        for (slot, name) in values.enumerated() where !name.isEmpty {
            guard let allowed = mask(at, slot), let type = rewriter.elementType(name), type != .undefined else { continue }
            let bit = OpsetHistory.bit(type)
            guard allowed & bit == 0 else { continue }
            let first = schemas.first { (mask($0, slot) ?? 0) & bit != 0 }?.since
            throw refusal(
                "its \(kind) '\(name)' is \(type.name), which \(node.opType) takes "
                    + (first.map { "from opset \($0) on" } ?? "at no opset up to \(rewriter.to)"))
        }
    }

    /// Refuses when `ops`, which a rule writes on `data`'s element type, do not all take that type
    /// at the target opset (float16 HardSigmoid before 22); nothing to check when it is unknown.
    func requireTypes(_ ops: [String], of data: String) throws {
        guard let type = rewriter.elementType(data) else { return }
        for op in ops {
            guard let schema = OpsetHistory.schema(op, at: rewriter.to) else { continue }
            if (schema.inputs.first ?? UInt64.max) & OpsetHistory.bit(type) == 0 {
                throw refusal("it would be written with \(op), which takes no \(type.name) input at opset \(rewriter.to)")
            }
        }
    }

    /// The error for this node: `reason` says what the target opset cannot express.
    func refusal(_ reason: String) -> PassError {
        .unsupported(subject: "node '\(node.name)' (\(node.opType))", reason: reason)
    }

    // MARK: inputs

    /// The input at `slot`, nil when absent or empty.
    func input(_ slot: Int) -> String? {
        slot < node.inputs.count && !node.inputs[slot].isEmpty ? node.inputs[slot] : nil
    }

    /// Makes `name` the input at `slot`, padding the slots before it with empty (absent) inputs.
    mutating func setInput(_ slot: Int, _ name: String) {
        while node.inputs.count <= slot { node.inputs.append("") }
        node.inputs[slot] = name
    }

    /// Removes the input at `slot` (and the absent ones left at the end).
    mutating func removeInput(_ slot: Int) {
        guard slot < node.inputs.count else { return }
        node.inputs[slot] = ""
        while node.inputs.last == "" { node.inputs.removeLast() }
    }

    /// Adds `tensor` (named after the node and `role`) as an initializer and returns its name.
    mutating func addConstant(_ role: String, _ tensor: Tensor) -> String {
        var t = tensor
        let base = node.name.isEmpty ? (node.outputs.first ?? node.opType) : node.name
        t.name = rewriter.names.fresh(base + "_" + role)
        initializers.append(t)
        constants[t.name] = t
        return t.name
    }

    /// Adds a node computing one fresh value named after `role`, to run before this one; returns the value.
    mutating func addBefore(_ op: String, _ inputs: [String], _ role: String, _ attributes: [Attribute] = []) -> String {
        let out = rewriter.names.fresh((node.outputs.first ?? node.name) + "_" + role)
        before.append(
            Node(
                opType: op, name: rewriter.names.fresh(node.name + "_" + role), inputs: inputs, outputs: [out],
                attributes: attributes))
        return out
    }

    /// The constant value of the input at `slot`; throws naming `what` when it is computed.
    func constantInput(_ slot: Int, _ what: String, target: Int64) throws -> Tensor {
        guard let name = input(slot), let t = constants[name], t.segment == nil, t.bytes != nil else {
            throw refusal("its \(what) input is computed, and opset \(target) takes \(what) as a constant attribute")
        }
        return t
    }

    // MARK: attributes

    func has(_ attribute: String) -> Bool { node.attribute(attribute) != nil }

    mutating func setAttribute(_ name: String, _ value: AttributeValue) {
        node.attributes.removeAll { $0.name == name }
        node.attributes.append(Attribute(name, value))
    }

    mutating func removeAttribute(_ name: String) { node.attributes.removeAll { $0.name == name } }

    /// Moves the integer-list attribute `attribute` to an int64 input at `slot` (nothing when unset).
    mutating func intsAttributeToInput(_ attribute: String, slot: Int) {
        guard let values = node.ints(attribute) else { return }
        let name = addConstant(
            attribute, Tensor(name: "", elementType: .int64, shape: [values.count], values: values.map(Int64.init)))
        removeAttribute(attribute)
        setInput(slot, name)
    }

    /// Moves a constant int64/int32 input at `slot` to the integer-list attribute `attribute`.
    mutating func inputToIntsAttribute(slot: Int, _ attribute: String, target: Int64) throws {
        guard input(slot) != nil else { return }
        let t = try constantInput(slot, attribute, target: target)
        guard let values = t.int64Values else { throw refusal("its \(attribute) input is not an integer tensor") }
        rewriter.consumed.insert(node.inputs[slot])
        setAttribute(attribute, .ints(values))
        removeInput(slot)
    }

    /// Moves a constant float input of one element at `slot` to the float attribute `attribute`.
    mutating func inputToFloatAttribute(slot: Int, _ attribute: String, target: Int64) throws {
        guard input(slot) != nil else { return }
        let t = try constantInput(slot, attribute, target: target)
        guard let values = t.numericValues, values.count == 1 else { throw refusal("its \(attribute) input is not one number") }
        rewriter.consumed.insert(node.inputs[slot])
        setAttribute(attribute, .float(Float(values[0])))
        removeInput(slot)
    }

    /// An attribute the older opset lacks: dropped when it holds `fallback` (the value that means
    /// what the older opset did), else refused.
    mutating func dropAttribute(_ name: String, meaning fallback: AttributeValue, target: Int64) throws {
        guard let value = node.attribute(name) else { return }
        guard Self.same(value, fallback) else {
            throw refusal("\(name)=\(Self.describe(value)) has no equivalent before opset \(target + 1)")
        }
        removeAttribute(name)
    }

    /// True when two attribute values mean the same (ints: equal element by element).
    private static func same(_ a: AttributeValue, _ b: AttributeValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.ints(let x), .ints(let y)): return x == y
        case (.ints(let x), .int(let y)): return x.allSatisfy { $0 == y }
        default: return false
        }
    }

    private static func describe(_ v: AttributeValue) -> String {
        switch v {
        case .int(let x): return String(x)
        case .float(let x): return String(x)
        case .string(let s): return String(decoding: s, as: UTF8.self)
        case .ints(let x): return "[" + x.map(String.init).joined(separator: ",") + "]"
        default: return "its value"
        }
    }

    /// A scalar of `data`'s element type (a float type) holding `value`, for inputs that must
    /// match the data's type; refused when that type is unknown.
    func scalar(_ value: Float, like data: String) throws -> Tensor {
        guard let type = rewriter.elementType(data) else {
            throw refusal("the element type of '\(data)' is unknown, and the rule writes a constant of that type")
        }
        switch type {
        case .float: return Tensor(name: "", floats: [value], shape: [])
        case .double: return Tensor(name: "", elementType: .double, shape: [], values: [Double(value)])
        case .float16: return Tensor(name: "", half: .float16, shape: [], rounding: [value])
        case .bfloat16: return Tensor(name: "", half: .bfloat16, shape: [], rounding: [value])
        case let other: throw refusal("input '\(data)' is \(other.name); the rule writes float types only")
        }
    }
}
