import FerryIR
import FerryRewrite
import FerryRuntime

/// Replaces nodes whose inputs are all constants (fixed initializers, Constant nodes, earlier
/// folds) by initializers holding their outputs, computed by Ferry's interpreter: each node runs
/// once in an `InferenceSession` of its own. Shape nodes of graph inputs whose declared shape is
/// fully fixed fold too (`Foldability` holds the rules the planner follows as well).
///
/// Not folded: nondeterministic ops (Random*, Multinomial, Bernoulli), nodes with nested graphs,
/// nodes writing a graph output, float16 computations, nodes the interpreter cannot run, and folds
/// that would grow the model: when a node's outputs take more than `maxGrowthBytes` bytes beyond
/// its inputs (ConstantOfShape, Expand, Tile, ... filling large tensors from small ones), it stays
/// (ConstantOfShape, Expand and Tile are sized before they run).
public struct ConstantFolding: OptimizationPass {
    /// The default `maxGrowthBytes`: 64 KiB.
    public static let defaultGrowthLimit = 64 << 10
    /// The largest `maxGrowthBytes` the optimizer accepts: 2^40 (1 TiB, no limit in practice).
    public static let largestGrowthLimit = 1 << 40
    /// The largest number of bytes a fold may add beyond the bytes of the constants it reads.
    public let maxGrowthBytes: Int

    public init(maxGrowthBytes: Int = ConstantFolding.defaultGrowthLimit) {
        self.maxGrowthBytes = min(max(0, maxGrowthBytes), 1 << 50)
    }

    public var name: String { "fold-constants" }

    public func apply(to model: inout Model) throws -> Int {
        var constants = model.constantInitializers
        let graphOutputs = Set(model.graph.outputs.map(\.name))
        let fixedInputs = Foldability.fixedShapes(of: model.graph.runtimeInputs)
        var folded = Set<Int>()
        var created: [Tensor] = []
        let order = try model.graph.topologicalOrder()
        for (k, i) in order.enumerated() {
            Progress.report("folding constants", done: k, total: order.count)
            let node = model.graph.nodes[i]
            guard Foldability.isDeterministic(node),
                !node.outputs.contains(where: graphOutputs.contains), node.outputs.contains(where: { !$0.isEmpty })
            else { continue }
            if let input = node.inputs.first, let fixed = fixedInputs[input], let dims = Foldability.shape(node, of: fixed.shape)
            {
                let t = Tensor(name: node.outputs[0], elementType: .int64, shape: [dims.count], values: dims.map(Int64.init))
                constants[t.name] = t
                created.append(t)
                folded.insert(i)
                continue
            }
            guard let inputs = constantInputs(node, constants: constants), !involvesFloat16(node, inputs) else { continue }
            let inputBytes = inputs.reduce(0) { $0 + $1.byteCount }
            if let estimate = FoldSize.outputBytes(node, inputs: inputs), estimate > inputBytes + maxGrowthBytes { continue }
            guard let results = evaluate(node, inputs: inputs, model: model),
                results.reduce(0, { $0 + $1.byteCount }) <= inputBytes + maxGrowthBytes
            else { continue }
            for r in results {
                constants[r.name] = r
                created.append(r)
            }
            folded.insert(i)
        }
        Progress.report("folding constants", done: order.count, total: order.count)
        guard !folded.isEmpty else { return 0 }
        model.graph.nodes = model.graph.nodes.enumerated().filter { !folded.contains($0.offset) }.map(\.element)
        for t in created { model.addInitializer(t) }
        return folded.count
    }

    /// The node's inputs as tensors when all are known; nil otherwise.
    private func constantInputs(_ node: Node, constants: [String: Tensor]) -> [Tensor]? {
        var result: [Tensor] = []
        var seen = Set<String>()
        for name in node.inputs where !name.isEmpty && seen.insert(name).inserted {
            guard let t = constants[name] else { return nil }
            result.append(t)
        }
        return result
    }

    /// True when the computation reads or makes float16 values: the interpreter widens those to
    /// float32, so the result's type could not be trusted.
    private func involvesFloat16(_ node: Node, _ inputs: [Tensor]) -> Bool {
        let half = Int64(ElementType.float16.rawValue)
        return inputs.contains { $0.elementType == .float16 }
            || node.attributes.contains { a in
                switch a.value {
                case .int(let v): return (a.name == "to" || a.name == "dtype") && v == half
                case .tensor(let t): return t.elementType == .float16
                default: return false
                }
            }
    }

    /// Runs `node` alone on `inputs`; nil when the interpreter cannot.
    private func evaluate(_ node: Node, inputs: [Tensor], model: Model) -> [Tensor]? {
        let outputs = node.outputs.filter { !$0.isEmpty }
        let graph = Graph(
            name: "fold", nodes: [node], initializers: inputs, outputs: outputs.map { ValueInfo(name: $0, type: nil) })
        let single = Model(irVersion: model.irVersion, opsetImports: model.opsetImports, graph: graph, functions: model.functions)
        do {
            let session = try InferenceSession(model: single, options: SessionOptions(threads: 1))
            return try session.run([:]).map(\.tensor)
        } catch {
            return nil
        }
    }
}

extension ConstantFolding {
    /// A growth limit that folds every weight: for passes about to rewrite the weights anyway
    /// (quantization, pruning), which need them as initializers.
    public static let weightsLimit = 1 << 30

    /// Folds everything computed from constants alone into initializers (weights held by Constant
    /// nodes or computed from constants included) and drops what is no longer read; returns the
    /// number of nodes folded.
    @discardableResult
    public static func materialize(_ model: inout Model) throws -> Int {
        let report = try Optimizer(passes: [ConstantFolding(maxGrowthBytes: weightsLimit), DeadCodeElimination()]).optimize(
            &model)
        return report.passes[0].rewrites
    }
}
