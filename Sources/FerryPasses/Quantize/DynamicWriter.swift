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
    mutating func rewrite(_ targets: [QuantizationTargets.Target], perChannel: Bool, levels: Int32) throws -> [String] {
        var rewritten: [String] = []
        var replacements: [Int: [Node]] = [:]
        // One DynamicQuantizeLinear per activation, shared by every product reading it (attention's
        // query, key and value projections of one input): the first in graph order makes it.
        var quantizedInputs: [String: (q: String, scale: String, zero: String)] = [:]
        for t in targets.sorted(by: { $0.node < $1.node }) {
            let node = graph.nodes[t.node]
            guard node.isONNX("MatMul") || node.isONNX("Gemm"), let wi = t.weight,
                var w = graph.initializer(named: node.inputs[wi])
            else { continue }
            var axis = t.weightAxis
            if node.isONNX("Gemm") && node.int("transB", 0) == 1 {
                w = swappingLastTwoAxes(w)
                axis = 1
            }
            let base = node.name.isEmpty ? node.outputs[0] : node.name
            let weight = try QuantizedWeight(
                w, name: names.fresh(node.inputs[wi] + "_quantized"), axis: perChannel ? axis : nil, levels: levels)
            let wScale = names.fresh(node.inputs[wi] + "_scale"), wZero = names.fresh(node.inputs[wi] + "_zero_point")
            graph.initializers += [weight.values, weight.scaleTensor(wScale), weight.zeroPointTensor(wZero)]
            let shared = quantizedInputs[node.inputs[0]]
            let (xq, xs, xz) =
                shared
                ?? (
                    names.fresh(node.inputs[0] + "_quantized"), names.fresh(node.inputs[0] + "_scale"),
                    names.fresh(node.inputs[0] + "_zero_point")
                )
            quantizedInputs[node.inputs[0]] = (xq, xs, xz)
            let product = names.fresh(base + "_int32"), asFloat = names.fresh(base + "_float"),
                scale = names.fresh(base + "_output_scale")
            let hasBias = t.bias != nil
            let scaled = hasBias ? names.fresh(base + "_scaled") : node.outputs[0]
            var nodes =
                shared != nil
                ? []
                : [
                    Node(
                        opType: "DynamicQuantizeLinear", name: names.fresh(base + "_DynamicQuantizeLinear"),
                        inputs: [node.inputs[0]], outputs: [xq, xs, xz])
                ]
            nodes += [
                Node(
                    opType: "MatMulInteger", name: names.fresh(base + "_MatMulInteger"),
                    inputs: [xq, weight.values.name, xz, wZero], outputs: [product]),
                Node(
                    opType: "Cast", name: names.fresh(base + "_Cast"), inputs: [product], outputs: [asFloat],
                    attributes: [Attribute("to", .int(Int64(ElementType.float.rawValue)))]),
                Node(opType: "Mul", name: names.fresh(base + "_scale_Mul"), inputs: [xs, wScale], outputs: [scale]),
                Node(opType: "Mul", name: names.fresh(base + "_Mul"), inputs: [asFloat, scale], outputs: [scaled])
            ]
            if let bi = t.bias {
                nodes.append(
                    Node(
                        opType: "Add", name: names.fresh(base + "_Add"), inputs: [scaled, node.inputs[bi]],
                        outputs: [node.outputs[0]]))
            }
            replacements[t.node] = nodes
            rewritten.append(node.name)
        }
        graph.nodes = graph.nodes.enumerated().flatMap { replacements[$0.offset] ?? [$0.element] }
        return rewritten
    }

    /// Rewrites each LSTM with constant float W and R (not excluded) into onnxruntime's
    /// com.microsoft DynamicQuantizeLSTM: W [directions, 4 hidden, input] and R [directions,
    /// 4 hidden, hidden] become int8 [directions, input or hidden, 4 hidden] with one scale per
    /// direction and gate column; the inputs are quantized at run time. Returns the nodes rewritten.
    mutating func rewriteLSTMs(excluding excluded: Set<String>, levels: Int32) throws -> [String] {
        var rewritten: [String] = []
        for i in graph.nodes.indices {
            let n = graph.nodes[i]
            guard n.isONNX("LSTM"), !excluded.contains(n.name), !excluded.contains(n.opType), n.inputs.count >= 3,
                let w = graph.initializer(named: n.inputs[1]), let r = graph.initializer(named: n.inputs[2]),
                w.elementType == .float, r.elementType == .float, w.shape.count == 3, r.shape.count == 3
            else { continue }
            var inputs = n.inputs + [String](repeating: "", count: max(0, 8 - n.inputs.count))
            var extra: [String] = []
            for (k, t) in [(1, w), (2, r)] {
                // One scale per direction and gate column: each direction is quantized on its own.
                let columns = swappingLastTwoAxes(t)
                let d = t.shape[0], per = t.storedElementCount / d
                var values: [Int8] = [], scales: [Float] = []
                let all = columns.floatValues!
                for k in 0..<d {
                    let slice = Tensor(
                        name: t.name, floats: Array(all[(k * per)..<((k + 1) * per)]), shape: [1] + columns.shape.dropFirst())
                    let q = try QuantizedWeight(slice, name: "", axis: 2, levels: levels)
                    values += q.values.bytes!.toArray(of: Int8.self)
                    scales += q.scales
                }
                let qName = names.fresh(t.name + "_quantized"), scale = names.fresh(t.name + "_scale"),
                    zero = names.fresh(t.name + "_zero_point")
                let gates = columns.shape[2]
                graph.initializers += [
                    Tensor(name: qName, elementType: .int8, shape: columns.shape, values: values),
                    Tensor(name: scale, floats: scales, shape: [d, gates]),
                    Tensor(name: zero, elementType: .int8, shape: [d, gates], values: [Int8](repeating: 0, count: d * gates))
                ]
                inputs[k] = qName
                extra += [scale, zero]
            }
            graph.nodes[i] = Node(
                opType: "DynamicQuantizeLSTM", domain: Domain.microsoft, name: n.name, inputs: Array(inputs.prefix(8)) + extra,
                outputs: n.outputs, attributes: n.attributes.filter { $0.name != "layout" })
            rewritten.append(n.name)
        }
        return rewritten
    }

    /// A float tensor with its last two axes swapped ([rows, columns] or [d, rows, columns] becomes
    /// [columns, rows] or [d, columns, rows]).
    private func swappingLastTwoAxes(_ t: Tensor) -> Tensor {
        let v = t.floatValues!, rank = t.shape.count, rows = t.shape[rank - 2], cols = t.shape[rank - 1]
        let d = v.count / max(rows * cols, 1)
        var out = [Float](repeating: 0, count: v.count)
        for k in 0..<d {
            for i in 0..<rows { for j in 0..<cols { out[(k * cols + j) * rows + i] = v[(k * rows + i) * cols + j] } }
        }
        return Tensor(name: t.name, floats: out, shape: t.shape.dropLast(2) + [cols, rows])
    }
}
