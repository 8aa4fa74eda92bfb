import FerryIR
import FerryRewrite

/// Composes a Transpose reading another Transpose's output into one Transpose of the first one's
/// input (perm[i] = first[second[i]]); when the composition is the identity the node becomes an
/// Identity, which `IdentityElimination` then removes. The first Transpose goes once nothing else
/// reads it. Transposes without an explicit perm are left alone.
public struct TransposeFolding: OptimizationPass {
    public init() {}

    public var name: String { "fold-transposes" }

    public func apply(to model: inout Model) throws -> Int {
        let index = GraphIndex(model.graph)
        var count = 0
        for j in model.graph.nodes.indices {
            let second = model.graph.nodes[j]
            guard second.isONNX("Transpose"), second.inputs.count == 1, let p2 = second.ints("perm"),
                let i = index.producer[second.inputs[0]]
            else { continue }
            let first = model.graph.nodes[i]
            guard first.isONNX("Transpose"), first.inputs.count == 1, let p1 = first.ints("perm"), p1.count == p2.count,
                p2.allSatisfy({ $0 >= 0 && $0 < p1.count })
            else { continue }
            let composed = p2.map { p1[$0] }
            var node = second
            node.inputs = first.inputs
            if composed == Array(composed.indices) {
                node.opType = "Identity"
                node.attributes = []
            } else {
                node.attributes =
                    second.attributes.filter { $0.name != "perm" } + [Attribute("perm", .ints(composed.map(Int64.init)))]
            }
            model.graph.nodes[j] = node
            count += 1
        }
        return count
    }
}
