import FerryIR

/// Removes Identity nodes and inference-mode Dropout nodes whose mask output nobody reads; their
/// readers read the node's input instead. When the removed node's output is a graph output, the
/// producer of its input is renamed to write that output directly, so graph output names never
/// change (a graph input or initializer passed straight to an output keeps its Identity).
public struct IdentityElimination: OptimizationPass {
    public init() {}

    public var name: String { "eliminate-identity" }

    public func apply(to model: inout Model) throws -> Int {
        var removed = Set<Int>()
        let graphOutputs = Set(model.graph.outputs.map(\.name))
        let captured = model.graph.capturedValues
        let constants = model.constantInitializers
        for i in model.graph.nodes.indices {
            let node = model.graph.nodes[i]
            guard isPassThrough(node, constants: constants, graph: model.graph, graphOutputs: graphOutputs) else { continue }
            let x = node.inputs[0], y = node.outputs[0]
            guard !x.isEmpty, !captured.contains(y), !captured.contains(x) else { continue }
            if !graphOutputs.contains(y) {
                model.graph.replaceReads(of: y, with: x)
            } else {
                guard !graphOutputs.contains(x),
                    let p = model.graph.nodes.indices.first(where: {
                        !removed.contains($0) && model.graph.nodes[$0].outputs.contains(x)
                    })
                else { continue }
                model.graph.nodes[p].outputs = model.graph.nodes[p].outputs.map { $0 == x ? y : $0 }
                model.graph.replaceReads(of: x, with: y)
            }
            removed.insert(i)
        }
        model.graph.nodes = model.graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return removed.count
    }

    /// True for an Identity, or a Dropout that is the identity at inference (no training-mode input
    /// other than a constant false) whose mask output is unused.
    private func isPassThrough(_ node: Node, constants: [String: Tensor], graph: Graph, graphOutputs: Set<String>) -> Bool {
        guard node.inputs.count >= 1, !node.outputs.isEmpty, !node.outputs[0].isEmpty, node.subgraphs.isEmpty else {
            return false
        }
        if node.isONNX("Identity") { return node.inputs.count == 1 && node.outputs.count == 1 }
        guard node.isONNX("Dropout") else { return false }
        if node.outputs.count > 1, !node.outputs[1].isEmpty {
            let mask = node.outputs[1]
            if graphOutputs.contains(mask) || graph.nodes.contains(where: { $0.inputs.contains(mask) }) { return false }
        }
        if node.inputs.count > 2, !node.inputs[2].isEmpty {
            guard let mode = constants[node.inputs[2]], mode.elementType == .bool, let b = mode.bytes,
                b.toArray(of: UInt8.self) == [0]
            else { return false }
        }
        return true
    }
}
