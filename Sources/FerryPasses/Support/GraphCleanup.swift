import FerryIR

/// Removal of what a rewrite leaves behind: nodes whose outputs nobody reads and initializers
/// nobody reads.
public enum GraphCleanup {
    /// Drops nodes none of whose outputs are read (transitively) or are graph outputs, then
    /// initializers (dense and sparse) that no remaining node reads and that are not graph outputs.
    /// Returns the number of nodes and initializers removed.
    @discardableResult
    public static func removeUnused(_ graph: inout Graph) -> (nodes: Int, initializers: Int) {
        // Walk back from the graph outputs through producers (nodes may be in any order).
        var producer: [String: Int] = [:]
        for (i, n) in graph.nodes.enumerated() { for out in n.outputs where !out.isEmpty { producer[out] = i } }
        var needed = Set(graph.outputs.map(\.name))
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        var work = Array(needed)
        while let value = work.popLast() {
            guard let i = producer[value], !keep[i] else { continue }
            keep[i] = true
            let n = graph.nodes[i]
            for name in n.inputs + n.subgraphs.flatMap({ $0.outerScopeReads() })
            where !name.isEmpty && needed.insert(name).inserted {
                work.append(name)
            }
        }
        let nodeCount = graph.nodes.count
        graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
        let initCount = graph.initializers.count + graph.sparseInitializers.count
        let runtime = Set(graph.runtimeInputs.map(\.name))
        graph.initializers.removeAll { !needed.contains($0.name) }
        graph.sparseInitializers.removeAll { !needed.contains($0.name) }
        // Declared inputs that were initializers (IR < 4 style) go with them.
        let initializerNames = Set(graph.initializers.map(\.name) + graph.sparseInitializers.map(\.name))
        graph.inputs.removeAll { !runtime.contains($0.name) && !initializerNames.contains($0.name) }
        return (nodeCount - graph.nodes.count, initCount - graph.initializers.count - graph.sparseInitializers.count)
    }
}

extension GraphCleanup {
    /// Makes the graph inputs that name initializers declare the initializers' current types and
    /// shapes; for IR versions below 4 (where every initializer must also be a graph input) adds
    /// the missing ones. Call after passes that add initializers or change their shapes.
    public static func declareInitializerInputs(_ graph: inout Graph, irVersion: Int64?) {
        var declared = Set(graph.inputs.map(\.name))
        let types = Dictionary(
            graph.initializers.map { t in
                (t.name, TypeInfo(.tensor(t.elementType, shape: t.shape.map { Dim.fixed(Int64($0)) })))
            }, uniquingKeysWith: { a, _ in a })
        for k in graph.inputs.indices {
            if let type = types[graph.inputs[k].name] { graph.inputs[k].type = type }
        }
        guard let ir = irVersion, ir < 4 else { return }
        for t in graph.initializers where declared.insert(t.name).inserted {
            graph.inputs.append(ValueInfo(name: t.name, type: types[t.name]))
        }
    }
}
