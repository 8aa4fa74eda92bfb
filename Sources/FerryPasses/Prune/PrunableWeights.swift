import FerryIR
import FerryRewrite

/// A weight tensor read by a Conv, ConvTranspose, Gemm or MatMul node.
struct WeightUse {
    /// The reading node's index.
    let node: Int
    /// The input slot the weight is read at.
    let slot: Int
    /// The initializer's index in the graph.
    let initializer: Int
    /// Why the weight is not pruned (nil: prunable).
    var skipReason: String?
}

/// Which weights of a graph may be pruned: float32 initializers read as the weight of Conv,
/// ConvTranspose, Gemm or MatMul (biases, normalization parameters and other tensors never are),
/// with at least `minElements` elements, by a node not excluded.
enum PrunableWeights {
    static let weightOps: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul"]

    /// Every weight use in graph order; each initializer appears once (at its first reader).
    static func find(_ graph: Graph, options: PruneOptions) -> [WeightUse] {
        let index = GraphIndex(graph)
        let excluded = Set(options.exclude)
        var uses: [WeightUse] = []
        var seen = Set<Int>()
        for (i, n) in graph.nodes.enumerated() where weightOps.contains(n.opType) && n.isDefaultDomain {
            guard let (slot, position) = weightSlot(n, index), seen.insert(position).inserted else { continue }
            let t = graph.initializers[position]
            var use = WeightUse(node: i, slot: slot, initializer: position)
            if excluded.contains(n.name) || excluded.contains(n.opType) {
                use.skipReason = "excluded"
            } else if t.elementType != .float || t.segment != nil {
                use.skipReason = "\(t.elementType.name) weights are not pruned"
            } else if t.storedElementCount < options.minElements {
                use.skipReason = "\(grouped(t.storedElementCount)) elements, fewer than \(grouped(options.minElements))"
            }
            uses.append(use)
        }
        return uses
    }

    /// The slot of `node`'s weight and its initializer index: input 1, or input 0 of a MatMul
    /// whose input 1 is computed.
    static func weightSlot(_ node: Node, _ index: GraphIndex) -> (Int, Int)? {
        if node.inputs.count > 1, let i = index.initializer[node.inputs[1]] { return (1, i) }
        if node.opType == "MatMul", let first = node.inputs.first, let i = index.initializer[first] { return (0, i) }
        return nil
    }
}
