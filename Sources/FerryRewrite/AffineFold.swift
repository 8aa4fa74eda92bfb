import FerryIR

/// Rewrites a Conv, ConvTranspose, Gemm or MatMul so that it also applies a per-output-channel
/// affine map: weights scaled per output channel, bias b * scale + shift. The passes fold batch
/// norms with it; the planner folds them into convolutions before choosing kernels.
public struct AffineFold {
    /// The node being rewritten (updated by `apply`).
    public private(set) var producer: Node
    /// The new weight and bias tensors `apply` made.
    public private(set) var created: [Tensor] = []
    /// For MatMul, which has no bias: the Add node `apply` put after it.
    public private(set) var biasNode: Node?
    private let weight: Tensor?
    private let bias: Tensor?
    private let hasBias: Bool
    /// False for a MatMul whose input is not known to be 2-D (its channel axis would not be 1).
    private let rankAllowsFold: Bool

    /// A fold into `producer`; `inputRank` is the rank of its data input when known (a MatMul is
    /// folded only when it is 2, its channel axis then being 1).
    public init(producer: Node, constants: Constants, inputRank: Int?) {
        self.producer = producer
        weight = producer.inputs.count > 1 ? constants[producer.inputs[1]] : nil
        hasBias = producer.inputs.count > 2 && !producer.inputs[2].isEmpty
        bias = hasBias ? constants[producer.inputs[2]] : nil
        rankAllowsFold = !producer.isONNX("MatMul") || inputRank == 2
    }

    /// Output channels of the producer, when it is one `apply` can rewrite.
    public var channels: Int? {
        guard let w = weight, Self.isDenseFloat(w), w.shape.allSatisfy({ $0 > 0 }), rankAllowsFold,
            !hasBias || bias.map(Self.isDenseFloat) == true, producer.subgraphs.isEmpty
        else { return nil }
        let s = w.shape
        // A convolution's bias has one value per output channel.
        func convBiasFits(_ m: Int) -> Int? { !hasBias || bias?.storedElementCount == m ? m : nil }
        if producer.isONNX("Conv"), s.count >= 3, producer.inputs.count <= 3 { return convBiasFits(s[0]) }
        if producer.isONNX("ConvTranspose"), s.count >= 3, producer.inputs.count <= 3 {
            let g = producer.int("group", 1)
            guard g >= 1, s[0] % g == 0 else { return nil }
            return convBiasFits(s[1] * g)
        }
        if producer.isONNX("Gemm"), s.count == 2, producer.inputs.count <= 3 {
            return producer.int("transB", 0) != 0 ? s[0] : s[1]
        }
        if producer.isONNX("MatMul"), s.count == 2, producer.inputs.count == 2 { return s[1] }
        return nil
    }

    /// The rank of the producer's output when a Mul or Add by a per-channel constant may be folded
    /// (convolutions only: their channel axis is 1).
    public var convolutionRank: Int? {
        producer.isONNX("Conv") || producer.isONNX("ConvTranspose") ? weight?.shape.count : nil
    }

    /// Applies `affine`; the producer then writes `output`. `name` gives the name of each new value
    /// and node from its role ("weight", "bias", "product", "add"). False when the bias cannot absorb it.
    public mutating func apply(_ affine: ChannelAffine, output: String, name: (String) -> String) -> Bool {
        guard let m = channels, let w = weight, var values = w.floatValues else { return false }
        let s = w.shape
        if let scale = affine.scale {
            values.withUnsafeMutableBufferPointer { v in
                // Each weight times its output channel's scale, in runs of one channel (no division
                // per element).
                if producer.isONNX("Conv") {
                    let per = v.count / m
                    for c in 0..<m { for i in (c * per)..<((c + 1) * per) { v[i] *= scale[c] } }
                } else if producer.isONNX("ConvTranspose") {
                    // [C, M/group, k...]: input channel c, output channel j of its group.
                    let g = producer.int("group", 1), perGroup = s[0] / g, spatial = v.count / (s[0] * s[1])
                    for c in 0..<s[0] {
                        for j in 0..<s[1] {
                            let f = scale[(c / perGroup) * s[1] + j], start = (c * s[1] + j) * spatial
                            for i in start..<(start + spatial) { v[i] *= f }
                        }
                    }
                } else if producer.isONNX("Gemm") && producer.int("transB", 0) != 0 {
                    for c in 0..<m { for i in (c * s[1])..<((c + 1) * s[1]) { v[i] *= scale[c] } }
                } else {
                    for row in stride(from: 0, to: v.count, by: m) { for c in 0..<m { v[row + c] *= scale[c] } }
                }
            }
        }
        let newBias: [Float]
        if producer.isONNX("Gemm") {
            guard let c = gemmBias(m) else { return false }
            newBias = affine.bias(c, channels: m)
            producer.attributes.removeAll { $0.name == "beta" }
            producer.attributes.append(Attribute("beta", .float(1)))
        } else {
            newBias = affine.bias(bias?.floatValues, channels: m)
        }
        let wName = name("weight")
        created.append(Tensor(name: wName, floats: values, shape: s))
        producer.inputs[1] = wName
        let needsBias = affine.shift != nil || hasBias
        if producer.isONNX("MatMul") {
            if needsBias {
                let product = name("product"), bName = name("bias")
                created.append(Tensor(name: bName, floats: newBias, shape: [m]))
                producer.outputs = [product]
                biasNode = Node(opType: "Add", name: name("add"), inputs: [product, bName], outputs: [output])
                return true
            }
        } else if needsBias {
            let bName = name("bias")
            created.append(Tensor(name: bName, floats: newBias, shape: [m]))
            producer.inputs = Array(producer.inputs.prefix(2)) + [bName]
        }
        producer.outputs = [output]
        return true
    }

    /// Whether `floatValues` gives `t`'s elements (float32, stored whole); checked without copying them.
    private static func isDenseFloat(_ t: Tensor) -> Bool {
        t.elementType == .float && t.segment == nil && t.bytes != nil
    }

    /// Gemm's C times beta as one value per output column (C absent, a single value, [N] or [1, N]).
    private func gemmBias(_ m: Int) -> [Float]? {
        guard hasBias else { return [Float](repeating: 0, count: m) }
        guard let c = bias, let v = c.floatValues else { return nil }
        let beta = producer.float("beta", 1)
        if v.count == 1 { return [Float](repeating: v[0] * beta, count: m) }
        guard v.count == m, c.shape.last == m, c.shape.count <= 2 else { return nil }
        return v.map { $0 * beta }
    }

    /// The rank a value is declared with (graph input, output or value_info), or known from its
    /// producer (Flatten and Gemm make 2-D values).
    public static func rank(of value: String, in graph: Graph) -> Int? {
        for info in graph.inputs + graph.valueInfo + graph.outputs where info.name == value {
            if case .tensor(_, let dims?)? = info.type?.type { return dims.count }
        }
        guard let p = graph.nodes.first(where: { $0.outputs.first == value }) else { return nil }
        return p.isONNX("Flatten") || p.isONNX("Gemm") ? 2 : nil
    }
}
