/// The element type of every tensor value of a graph, where it follows from what is declared: the
/// inputs, initializers and value_info, the values the graph reads from enclosing graphs, and
/// per op the rule ONNX gives for its outputs' types (most ONNX ops keep their first input's type;
/// Shape, ArgMax, comparisons, Cast, quantization ops, ... name theirs; ops of other domains than
/// the ones listed stay untyped). If, Loop and Scan outputs take their subgraphs' output types,
/// inferred the same way, so untyped branch outputs (as PyTorch exports them) get the types their
/// bodies compute.
public enum ElementTypeInference {
    /// The inferred types of `graph`'s values; `outer` holds the types of values its subgraphs'
    /// enclosing graphs define. A declared type wins over an inferred one.
    public static func infer(_ graph: Graph, outer: [String: ElementType] = [:]) -> [String: ElementType] {
        var types = outer
        for t in graph.initializers { types[t.name] = t.elementType }
        for s in graph.sparseInitializers { types[s.name] = s.values.elementType }
        for v in graph.inputs + graph.valueInfo + graph.outputs {
            if let t = declared(v) { types[v.name] = t }
        }
        let order = (try? graph.topologicalOrder()) ?? Array(graph.nodes.indices)
        for index in order {
            let node = graph.nodes[index]
            for (k, t) in outputTypes(node, types).enumerated() where k < node.outputs.count {
                let name = node.outputs[k]
                guard !name.isEmpty, let t, types[name] == nil else { continue }
                types[name] = t
            }
        }
        return types
    }

    /// The inferred element types of a subgraph's outputs, in order (nil where unknown); `inputs`
    /// gives types for its inputs that declare none (a Loop body's carried values take the types
    /// of the Loop's inputs).
    public static func outputTypes(of graph: Graph, outer: [String: ElementType], inputs: [ElementType?] = []) -> [ElementType?] {
        let types = infer(graph, outer: seeding(graph, outer, inputs))
        return graph.outputs.map { types[$0.name] }
    }

    /// `outer` with the types `inputs` gives `graph`'s inputs (declared types still win in `infer`).
    public static func seeding(_ graph: Graph, _ outer: [String: ElementType], _ inputs: [ElementType?]) -> [String: ElementType]
    {
        var types = outer
        for (v, t) in zip(graph.inputs, inputs) { types[v.name] = t }
        return types
    }

    /// The element type a value declares, if it declares a tensor of a known type.
    public static func declared(_ v: ValueInfo) -> ElementType? {
        switch v.type?.type {
        case .tensor(let t, _)?, .sparseTensor(let t, _)?: return t == .undefined ? nil : t
        default: return nil
        }
    }

    /// Ops whose outputs are int64 whatever their inputs.
    private static let int64Results: Set<String> = ["Shape", "Size", "NonZero", "ArgMax", "ArgMin", "NonMaxSuppression"]
    /// Ops whose outputs are bool.
    private static let boolResults: Set<String> = [
        "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And",
        "Or", "Xor", "IsNaN", "IsInf"
    ]

