import FerryIR
import FerryRewrite

/// One weight matrix quantized to 4 bits in blocks along the shared dimension K: for each of the N
/// output columns and each block of `blockSize` rows, a scale and (asymmetric) a zero point.
/// Asymmetric blocks spread [min(0, lo), max(0, hi)] over codes 0...15; symmetric blocks map the
/// value of largest magnitude to -8 (codes 0...15 around 8, as onnxruntime's quantizer does). Codes
/// round half to even.
struct BlockwiseWeight {
    let k: Int, n: Int, blockSize: Int, symmetric: Bool
    /// Codes 0...15 (the stored value is code - zero point), n x k.
    var codes: [UInt8]
    /// n x blocks.
    var scales: [Float]
    /// n x blocks, codes (8 for symmetric blocks).
    var zeroPoints: [UInt8]

    var blocks: Int { (k + blockSize - 1) / blockSize }

    /// `w(j, i)` is the weight of output column j at shared index i.
    init(k: Int, n: Int, blockSize: Int, symmetric: Bool, _ w: (Int, Int) -> Float) {
        self.k = k
        self.n = n
        self.blockSize = blockSize
        self.symmetric = symmetric
        let blocks = (k + blockSize - 1) / blockSize
        codes = [UInt8](repeating: 0, count: n * k)
        scales = [Float](repeating: 0, count: n * blocks)
        zeroPoints = [UInt8](repeating: 8, count: n * blocks)
        for j in 0..<n {
            for b in 0..<blocks {
                let range = b * blockSize..<min(k, (b + 1) * blockSize)
                var scale: Float, zero: Float
                if symmetric {
                    var extreme: Float = 0
                    for i in range where abs(w(j, i)) > abs(extreme) { extreme = w(j, i) }
                    scale = extreme / -8
                    zero = 8
                } else {
                    var lo: Float = 0, hi: Float = 0
                    for i in range {
                        lo = min(lo, w(j, i))
                        hi = max(hi, w(j, i))
                    }
                    scale = (hi - lo) / 15
                    zero = scale == 0 ? 8 : min(max((-lo / scale).rounded(.toNearestOrEven), 0), 15)
                }
                scales[j * blocks + b] = scale
                zeroPoints[j * blocks + b] = UInt8(zero)
                for i in range {
                    let q = scale == 0 ? zero : (w(j, i) / scale).rounded(.toNearestOrEven) + zero
                    codes[j * k + i] = UInt8(min(max(q, 0), 15))
                }
            }
        }
    }

    /// The weight the codes stand for.
    func dequantized(_ j: Int, _ i: Int) -> Float {
        let b = j * blocks + i / blockSize
        return (Float(codes[j * k + i]) - Float(zeroPoints[b])) * scales[b]
    }

    /// MatMulNBits' B: n x blocks x blockSize / 2 bytes, two codes a byte, the lower k in the low
    /// nibble; codes past k are the block's zero point.
    func packedCodes() -> [UInt8] {
        (0..<n).flatMap { j in
            BlockwiseWeight.packNibbles(
                (0..<blocks * blockSize).map { p in p < k ? codes[j * k + p] : zeroPoints[j * blocks + p / blockSize] })
        }
    }

    /// MatMulNBits' zero points: n rows of (blocks + 1) / 2 bytes, the lower block in the low nibble.
    func packedZeroPoints() -> [UInt8] {
        (0..<n).flatMap { j in BlockwiseWeight.packNibbles(zeroPoints[j * blocks..<(j + 1) * blocks]) }
    }

    /// Codes (their low 4 bits) two a byte, the first in the low nibble.
    static func packNibbles<C: Collection>(_ codes: C) -> [UInt8] where C.Element == UInt8 {
        var out = [UInt8](repeating: 0, count: (codes.count + 1) / 2)
        for (i, c) in codes.enumerated() { out[i / 2] |= i % 2 == 0 ? c & 0x0f : (c & 0x0f) << 4 }
        return out
    }
}

/// Rewrites MatMul and Gemm nodes with constant float weights to 4-bit blockwise weights: as
/// com.microsoft MatMulNBits (A, B, scales, zero points, bias: Gemm's, or that of an Add of a
/// constant vector that alone reads a MatMul's output), or as an opset-21 blocked
/// DequantizeLinear of int4 (symmetric) or uint4 codes feeding the original node.
struct BlockwiseWriter {
    var graph: Graph
    let options: QuantizationOptions
    private var names: NameAllocator

    init(_ model: Model, options: QuantizationOptions) {
        graph = model.graph
        self.options = options
        names = NameAllocator(model)
    }

    /// Rewrites `targets` (Conv targets are left in float; 4-bit blocks are for matrices).
    mutating func rewrite(_ targets: [QuantizationTargets.Target]) {
        var replaced: [Int: [Node]] = [:]
        let index = GraphIndex(graph)
        for t in targets {
            let node = graph.nodes[t.node]
            guard node.opType == "MatMul" || node.opType == "Gemm", let wi = t.weight,
                let w = graph.initializer(named: node.inputs[wi]), let values = w.floatValues
            else { continue }
            let transposed = node.opType == "Gemm" && node.int("transB", 0) == 1
            let (k, n) = transposed ? (w.shape[1], w.shape[0]) : (w.shape[0], w.shape[1])
            let q = BlockwiseWeight(k: k, n: n, blockSize: options.blockSize, symmetric: options.symmetric) { j, i in
                transposed ? values[j * k + i] : values[i * n + j]
            }
            if options.format == .matmulnbits {
                var bias = t.bias.map { node.inputs[$0] }, outputs = node.outputs
                if bias == nil, let add = biasAdd(after: t.node, n: n, index) {
                    // MatMul -> Add(bias): the bias goes into MatMulNBits, which writes the Add's output
                    bias = add.bias
                    outputs = graph.nodes[add.node].outputs
                    replaced[add.node] = []
                }
                replaced[t.node] = nbitsNode(node, q, bias: bias, outputs: outputs)
            } else {
                replaced[t.node] = dequantizedWeight(node, wi, q, transposed)
            }
        }
        graph.nodes = graph.nodes.enumerated().flatMap { replaced[$0.offset] ?? [$0.element] }
    }

