import FerryIR

/// The state of one opset conversion: the versions, the names in use, the values known to be
/// constant, and the element types and shapes known of values (declared, else inferred once by
/// running the source model when a rule needs them).
final class OpsetRewriter {
    let from: Int64
    let to: Int64
    var names: NameAllocator
    /// Nodes rewritten, by their op type before the conversion.
    private(set) var rewritten: [String: Int] = [:]
    /// Constants a rule turned into attributes: removed at the end when nothing reads them any more.
    var consumed: Set<String> = []
    private let source: Model
    private var declared: [String: (type: ElementType, dims: [Dim]?)] = [:]
    private var inferred: [String: (type: ElementType, dims: [Dim]?)]?

    init(model: Model, from: Int64, to: Int64) {
        self.from = from
        self.to = to
        source = model
        names = NameAllocator(model)
        for g in [model.graph] + model.graph.nestedGraphs {
            for v in g.inputs + g.outputs + g.valueInfo {
                if case .tensor(let type, let dims)? = v.type?.type { declared[v.name] = (type, dims) }
            }
            for t in g.initializers { declared[t.name] = (t.elementType, t.shape.map { .fixed(Int64($0)) }) }
        }
    }

    /// Converts every node of `graph` (and of its nested graphs); `outer` holds the constants of
    /// the enclosing graphs.
    func convert(_ graph: inout Graph, outer: [String: Tensor], isMain: Bool) throws {
        var constants = outer
        let overridable = isMain ? source.overridableInitializers : []
        for t in graph.initializers where !overridable.contains(t.name) { constants[t.name] = t }
        for n in graph.nodes where n.isONNX("Constant") && n.outputs.count == 1 {
            if let t = Self.constantValue(n) { constants[n.outputs[0]] = t }
        }
        var nodes: [Node] = []
        var added: [Tensor] = []
        for var node in graph.nodes {
            for i in node.attributes.indices {
                try convertSubgraphs(in: &node.attributes[i].value, outer: constants)
            }
            guard node.isDefaultDomain else {
                nodes.append(node)
                continue
            }
            var step = NodeRewrite(node: node, rewriter: self, constants: constants)
            try step.applyChanges()
            try step.checkExists()
            if step.node != node || !step.before.isEmpty || !step.after.isEmpty {
                rewritten[node.opType, default: 0] += 1
            }
            nodes += step.before + [step.node] + step.after
            added += step.initializers
            for t in step.initializers { declared[t.name] = (t.elementType, t.shape.map { .fixed(Int64($0)) }) }
        }
        graph.nodes = nodes
        graph.initializers += added
    }

    private func convertSubgraphs(in value: inout AttributeValue, outer: [String: Tensor]) throws {
        switch value {
        case .graph(var g):
            try convert(&g, outer: outer, isMain: false)
            value = .graph(g)
        case .graphs(var gs):
            for i in gs.indices { try convert(&gs[i], outer: outer, isMain: false) }
            value = .graphs(gs)
        default:
            break
        }
    }

    /// The element type and dims of `name`, declared or (once, on first need) inferred by running
    /// the source model; nil when neither says.
    func facts(_ name: String) -> (type: ElementType, dims: [Dim]?)? {
        if let d = declared[name] { return d }
        if inferred == nil {
            var found: [String: (type: ElementType, dims: [Dim]?)] = [:]
            if let listing = try? SymbolicShapes.infer(source) {
                for v in listing.values { found[v.name] = (v.elementType, v.dims) }
            }
            inferred = found
        }
        return inferred?[name]
    }

    /// The rank of `name`, when known.
    func rank(_ name: String) -> Int? { facts(name)?.dims?.count }

    /// The size of axis `axis` of `name`, when it is known and fixed.
    func size(_ name: String, axis: Int) -> Int? {
        guard let dims = facts(name)?.dims else { return nil }
        let a = axis < 0 ? axis + dims.count : axis
        guard dims.indices.contains(a), case .fixed(let n) = dims[a].value else { return nil }
        return Int(n)
    }

    /// The tensor a Constant node holds, from whichever of its attributes is set (nil for sparse
    /// and string values).
    static func constantValue(_ n: Node) -> Tensor? {
        let name = n.outputs[0]
        for a in n.attributes {
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

    /// Drops the initializers and Constant nodes of `consumed` that no node (in any graph) reads
    /// any more and that are not graph outputs.
    func removeConsumedConstants(_ graph: inout Graph) {
        guard !consumed.isEmpty else { return }
        var read: Set<String> = []
        for g in [graph] + graph.nestedGraphs {
            for n in g.nodes { read.formUnion(n.inputs) }
            read.formUnion(g.outputs.map(\.name))
        }
        let unused = consumed.subtracting(read)
        guard !unused.isEmpty else { return }
        Self.remove(unused, from: &graph)
    }

    private static func remove(_ unused: Set<String>, from graph: inout Graph) {
        graph.initializers.removeAll { unused.contains($0.name) }
        graph.inputs.removeAll { unused.contains($0.name) }
        graph.nodes.removeAll { $0.isONNX("Constant") && $0.outputs.count == 1 && unused.contains($0.outputs[0]) }
        for i in graph.nodes.indices {
            for j in graph.nodes[i].attributes.indices {
                switch graph.nodes[i].attributes[j].value {
                case .graph(var g):
                    remove(unused, from: &g)
                    graph.nodes[i].attributes[j].value = .graph(g)
                case .graphs(var gs):
                    for k in gs.indices { remove(unused, from: &gs[k]) }
                    graph.nodes[i].attributes[j].value = .graphs(gs)
                default: break
                }
            }
        }
    }
}
