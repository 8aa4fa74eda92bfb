import FerryIR

/// Hands out value and node names that no part of a model uses yet.
public struct NameAllocator {
    private var used: Set<String>

    /// Reserves every name `model` already uses (values, nodes, initializers, nested graphs).
    public init(_ model: Model) { self.init(model.graph) }

    /// Reserves every name `graph` and its nested graphs already use.
    public init(_ graph: Graph) {
        used = []
        for g in [graph] + graph.nestedGraphs {
            for n in g.nodes {
                used.formUnion(n.inputs)
                used.formUnion(n.outputs)
                used.insert(n.name)
            }
            used.formUnion(g.initializers.map(\.name))
            used.formUnion(g.sparseInitializers.map(\.name))
            used.formUnion(g.inputs.map(\.name))
            used.formUnion(g.outputs.map(\.name))
        }
    }

    /// `base` if it is free, else `base_1`, `base_2`, ...; the name returned is then taken.
    public mutating func fresh(_ base: String) -> String {
        var name = base, k = 0
        while used.contains(name) {
            k += 1
            name = "\(base)_\(k)"
        }
        used.insert(name)
        return name
    }
}
