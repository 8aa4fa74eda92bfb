import FerryIR

/// The state of one opset conversion: the versions, the names in use, the values known to be
/// constant, and what is known of values: element types from the declarations and the ops'
/// typing rules (`ElementTypeInference`), shapes as declared; else both from running the source
/// model (`SymbolicShapes`), once, when a rule needs them.
final class OpsetRewriter {
    let from: Int64
    let to: Int64
    var names: NameAllocator
    /// Nodes rewritten, by their op type before the conversion.
    private(set) var rewritten: [String: Int] = [:]
    /// Constants a rule turned into attributes: removed at the end when nothing reads them any more.
    var consumed: Set<String> = []
    private let source: Model
    private var types: [String: ElementType] = [:]
    private var declaredDims: [String: [Dim]] = [:]
    private var probed: [String: SymbolicValue]?

    init(model: Model, from: Int64, to: Int64) {
        self.from = from
        self.to = to
        source = model
        names = NameAllocator(model)
        for g in [model.graph] + model.graph.nestedGraphs {
            for v in g.inputs + g.outputs + g.valueInfo {
                if case .tensor(_, let dims?)? = v.type?.type { declaredDims[v.name] = dims }
            }
            for t in g.initializers { declaredDims[t.name] = t.shape.map { .fixed(Int64($0)) } }
        }
    }

    /// Converts every node of `graph` (and of its nested graphs); `outer` and `outerTypes` hold
    /// the constants and element types of the enclosing graphs.
    func convert(_ graph: inout Graph, outer: [String: Tensor], outerTypes: [String: ElementType] = [:], isMain: Bool) throws {
        let graphTypes = ElementTypeInference.infer(graph, outer: outerTypes)
        types.merge(graphTypes) { kept, _ in kept }
        var constants = outer
        let overridable = isMain ? source.overridableInitializers : []
        for t in graph.initializers where !overridable.contains(t.name) { constants[t.name] = t }
        for n in graph.nodes where n.isONNX("Constant") && n.outputs.count == 1 {
            if let t = n.constantValue { constants[n.outputs[0]] = t }
        }
        var nodes: [Node] = []
        var added: [Tensor] = []
        for var node in graph.nodes {
            for i in node.attributes.indices {
                try convertSubgraphs(in: &node.attributes[i].value, outer: constants, outerTypes: graphTypes)
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
            for t in step.initializers {
                types[t.name] = t.elementType
                declaredDims[t.name] = t.shape.map { .fixed(Int64($0)) }
            }
        }
        graph.nodes = nodes
        graph.initializers += added
    }

    private func convertSubgraphs(in value: inout AttributeValue, outer: [String: Tensor], outerTypes: [String: ElementType])
        throws
    {
        switch value {
        case .graph(var g):
            try convert(&g, outer: outer, outerTypes: outerTypes, isMain: false)
            value = .graph(g)
        case .graphs(var gs):
            for i in gs.indices { try convert(&gs[i], outer: outer, outerTypes: outerTypes, isMain: false) }
            value = .graphs(gs)
        default:
            break
        }
    }

    /// The element type of `name`: declared or following from the ops' typing rules, else from
    /// running the source model; nil when neither says.
    func elementType(_ name: String) -> ElementType? { types[name] ?? probe(name)?.elementType }

    /// The dims of `name`, declared or (once, on first need) found by running the source model.
    func dims(_ name: String) -> [Dim]? { declaredDims[name] ?? probe(name)?.dims }

    private func probe(_ name: String) -> SymbolicValue? {
        if probed == nil {
            let listing = try? SymbolicShapes.infer(source)
            probed = Dictionary((listing?.values ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        }
        return probed?[name]
    }

    /// The rank of `name`, when known.
    func rank(_ name: String) -> Int? { dims(name)?.count }

    /// The size of axis `axis` of `name`, when it is known and fixed.
    func size(_ name: String, axis: Int) -> Int? {
        guard let dims = dims(name) else { return nil }
        let a = axis < 0 ? axis + dims.count : axis
        guard dims.indices.contains(a), case .fixed(let n) = dims[a].value else { return nil }
        return Int(n)
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