    /// The Add that alone reads MatMul `node`'s output and adds a constant float32 vector of n
    /// values to it, with that vector's name.
    private func biasAdd(after node: Int, n: Int, _ index: GraphIndex) -> (node: Int, bias: String)? {
        let out = graph.nodes[node].outputs[0]
        guard !index.graphOutputs.contains(out), index.readers(of: out).count == 1, let a = index.readers(of: out).first,
            graph.nodes[a].isONNX("Add"), graph.nodes[a].inputs.count == 2
        else { return nil }
        let other = graph.nodes[a].inputs[0] == out ? graph.nodes[a].inputs[1] : graph.nodes[a].inputs[0]
        guard let i = index.initializer[other], graph.initializers[i].elementType == .float,
            graph.initializers[i].shape == [n]
        else { return nil }
        return (a, other)
    }

    private mutating func nbitsNode(_ node: Node, _ q: BlockwiseWeight, bias: String?, outputs: [String]) -> [Node] {
        let base = node.inputs[1]
        let b = names.fresh(base + "_Q4"), s = names.fresh(base + "_scales")
        graph.initializers.append(
            Tensor(name: b, elementType: .uint8, shape: [q.n, q.blocks, q.blockSize / 2], values: q.packedCodes()))
        graph.initializers.append(Tensor(name: s, floats: q.scales, shape: [q.n, q.blocks]))
        var inputs = [node.inputs[0], b, s, ""]
        if !q.symmetric {
            inputs[3] = names.fresh(base + "_zero_points")
            graph.initializers.append(
                Tensor(name: inputs[3], elementType: .uint8, shape: [q.n, (q.blocks + 1) / 2], values: q.packedZeroPoints()))
        }
        if let bias { inputs += ["", bias] }
        while inputs.last == "" { inputs.removeLast() }
        var attributes = [
            Attribute("K", .int(Int64(q.k))), Attribute("N", .int(Int64(q.n))), Attribute("bits", .int(4)),
            Attribute("block_size", .int(Int64(q.blockSize)))
        ]
        if options.int8Activations { attributes.append(Attribute("accuracy_level", .int(4))) }
        return [
            Node(
                opType: "MatMulNBits", domain: Domain.microsoft, name: node.name, inputs: inputs, outputs: outputs,
                attributes: attributes)
        ]
    }

    /// The weight as int4/uint4 codes in the node's own layout, dequantized by blocks along K.
    private mutating func dequantizedWeight(_ node: Node, _ wi: Int, _ q: BlockwiseWeight, _ transposed: Bool) -> [Node] {
        let base = node.inputs[wi]
        let shape = transposed ? [q.n, q.k] : [q.k, q.n]
        let blocksShape = transposed ? [q.n, q.blocks] : [q.blocks, q.n]
        // element (j, i) of the weight sits at row i, column j unless transposed
        func at(_ j: Int, _ i: Int) -> Int { transposed ? j * q.k + i : i * q.n + j }
        func blockAt(_ j: Int, _ b: Int) -> Int { transposed ? j * q.blocks + b : b * q.n + j }
        var codes = [UInt8](repeating: 0, count: q.k * q.n)
        var scales = [Float](repeating: 0, count: q.blocks * q.n), zeros = [UInt8](repeating: 0, count: q.blocks * q.n)
        for j in 0..<q.n {
            for i in 0..<q.k { codes[at(j, i)] = q.codes[j * q.k + i] }
            for b in 0..<q.blocks {
                scales[blockAt(j, b)] = q.scales[j * q.blocks + b]
                zeros[blockAt(j, b)] = q.zeroPoints[j * q.blocks + b]
            }
        }
        let type: ElementType = q.symmetric ? .int4 : .uint4
        // int4 holds code - 8 (zero point 0); uint4 holds the code, with its zero point
        let stored = q.symmetric ? codes.map { UInt8(bitPattern: Int8($0) - 8) & 0x0f } : codes
        let w = names.fresh(base + "_Q4"), s = names.fresh(base + "_scales"), out = names.fresh(base + "_dequantized")
        graph.initializers.append(
            Tensor(
                name: w, elementType: type, shape: shape,
                storage: .bytes(TensorBytes(copying: BlockwiseWeight.packNibbles(stored)))))
        graph.initializers.append(Tensor(name: s, floats: scales, shape: blocksShape))
        var inputs = [w, s]
        if !q.symmetric {
            let z = names.fresh(base + "_zero_points")
            graph.initializers.append(
                Tensor(
                    name: z, elementType: .uint4, shape: blocksShape,
                    storage: .bytes(TensorBytes(copying: BlockwiseWeight.packNibbles(zeros)))))
            inputs.append(z)
        }
        let dq = Node(
            opType: "DequantizeLinear", name: names.fresh(node.name + "_weight_dequantize"), inputs: inputs, outputs: [out],
            attributes: [Attribute("axis", .int(transposed ? 1 : 0)), Attribute("block_size", .int(Int64(q.blockSize)))])
        var rewritten = node
        rewritten.inputs[wi] = out
        return [dq, rewritten]
    }
}
