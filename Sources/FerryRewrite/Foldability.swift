import FerryIR

/// Which nodes may be computed before the graph runs, for the planner (which computes them at plan
/// time) and constant folding (which stores their results as initializers): the rules both follow.
public enum Foldability {
    /// Ops whose results differ from run to run: never computed ahead.
    public static let nondeterministicOps: Set<String> = [
        "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
        "Multinomial", "Bernoulli"
    ]

    /// True when `node` gives the same results whenever its inputs are the same: no nested graphs
    /// (they may read values from outside) and no random op.
    public static func isDeterministic(_ node: Node) -> Bool {
        node.subgraphs.isEmpty && !(node.isDefaultDomain && nondeterministicOps.contains(node.opType))
    }

    /// Element type and dimensions of the inputs declared with a fully fixed shape (`Shape` of them
    /// is known before running).
    public static func fixedShapes(of inputs: [ValueInfo]) -> [String: (type: ElementType, shape: [Int])] {
        var result: [String: (type: ElementType, shape: [Int])] = [:]
        for input in inputs {
            guard case .tensor(let type, let dims?)? = input.type?.type, let sizes = dims.fixedSizes else { continue }
            result[input.name] = (type, sizes)
        }
        return result
    }

    /// What `node` returns when it is an ONNX Shape node reading a value of dimensions `dims`:
    /// the dimensions from its `start` to its `end` attribute (opset 15; negative ones count from
    /// the end and both are clamped). nil for any other node.
    public static func shape(_ node: Node, of dims: [Int]) -> [Int]? {
        guard node.isONNX("Shape"), node.inputs.count == 1, node.outputs.count == 1, !node.outputs[0].isEmpty else { return nil }
        let r = dims.count
        func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + r : i, 0), r) }
        let start = clamp(node.int("start", 0)), end = clamp(node.int("end", r))
        return start < end ? Array(dims[start..<end]) : []
    }
}
