import FerryIR
import FerryPasses
import FerryRuntime
import Testing

/// Builders of small models for the pass tests.
enum Build {
    /// A float32 value of fixed shape.
    static func value(_ name: String, _ shape: [Int]) -> ValueInfo {
        ValueInfo(name: name, type: TypeInfo(.tensor(.float, shape: shape.map { .fixed(Int64($0)) })))
    }

    /// A model of one graph; `inputs` are float32 with fixed shapes, outputs untyped.
    static func model(
        _ nodes: [Node], initializers: [Tensor] = [], inputs: [(String, [Int])], outputs: [String],
        opset: Int64 = 17, ir: Int64 = 8
    ) -> Model {
        Model(
            irVersion: ir, opsetImports: [OpsetID(domain: "", version: opset)],
            graph: Graph(
                name: "test", nodes: nodes, initializers: initializers, inputs: inputs.map { value($0.0, $0.1) },
                outputs: outputs.map { ValueInfo(name: $0, type: nil) }))
    }

    /// A float32 tensor of seeded random values in [-1, 1] (`offset` shifts them, e.g. to keep variances positive).
    static func random(_ name: String, _ shape: [Int], seed: UInt64, offset: Float = 0) -> Tensor {
        var g = SplitMix64(seed: seed)
        let n = shape.reduce(1, *)
        return Tensor(name: name, floats: (0..<n).map { _ in Float.random(in: -1...1, using: &g) + offset }, shape: shape)
    }

    /// Inference-mode BatchNormalization parameters (scale, bias, mean, variance) for `m` channels.
    static func batchNorm(_ prefix: String, _ m: Int, seed: UInt64) -> [Tensor] {
        [
            random(prefix + "_scale", [m], seed: seed), random(prefix + "_bias", [m], seed: seed + 1),
            random(prefix + "_mean", [m], seed: seed + 2), random(prefix + "_var", [m], seed: seed + 3, offset: 1.5)
        ]
    }
}

/// Optimizes a copy of `model` with `passes` (the whole pipeline when nil), checks the result is a
/// valid model and that Ferry's interpreter gives the same outputs for both on seeded random
/// inputs: max |a - b| / (1 + |a|) <= 1e-5. Returns the optimized model.
@discardableResult
func optimizedKeepingOutputs(
    _ model: Model, passes: [OptimizationPass]? = nil, seed: UInt64 = 7,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> Model {
    var optimized = model
    let optimizer = try passes.map { Optimizer(passes: $0) } ?? Optimizer()
    _ = try optimizer.optimize(&optimized)
    _ = try TopologicalSortPass().run(on: &optimized)
    try ModelValidator.validate(optimized)
    let a = try InferenceSession(model: model), b = try InferenceSession(model: optimized)
    var g = SplitMix64(seed: seed)
    var feeds: [String: Tensor] = [:]
    for input in a.inputs {
        guard case .tensor(_, let dims?)? = input.type?.type else { continue }
        let shape = dims.map { d -> Int in if case .fixed(let n) = d.value { return Int(n) } else { return 1 } }
        feeds[input.name] = Tensor(
            name: input.name, floats: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -2...2, using: &g) }, shape: shape)
    }
    let want = try a.run(feeds), got = try b.run(feeds)
    #expect(want.map(\.name) == got.map(\.name), sourceLocation: sourceLocation)
    for (x, y) in zip(want, got) {
        #expect(x.tensor.shape == y.tensor.shape, "output \(x.name)", sourceLocation: sourceLocation)
        let p = x.tensor.floatValues ?? [], q = y.tensor.floatValues ?? []
        #expect(p.count == q.count && !p.isEmpty, "output \(x.name)", sourceLocation: sourceLocation)
        let worst = zip(p, q).map { abs($0 - $1) / (1 + abs($0)) }.max() ?? 0
        #expect(worst <= 1e-5, "output \(x.name) differs by \(worst)", sourceLocation: sourceLocation)
    }
    return optimized
}
