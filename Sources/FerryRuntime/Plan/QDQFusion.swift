import CKernels
import FerryIR

/// QDQ fusion, applied by the planner before `Fusion`: a Conv, Gemm or MatMul whose data input is
/// DequantizeLinear(x_q) and whose weights are DequantizeLinear of constant uint8/int8 weights
/// (folded at plan time; the planner passes those DequantizeLinear nodes in `folded`), optionally
/// with a bias DequantizeLinear(int32, scale x_scale * w_scale), becomes one int8 node:
/// QLinearConv, QGemm (com.microsoft) or QLinearMatMul. When the product's output goes, through an
/// optional Relu or Clip, only to a QuantizeLinear, the node writes that QuantizeLinear's output
/// with the activation as its clamp range; otherwise it writes float (`ferry.float_output`) with a
/// fused activation when one follows. Anything inexact (runtime scales, blocked or other-axis
/// quantization, a float bias, values read elsewhere or kept as graph outputs) is left alone.
enum QDQFusion {
    /// One DequantizeLinear as fusion sees it.
    private struct Dequantized {
        let quantized: String
        let scale: String
        let zeroPoint: String
        /// Quantization axis for per-axis scales, nil for one scale.
        let axis: Int?
        let type: ElementType
        /// Index of the node in the program (nil for a DequantizeLinear folded at plan time).
        let node: Int?
    }

    static func apply(_ nodes: [Node], constants: inout [String: Value], folded: [String: Node], keep: Set<String>) -> [Node] {
        var producer: [String: Int] = [:], readers: [String: [Int]] = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.outputs where !o.isEmpty { producer[o] = i }
            for name in n.inputs + n.subgraphs.flatMap({ $0.outerScopeReads() }) where !name.isEmpty { readers[name, default: []].append(i) }
        }
        let constants0 = constants
        func dequantized(_ name: String) -> Dequantized? {
            let index = producer[name]
            guard let node = index.map({ nodes[$0] }) ?? folded[name], node.opType == "DequantizeLinear", node.domain.isEmpty,
                  node.attribute("block_size").map({ if case .int(0) = $0 { return true } else { return false } }) ?? true,
                  node.inputs.count >= 2, let scale = constants0[node.inputs[1]], scale.type == .float else { return nil }
            let zeroName = node.inputs.count > 2 ? node.inputs[2] : ""
            let zero = zeroName.isEmpty ? nil : constants0[zeroName]
            if !zeroName.isEmpty && zero == nil { return nil }
            let type = zero?.type ?? constants0[node.inputs[0]]?.type ?? .uint8
            var axis: Int? = nil
            if scale.count != 1 {
                guard scale.rank == 1 else { return nil }
                if case .int(let a)? = node.attribute("axis") { axis = Int(a) } else { axis = 1 }
            }
            return Dequantized(quantized: node.inputs[0], scale: node.inputs[1], zeroPoint: zeroName, axis: axis, type: type, node: index)
        }
        func only(_ value: String) -> Int? {
            guard !keep.contains(value), let r = readers[value], r.count == 1 else { return nil }
            return r[0]
        }

