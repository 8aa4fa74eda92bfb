import FerryIR

/// Removes nodes whose outputs nothing reads and initializers nothing reads (`GraphCleanup`);
/// values nested graphs capture count as read.
public struct DeadCodeElimination: OptimizationPass {
    public init() {}

    public var name: String { "remove-dead" }

    public func apply(to model: inout Model) throws -> Int {
        let removed = GraphCleanup.removeUnused(&model.graph)
        return removed.nodes + removed.initializers
    }
}