    /// The element types of a node's outputs given its inputs' types (nil where unknown).
    static func outputTypes(_ node: Node, _ types: [String: ElementType]) -> [ElementType?] {
        func input(_ i: Int) -> ElementType? { i < node.inputs.count ? types[node.inputs[i]] : nil }
        func attributeType(_ name: String) -> ElementType? {
            if case .int(let v)? = node.attribute(name), let t = ElementType(rawValue: Int32(clamping: v)), t != .undefined {
                return t
            }
            return nil
        }
        let op = node.opType
        if node.domain == Domain.microsoft {
            switch op {
            case "DynamicQuantizeLSTM": return [input(0), input(0), input(0)]
            case "QGemm": return [node.inputs.count > 8 ? input(8) : .float]
            case "QLinearConcat": return [input(1)]
            case "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QAttention": return [.float]
            case "DequantizeLinear": return [input(1)]
            case "QuantizeLinear": return [input(2) ?? .uint8]
            case "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearAveragePool",
                "QLinearGlobalAveragePool",
                "FusedConv", "FusedGemm", "FusedMatMul", "Gelu", "FastGelu", "BiasGelu", "QuickGelu":
                return [input(0)]
            default: return []
            }
        }
        // Other domains' ops are not known here: their outputs stay untyped.
        guard node.isDefaultDomain else { return [] }
        if int64Results.contains(op) { return [.int64] }
        if boolResults.contains(op) { return [.bool] }
        switch op {
        case "Cast": return [attributeType("to")]
        case "CastLike": return [input(1)]
        case "Constant":
            if case .tensor(let t)? = node.attribute("value") { return [t.elementType] }
            if case .sparseTensor(let s)? = node.attribute("sparse_value") { return [s.values.elementType] }
            if node.attribute("value_float") != nil || node.attribute("value_floats") != nil { return [.float] }
            if node.attribute("value_int") != nil || node.attribute("value_ints") != nil { return [.int64] }
            if node.attribute("value_string") != nil || node.attribute("value_strings") != nil { return [.string] }
            return [nil]
        case "ConstantOfShape":
            if case .tensor(let t)? = node.attribute("value") { return [t.elementType] }
            return [.float]
        case "EyeLike", "RandomNormalLike", "RandomUniformLike", "Bernoulli": return [attributeType("dtype") ?? input(0)]
        case "RandomNormal", "RandomUniform": return [attributeType("dtype") ?? .float]
        case "Multinomial": return [attributeType("dtype") ?? .int32]
        case "QuantizeLinear": return [input(2) ?? attributeType("output_dtype") ?? .uint8]
        case "DequantizeLinear": return [attributeType("output_dtype") ?? input(1)]
        case "DynamicQuantizeLinear": return [.uint8, .float, .uint8]
        case "MatMulInteger", "ConvInteger": return [.int32]
        case "QLinearConv": return [input(7)]
        case "QLinearMatMul": return [input(7)]
        case "Where": return [input(1)]
        case "OneHot": return [input(2)]
        case "TopK": return [input(0), .int64]
        case "Unique": return [input(0), .int64, .int64, .int64]
        case "MaxPool": return [input(0), .int64]
        case "Dropout": return [input(0), .bool]
        case "LayerNormalization": return [input(0), attributeType("stash_type") ?? .float, attributeType("stash_type") ?? .float]
        case "StringNormalizer", "RegexFullMatch", "StringConcat", "StringSplit":
            return [op == "RegexFullMatch" ? .bool : .string, .int64]
        case "TfIdfVectorizer": return [.float]
        case "HannWindow", "HammingWindow", "BlackmanWindow", "MelWeightMatrix":
            return [attributeType("output_datatype") ?? .float]
        case "If":
            return merged(subgraphs(node, "then_branch", types, skip: 0), subgraphs(node, "else_branch", types, skip: 0))
        case "Loop":
            // Body inputs: iteration, cond, the carried values; outputs: cond, then what the node returns.
            return subgraphs(node, "body", types, skip: 1, inputs: [.int64, .bool] + node.inputs.dropFirst(2).map { types[$0] })
        case "Scan":
            // Scan-8 takes sequence_lens first; its body does not see it.
            guard case .graph(let body)? = node.attribute("body") else { return [] }
            let given = body.inputs.count < node.inputs.count ? Array(node.inputs.dropFirst()) : node.inputs
            return subgraphs(node, "body", types, skip: 0, inputs: given.map { types[$0] })
        case "Split", "SplitToSequence":
            return [ElementType?](repeating: input(0), count: max(node.outputs.count, 1))
        case "LSTM", "GRU", "RNN", "BatchNormalization":
            return [ElementType?](repeating: input(0), count: max(node.outputs.count, 1))
        default: return [input(0)]
        }
    }

    /// The output types of graph attribute `name` after its first `skip` outputs.
    private static func subgraphs(
        _ node: Node, _ name: String, _ types: [String: ElementType], skip: Int,
        inputs: [ElementType?] = []
    ) -> [ElementType?] {
        guard case .graph(let g)? = node.attribute(name) else { return [] }
        return Array(outputTypes(of: g, outer: types, inputs: inputs).dropFirst(skip))
    }

    /// The types two If branches agree on (nil where they differ or either is unknown).
    private static func merged(_ a: [ElementType?], _ b: [ElementType?]) -> [ElementType?] {
        (0..<max(a.count, b.count)).map { i in
            let x = i < a.count ? a[i] : nil, y = i < b.count ? b[i] : nil
            return x == nil ? y : (y == nil || x == y ? x : nil)
        }
    }
}
