/// A transformation of a model. Optimization, quantization and pruning passes implement this.
public protocol GraphPass {
    /// Short name for reports and `--verbose` output.
    var name: String { get }
    /// Transforms `model` in place; returns true when anything changed.
    func run(on model: inout Model) throws -> Bool
}

/// Puts the nodes of the main graph and every nested graph and function in topological order
/// (ONNX requires it; the order of an already sorted graph is kept).
public struct TopologicalSortPass: GraphPass {
    public init() {}

    public var name: String { "topological-sort" }

    public func run(on model: inout Model) throws -> Bool {
        var changed = try sort(&model.graph)
        for i in model.trainingInfo.indices {
            if model.trainingInfo[i].initialization != nil {
                changed = try sort(&model.trainingInfo[i].initialization!) || changed
            }
            if model.trainingInfo[i].algorithm != nil { changed = try sort(&model.trainingInfo[i].algorithm!) || changed }
        }
        for i in model.functions.indices {
            var body = Graph(nodes: model.functions[i].nodes)
            if try sort(&body) {
                model.functions[i].nodes = body.nodes
                changed = true
            }
        }
        return changed
    }

    private func sort(_ graph: inout Graph) throws -> Bool {
        var changed = false
        for n in graph.nodes.indices {
            for a in graph.nodes[n].attributes.indices {
                switch graph.nodes[n].attributes[a].value {
                case .graph(var g):
                    if try sort(&g) {
                        graph.nodes[n].attributes[a].value = .graph(g)
                        changed = true
                    }
                case .graphs(var gs):
                    var any = false
                    for j in gs.indices { any = try sort(&gs[j]) || any }
                    if any {
                        graph.nodes[n].attributes[a].value = .graphs(gs)
                        changed = true
                    }
                default: break
                }
            }
        }
        let order = try graph.topologicalOrder()
        if order != Array(graph.nodes.indices) {
            graph.nodes = order.map { graph.nodes[$0] }
            changed = true
        }
        return changed
    }
}
