import FerryIR
import FerryRuntime

/// Fixes the sizes of a model's inputs (`optimize --shape`) and replaces each Shape and Size node
/// whose value then no longer depends on the data by its constant, so the shape arithmetic after
/// it (Gather, Concat, Reshape's shape input, ...) folds. A node's value counts as fixed when two
/// runs on different random inputs of the fixed shapes agree on it and nothing before it is
/// data-dependent in shape (NonZero, Unique, control flow, ...).
public struct InputShapeFixing {
    /// Input name -> sizes.
    public let shapes: [String: [Int]]

    public init(shapes: [String: [Int]]) { self.shapes = shapes }

    /// Ops whose output shapes follow their input values, not only their input shapes.
    static let dataDependent: Set<String> = [
        "NonZero", "Unique", "Compress", "If", "Loop", "Scan", "NonMaxSuppression", "TopK", "StringSplit", "RandomNormalLike",
        "RandomUniformLike", "Multinomial", "Bernoulli"
    ]

    /// Fixes the inputs' declared shapes and folds; returns the number of Shape/Size nodes folded.
    /// Throws `PassError.invalidOption` for an input the model lacks or a rank it does not have.
    public func apply(to model: inout Model) throws -> Int {
        guard !shapes.isEmpty else { return 0 }
        for (name, sizes) in shapes {
            guard let i = model.graph.inputs.firstIndex(where: { $0.name == name }),
                model.graph.runtimeInputs.contains(where: { $0.name == name })
            else {
                throw PassError.invalidOption(option: "shape", reason: "'\(name)' is not an input of the model")
            }
            guard case .tensor(let type, let dims)? = model.graph.inputs[i].type?.type else {
                throw PassError.invalidOption(option: "shape", reason: "input '\(name)' is not a tensor")
            }
            if let dims,
                dims.count != sizes.count || zip(dims, sizes).contains(where: { d, n in d.fixedSize.map { $0 != n } ?? false })
            {
                throw PassError.invalidOption(
                    option: "shape", reason: "input '\(name)' is \(model.graph.inputs[i].type!), not of shape \(sizes)")
            }
            model.graph.inputs[i].type = TypeInfo(.tensor(type, shape: sizes.map { Dim.fixed(Int64($0)) }))
        }
        guard
            model.graph.runtimeInputs.allSatisfy({
                if case .tensor(_, let d?)? = $0.type?.type { return d.fixedSizes != nil } else { return false }
            })
        else { return 0 }
        let first = try InferenceSession.everyValue(of: model, feeds: try feeds(model, seed: 1))
        let second = try InferenceSession.everyValue(of: model, feeds: try feeds(model, seed: 2))
        var dependent = Set<String>() // values whose shape may follow the data
        var folded = 0
        for i in try model.graph.topologicalOrder() {
            let node = model.graph.nodes[i]
            if Self.dataDependent.contains(node.opType) || !node.subgraphs.isEmpty
                || node.inputs.contains(where: dependent.contains)
            {
                for o in node.outputs { dependent.insert(o) }
                continue
            }
            guard node.isONNX("Shape") || node.isONNX("Size"), let out = node.outputs.first, var value = first[out],
                value == second[out]
            else { continue }
            value.name = ""
            model.graph.nodes[i] = Node(
                opType: "Constant", name: node.name, inputs: [], outputs: [out], attributes: [Attribute("value", .tensor(value))])
            folded += 1
        }
        return folded
    }

    /// Random inputs of the fixed shapes (`Tensor.random`).
    private func feeds(_ model: Model, seed: UInt64) throws -> [String: Tensor] {
        var rng = SplitMix64(seed: seed)
        var out: [String: Tensor] = [:]
        for info in model.graph.runtimeInputs {
            guard case .tensor(let type, let dims?)? = info.type?.type, let shape = dims.fixedSizes else { continue }
            let limit = SessionOptions().maxMemoryBytes
            guard let n = Tensor.elementCount(of: shape), let bytes = type.byteCount(elements: n), bytes <= limit else {
                throw PassError.unsupported(
                    subject: "input '\(info.name)'", reason: "shape \(shape) is larger than the memory limit of \(limit) bytes")
            }
            guard let t = Tensor.random(type, shape: shape, using: &rng) else {
                throw PassError.unsupported(
                    subject: "input '\(info.name)'", reason: "cannot make random \(type.name) data to fold shapes with")
            }
            out[info.name] = t
        }
        return out
    }
}
