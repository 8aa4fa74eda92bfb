import FerryIR

/// Writes dynamic quantization, as onnxruntime's quantize_dynamic does for MatMul and Gemm: the
/// activation is quantized at run time by DynamicQuantizeLinear (uint8), the product is a
/// MatMulInteger with int8 weights (per column, or per tensor), and the int32 result is scaled back
/// to float (Cast, Mul by input scale x weight scales) before the bias is added.
struct DynamicWriter {
    var graph: Graph
    var names: NameAllocator

    init(_ model: Model) {
        graph = model.graph
        names = NameAllocator(model)
    }

    /// Rewrites each MatMul/Gemm target; Conv targets are left in float (onnxruntime's ConvInteger
    /// takes uint8 weights only).
    mutating func rewrite(_ targets: [QuantizationTargets.Target], perChannel: Bool) throws -> [String] {
        var rewritten: [String] = []
        var replacements: [Int: [Node]] = [:]
        for t in targets {
            let node = graph.nodes[t.node]
            guard node.isONNX("MatMul") || node.isONNX("Gemm"), let wi = t.weight,
                  var w = graph.initializer(named: node.inputs[wi]) else { continue }
            var axis = t.weightAxis
            if node.isONNX("Gemm") && node.int("transB", 0) == 1 {
                w = transposed(w)
                axis = 1
            }
            let base = node.name.isEmpty ? node.outputs[0] : node.name
            let weight = try QuantizedWeight(w, name: names.fresh(node.inputs[wi] + "_quantized"), axis: perChannel ? axis : nil)
            let wScale = names.fresh(node.inputs[wi] + "_scale"), wZero = names.fresh(node.inputs[wi] + "_zero_point")
            graph.initializers += [weight.values, weight.scaleTensor(wScale), weight.zeroPointTensor(wZero)]
            let xq = names.fresh(node.inputs[0] + "_quantized"), xs = names.fresh(node.inputs[0] + "_scale"), xz = names.fresh(node.inputs[0] + "_zero_point")
            let product = names.fresh(base + "_int32"), asFloat = names.fresh(base + "_float"), scale = names.fresh(base + "_output_scale")
            let hasBias = t.bias != nil
            let scaled = hasBias ? names.fresh(base + "_scaled") : node.outputs[0]
            var nodes = [
                Node(opType: "DynamicQuantizeLinear", name: names.fresh(base + "_DynamicQuantizeLinear"), inputs: [node.inputs[0]], outputs: [xq, xs, xz]),
                Node(opType: "MatMulInteger", name: names.fresh(base + "_MatMulInteger"), inputs: [xq, weight.values.name, xz, wZero], outputs: [product]),
                Node(opType: "Cast", name: names.fresh(base + "_Cast"), inputs: [product], outputs: [asFloat],
                     attributes: [Attribute("to", .int(Int64(ElementType.float.rawValue)))]),
                Node(opType: "Mul", name: names.fresh(base + "_scale_Mul"), inputs: [xs, wScale], outputs: [scale]),
                Node(opType: "Mul", name: names.fresh(base + "_Mul"), inputs: [asFloat, scale], outputs: [scaled]),
            ]
            if let bi = t.bias {
                nodes.append(Node(opType: "Add", name: names.fresh(base + "_Add"), inputs: [scaled, node.inputs[bi]], outputs: [node.outputs[0]]))
            }
            replacements[t.node] = nodes
            rewritten.append(node.name)
        }
        graph.nodes = graph.nodes.enumerated().flatMap { replacements[$0.offset] ?? [$0.element] }
        return rewritten
    }

    /// A 2-D float tensor transposed.
    private func transposed(_ t: Tensor) -> Tensor {
        let v = t.floatValues!, r = t.shape[0], c = t.shape[1]
        var out = [Float](repeating: 0, count: v.count)
        for i in 0..<r { for j in 0..<c { out[j * r + i] = v[i * c + j] } }
        return Tensor(name: t.name, floats: out, shape: [c, r])
    }
}
