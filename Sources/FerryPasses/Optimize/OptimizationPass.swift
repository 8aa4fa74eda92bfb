import FerryIR

/// A graph pass of the optimizer: it reports how many rewrites it made, so the optimizer can say
/// what each pass changed. `run(on:)` comes for free.
public protocol OptimizationPass: GraphPass {
    /// Rewrites `model` in place; returns the number of rewrites (0 when nothing changed).
    func apply(to model: inout Model) throws -> Int
}

extension OptimizationPass {
    public func run(on model: inout Model) throws -> Bool { try apply(to: &model) > 0 }
}
