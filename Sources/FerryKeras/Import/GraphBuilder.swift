import FerryIR

/// Accumulates the nodes and initializers of the graph being imported, with unique value names.
final class GraphBuilder {
    private(set) var nodes: [Node] = []
    private(set) var initializers: [Tensor] = []
    private var used = Set<String>()

    /// A value name not used yet, based on `base`.
    func unique(_ base: String) -> String {
        var name = base.isEmpty ? "v" : base
        var k = 1
        while used.contains(name) {
            name = "\(base)_\(k)"
            k += 1
        }
        used.insert(name)
        return name
    }

    /// Reserves a name that must stay as it is (graph inputs and outputs).
    func reserve(_ name: String) { used.insert(name) }

    /// Adds `tensor` as an initializer named after `base`; returns its value name.
    func constant(_ base: String, _ tensor: Tensor) -> String {
        var t = tensor
        t.name = unique(base)
        initializers.append(t)
        return t.name
    }

    /// A float32 constant.
    func floats(_ base: String, _ shape: [Int], _ values: [Float]) -> String {
        constant(base, Tensor(elementType: .float, shape: shape, values: values))
    }

    /// An int64 constant (1-D).
    func int64s(_ base: String, _ values: [Int]) -> String {
        constant(base, Tensor(elementType: .int64, shape: [values.count], values: values.map(Int64.init)))
    }

    /// Adds a node; returns its output value names.
    @discardableResult
    func op(_ type: String, _ inputs: [String], _ attributes: [Attribute] = [], name base: String, outputs: Int = 1) -> [String] {
        let nodeName = unique(base)
        let outs = (0..<outputs).map { i in i == 0 ? nodeName : unique("\(nodeName)_out\(i)") }
        nodes.append(Node(opType: type, name: nodeName, inputs: inputs, outputs: outs, attributes: attributes))
        return outs
    }

    /// Adds a single-output node; returns its output.
    func op1(_ type: String, _ inputs: [String], _ attributes: [Attribute] = [], name: String) -> String {
        op(type, inputs, attributes, name: name)[0]
    }

    /// Renames the output of the most recent node (used to give graph outputs their names).
    func renameLastOutput(to name: String) {
        reserve(name)
        nodes[nodes.count - 1].outputs[0] = name
    }

    func transpose(_ x: String, _ perm: [Int], name: String) -> String {
        op1("Transpose", [x], [Attribute("perm", .ints(perm.map(Int64.init)))], name: name)
    }
}

extension Attribute {
    static func int(_ name: String, _ v: Int) -> Attribute { Attribute(name, .int(Int64(v))) }
    static func ints(_ name: String, _ v: [Int]) -> Attribute { Attribute(name, .ints(v.map(Int64.init))) }
    static func float(_ name: String, _ v: Double) -> Attribute { Attribute(name, .float(Float(v))) }
    static func string(_ name: String, _ v: String) -> Attribute { Attribute(name, .string(Array(v.utf8))) }
}