        var replaced: [Int: Node] = [:], removed = Set<Int>()
        for (i, node) in nodes.enumerated() where node.domain.isEmpty && ["Conv", "Gemm", "MatMul"].contains(node.opType) && node.outputs.count == 1 {
            guard node.inputs.count >= 2, let x = dequantized(node.inputs[0]), x.node != nil, x.axis == nil, QuantizedType.isByte(x.type),
                  let w = dequantized(node.inputs[1]), w.node == nil, let wq = constants[w.quantized], QuantizedType.isByte(wq.type),
                  let xScale = constants[x.scale]?.floats[0], let wScales = try? constants[w.scale]!.scaleValues() else { continue }
            let transB = node.int("transB") != 0
            // The weights' quantization axis must be the output channels.
            switch node.opType {
            case "Conv": guard w.axis == nil || w.axis == 0 else { continue }
            case "Gemm":
                guard node.int("transA") == 0, node.float("alpha") ?? 1 == 1, node.float("beta") ?? 1 == 1, wq.rank == 2 else { continue }
                guard w.axis == nil || w.axis == (transB ? 0 : 1) || !transB && w.axis == -1 else { continue }
            default: guard wq.rank == 2, w.axis == nil || w.axis == 1 || w.axis == -1 else { continue }
            }
            // The bias: int32 quantized with scale x_scale * w_scale and no zero point.
            var bias = ""
            if node.opType != "MatMul", node.inputs.count > 2, !node.inputs[2].isEmpty {
                guard let b = dequantized(node.inputs[2]), b.node == nil, let bq = constants[b.quantized], bq.type == .int32,
                      b.zeroPoint.isEmpty || (try? constants[b.zeroPoint]!.ints().allSatisfy { $0 == 0 }) == true,
                      let bScales = try? constants[b.scale]!.scaleValues(),
                      bScales.count == 1 || bScales.count == wScales.count,
                      bScales.enumerated().allSatisfy({ abs($0.element - xScale * wScales[wScales.count == 1 ? 0 : $0.offset]) <= 1e-6 * abs($0.element) })
                else { continue }
                bias = b.quantized
            }
            // What follows: an optional activation, then an optional QuantizeLinear.
            var chain = [Int](), out = node.outputs[0]
            var activation = FusedActivation()
            if let r = only(out), nodes[r].domain.isEmpty, nodes[r].outputs.count == 1, let act = Fusion.activation(nodes[r], constants: constants) {
                activation = act
                chain.append(r)
                out = nodes[r].outputs[0]
            }
            var yScale = "", yZero = ""
            if let r = only(out), let q = quantizer(nodes[r], constants),
               activation.kind == FERRY_ACT_NONE || activation.kind == FERRY_ACT_RELU || activation.kind == FERRY_ACT_CLIP {
                chain.append(r)
                out = nodes[r].outputs[0]
                (yScale, yZero) = q
            }
            var fused = Node(opType: "", name: node.name, inputs: [], outputs: [out])
            let xIn = [x.quantized, x.scale, x.zeroPoint], wIn = [w.quantized, w.scale, w.zeroPoint]
            switch node.opType {
            case "Conv":
                fused.opType = "QLinearConv"
                fused.inputs = xIn + wIn + [yScale, yZero, bias]
                fused.attributes = node.attributes
            case "Gemm":
                fused.opType = "QGemm"
                fused.domain = QuantizationOps.microsoft
                fused.inputs = xIn + wIn + [bias, yScale, yZero]
                fused.attributes = node.attributes.filter { $0.name == "transB" }
            default:
                fused.opType = "QLinearMatMul"
                fused.inputs = xIn + wIn + [yScale, yZero]
            }
            if yScale.isEmpty { fused.attributes.append(Attribute(QuantizedConvKernel.floatOutputAttribute, .int(1))) }
            if activation.kind != FERRY_ACT_NONE {
                fused.attributes += [Attribute(FusedActivation.attribute, .int(Int64(activation.kind.rawValue))),
                                     Attribute("ferry.alpha", .float(activation.alpha)), Attribute("ferry.beta", .float(activation.beta))]
            }
            replaced[i] = fused
            removed.formUnion(chain)
            // The data input's DequantizeLinear goes when nothing else reads it.
            readers[node.inputs[0]]?.removeAll { $0 == i }
            if let d = x.node, readers[node.inputs[0]]?.isEmpty ?? true, !keep.contains(node.inputs[0]) { removed.insert(d) }
        }
        return nodes.enumerated().compactMap { removed.contains($0.offset) ? nil : (replaced[$0.offset] ?? $0.element) }
    }

    /// The scale and zero-point names of a per-tensor QuantizeLinear to uint8 or int8 with constant
    /// parameters.
    private static func quantizer(_ n: Node, _ constants: [String: Value]) -> (String, String)? {
        guard n.opType == "QuantizeLinear", n.domain.isEmpty, n.inputs.count == 3, n.outputs.count == 1,
              let s = constants[n.inputs[1]], s.type == .float, s.count == 1,
              let z = constants[n.inputs[2]], z.count == 1, QuantizedType.isByte(z.type) else { return nil }
        return (n.inputs[1], n.inputs[2])
    }
}

private extension Node {
    /// An int attribute (0 when absent).
    func int(_ name: String) -> Int {
        if case .int(let v)? = attribute(name) { return Int(v) }
        return 0
    }

    /// A float attribute, if present.
    func float(_ name: String) -> Float? {
        if case .float(let v)? = attribute(name) { return v }
        return nil
    }
}
