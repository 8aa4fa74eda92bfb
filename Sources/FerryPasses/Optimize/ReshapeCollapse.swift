import FerryIR
import FerryRewrite

/// Makes a Reshape reading another Reshape's output reshape the first one's input directly, when
/// its target shape is a constant that does not copy input dimensions (no 0 entries, or
/// allowzero = 1); the first Reshape goes once nothing else reads it.
public struct ReshapeCollapse: OptimizationPass {
    public init() {}

    public var name: String { "collapse-reshapes" }

    public func apply(to model: inout Model) throws -> Int {
        let constants = model.constantInitializers
        let index = GraphIndex(model.graph)
        var count = 0
        for j in model.graph.nodes.indices {
            let second = model.graph.nodes[j]
            guard second.isONNX("Reshape"), second.inputs.count == 2, let i = index.producer[second.inputs[0]],
                let shape = constants[second.inputs[1]], shape.elementType == .int64, let b = shape.bytes,
                second.int("allowzero", 0) != 0 || !b.toArray(of: Int64.self).contains(0)
            else { continue }
            let first = model.graph.nodes[i]
            guard first.isONNX("Reshape"), first.inputs.count == 2, !first.inputs[0].isEmpty else { continue }
            model.graph.nodes[j].inputs[0] = first.inputs[0]
            count += 1
        }
        return count
    }
}
