import FerryIR

/// Accumulates the nodes and initializers of the graph being imported, with unique value names.
final class GraphBuilder {
    private(set) var nodes: [Node] = []
    private(set) var initializers: [Tensor] = []
    private var used = Set<String>()
    /// The node computing each value.
    private var producer: [String: Int] = [:]

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
        for o in outs { producer[o] = nodes.count }
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
        producer[nodes[nodes.count - 1].outputs[0]] = nil
        producer[name] = nodes.count - 1
        nodes[nodes.count - 1].outputs[0] = name
    }

    /// x with its axes permuted. A Transpose of a Transpose's output is composed into one
    /// Transpose of the first one's input (none when the two cancel), so layouts never bounce.
    func transpose(_ x: String, _ perm: [Int], name: String) -> String {
        if let p = producer[x], nodes[p].opType == "Transpose", case .ints(let first)? = nodes[p].attribute("perm"),
            first.count == perm.count, perm.allSatisfy({ (0..<first.count).contains($0) })
        {
            let combined = perm.map { Int(first[$0]) }
            let source = nodes[p].inputs[0]
            return combined == Array(combined.indices) ? source : transpose(source, combined, name: name)
        }
        return op1("Transpose", [x], [Attribute("perm", .ints(perm.map(Int64.init)))], name: name)
    }

    /// Removes Transposes whose output nothing reads (left behind by composed Transposes).
    func removeUnreadTransposes(keeping outputs: Set<String>) {
        while true {
            let read = Set(nodes.flatMap(\.inputs)).union(outputs)
            let before = nodes.count
            nodes.removeAll { $0.opType == "Transpose" && !read.contains($0.outputs[0]) }
            guard nodes.count < before else { break }
        }
        producer = Dictionary(uniqueKeysWithValues: nodes.enumerated().flatMap { i, n in n.outputs.map { ($0, i) } })
    }
}

extension Attribute {
    static func int(_ name: String, _ v: Int) -> Attribute { Attribute(name, .int(Int64(v))) }
    static func ints(_ name: String, _ v: [Int]) -> Attribute { Attribute(name, .ints(v.map(Int64.init))) }
    static func float(_ name: String, _ v: Double) -> Attribute { Attribute(name, .float(Float(v))) }
    static func string(_ name: String, _ v: String) -> Attribute { Attribute(name, .string(Array(v.utf8))) }
}
