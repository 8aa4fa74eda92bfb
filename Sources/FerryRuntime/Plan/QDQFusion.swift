import CKernels
import FerryIR
import FerryRewrite

/// QDQ fusion, applied by the planner before `Fusion`: patterns of DequantizeLinear, a float op and
/// QuantizeLinear become the int8 op onnxruntime would run.
/// - A Conv, Gemm or MatMul whose data input is DequantizeLinear(x_q) and whose weights are
///   DequantizeLinear of constant uint8/int8 weights (the planner defers those and passes them in
///   `folded`), with an optional bias DequantizeLinear(int32, scale x_scale * w_scale), becomes
///   QLinearConv, QGemm (com.microsoft) or QLinearMatMul. When its output goes, through an optional
///   Relu or Clip, only to a QuantizeLinear, the node writes that QuantizeLinear's output with the
///   activation as its clamp range; otherwise it writes float (`ferry.float_output`), with a fused
///   activation when one follows.
/// - Add (or two-input Sum) and Mul of dequantized values followed (through an optional Relu or
///   Clip) by a QuantizeLinear become QLinearAdd / QLinearMul; GlobalAveragePool, AveragePool,
///   Sigmoid, LeakyRelu and Concat likewise become their com.microsoft QLinear ops.
/// - Data-movement ops between a DequantizeLinear and a QuantizeLinear with equal parameters run
///   on the quantized values.
/// - MatMulInteger, Cast to float, Mul by a_scale * b_scale and an optional Add of a constant bias
///   (what dynamic quantization writes) become MatMulIntegerToFloat (com.microsoft): the int32
///   sums never reach memory.
/// Anything inexact (runtime scales, blocked or other-axis quantization, a float bias, values read
/// elsewhere or kept as graph outputs) is left to the plain kernels.
enum QDQFusion {
    /// One DequantizeLinear as fusion sees it.
    struct Dequantized {
        let quantized: String
        let scale: String
        let zeroPoint: String
        /// Quantization axis for per-axis scales, nil for one scale.
        let axis: Int?
        let type: ElementType
        /// Index of the node in the program (nil for a DequantizeLinear of constants the planner deferred).
        let node: Int?
    }

    /// Returns `nodes` rewritten. `constants` are the values known at plan time, `folded` the
    /// deferred DequantizeLinear nodes of constants by output name; values named in `keep` (graph
    /// outputs) are never fused away; `opset` is the default domain's.
    static func apply(_ nodes: [Node], constants: [String: Value], folded: [String: Node], opset: Int64, keep: Set<String>)
        -> [Node]
    {
        var rewriter = Rewriter(nodes: nodes, constants: constants, folded: folded, opset: opset, keep: keep)
        for (i, node) in nodes.enumerated() where node.domain.isEmpty && node.outputs.count == 1 && !rewriter.removed.contains(i)
        {
            switch node.opType {
            case "Conv", "Gemm", "MatMul": rewriter.fuseProduct(i)
            case "MatMulInteger": rewriter.fuseIntegerProduct(i)
            case "Add", "Sum", "Mul": rewriter.fuseBinary(i)
            case "GlobalAveragePool", "AveragePool", "Sigmoid", "LeakyRelu": rewriter.fuseUnary(i)
            case "Concat": rewriter.fuseConcat(i)
            default: if passThrough.contains(node.opType) { rewriter.fusePassThrough(i) }
            }
        }
        return rewriter.result
    }

    /// Ops that only move or select elements: between a DequantizeLinear and a QuantizeLinear with
    /// the same parameters they run on the quantized values themselves.
    static let passThrough: Set<String> = [
        "MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity",
        "Slice", "DepthToSpace", "SpaceToDepth"
    ]

    /// The rewriting state: the nodes, who produces and reads each value, and the rewrites so far.
    private struct Rewriter {
        let nodes: [Node]
        let constants: [String: Value]
        let folded: [String: Node]
        let opset: Int64
        let keep: Set<String>
        var index: GraphIndex
        var replaced: [Int: Node] = [:]
        var removed = Set<Int>()

        init(nodes: [Node], constants: [String: Value], folded: [String: Node], opset: Int64, keep: Set<String>) {
            self.nodes = nodes
            self.constants = constants
            self.folded = folded
            self.opset = opset
            self.keep = keep
            index = GraphIndex(nodes: nodes, keeping: keep)
        }

        /// The nodes after the rewrites.
        var result: [Node] {
            nodes.enumerated().compactMap { removed.contains($0.offset) ? nil : (replaced[$0.offset] ?? $0.element) }
        }

        /// The DequantizeLinear (a node of the program, or one folded at plan time) making `name`,
        /// when its scale and zero point are constant and it is not blocked.
        func dequantized(_ name: String) -> Dequantized? {
            let position = index.producer[name]
            guard let node = position.map({ nodes[$0] }) ?? folded[name], node.isONNX("DequantizeLinear"),
                node.attribute("block_size") == nil || node.int("block_size") == 0,
                node.inputs.count >= 2, let scale = constants[node.inputs[1]], scale.type == .float
            else { return nil }
            let zeroName = node.inputs.count > 2 ? node.inputs[2] : ""
            let zero = zeroName.isEmpty ? nil : constants[zeroName]
            if !zeroName.isEmpty && zero == nil { return nil }
            let type = zero?.type ?? constants[node.inputs[0]]?.type ?? .uint8
            var axis: Int? = nil
            if scale.count != 1 {
                guard scale.rank == 1 else { return nil }
                axis = node.int("axis", 1)
            }
            return Dequantized(
                quantized: node.inputs[0], scale: node.inputs[1], zeroPoint: zeroName, axis: axis, type: type, node: position)
        }

        /// A per-tensor, 1-byte DequantizeLinear making `name` (at run time unless `constant`).
        func activation(_ name: String, constant: Bool = false) -> Dequantized? {
            guard let d = dequantized(name), constant || d.node != nil, d.axis == nil, QuantizedType.isByte(d.type) else {
                return nil
            }
            return d
        }

        /// The one reader of `value`, when it is not kept.
        func only(_ value: String) -> Int? { index.soleReader(of: value) }

        /// What follows `out`: an optional activation (when allowed), then an optional per-tensor
        /// QuantizeLinear; the nodes taken, the final value, the activation and the quantizer's
        /// scale and zero-point names. A QuantizeLinear after an activation is taken when the
        /// activation is a clamp (Relu, Clip), or any activation with `quantizeAfterAny` (the
        /// products apply it to dequantized values before quantizing).
        func tail(_ out: String, activations: Bool, quantizeAfterAny: Bool = false) -> (
            chain: [Int], out: String, activation: FusedActivation, q: (String, String)?
        ) {
            var chain = [Int](), out = out, act = FusedActivation()
            if activations, let r = only(out),
                let a = ActivationDescriptor(nodes[r], opset: opset, constants: Fusion.constants(constants))
            {
                act = FusedActivation(a)
                chain.append(r)
                out = nodes[r].outputs[0]
            }
            if let r = only(out), let q = QDQFusion.quantizer(nodes[r], constants),
                quantizeAfterAny || act.kind == FERRY_ACT_NONE || act.kind == FERRY_ACT_RELU || act.kind == FERRY_ACT_CLIP
            {
                chain.append(r)
                return (chain, nodes[r].outputs[0], act, q)
            }
            return (chain, out, act, nil)
        }

        /// Records node `i` replaced by `fused`, the nodes of `chain` gone, and node `i`'s inputs in
        /// `inputs` read no more through their DequantizeLinear (removed when nothing else reads it).
        mutating func commit(_ i: Int, _ fused: Node, chain: [Int], dequantized inputs: [(String, Dequantized)]) {
            replaced[i] = fused
            removed.formUnion(chain)
            for (name, d) in inputs {
                index.dropRead(of: name, by: i)
                if let node = d.node, index.readers(of: name).isEmpty, !keep.contains(name) { removed.insert(node) }
            }
        }

        /// Conv, Gemm, MatMul -> QLinearConv, QGemm, QLinearMatMul.
        mutating func fuseProduct(_ i: Int) {
            let node = nodes[i]
            guard node.inputs.count >= 2, let x = activation(node.inputs[0]),
                let w = dequantized(node.inputs[1]), w.node == nil, let wq = constants[w.quantized],
                QuantizedType.isByte(wq.type),
                let xScale = constants[x.scale]?.floats[0], let wScales = try? constants[w.scale]!.scaleValues()
            else { return }
            let transB = node.int("transB", 0) != 0
            // The weights' quantization axis must be the output channels.
            switch node.opType {
            case "Conv": guard w.axis == nil || w.axis == 0 else { return }
            case "Gemm":
                guard node.int("transA", 0) == 0, node.float("alpha") ?? 1 == 1, node.float("beta") ?? 1 == 1, wq.rank == 2 else {
                    return
                }
                guard w.axis == nil || w.axis == (transB ? 0 : 1) || !transB && w.axis == -1 else { return }
            default: guard wq.rank == 2, w.axis == nil || w.axis == 1 || w.axis == -1 else { return }
            }
            // The bias: int32 quantized with scale x_scale * w_scale and no zero point.
            var bias = ""
            if node.opType != "MatMul", node.inputs.count > 2, !node.inputs[2].isEmpty {
                guard let b = dequantized(node.inputs[2]), b.node == nil, let bq = constants[b.quantized], bq.type == .int32,
                    b.zeroPoint.isEmpty || (try? constants[b.zeroPoint]!.ints().allSatisfy { $0 == 0 }) == true,
                    let bScales = try? constants[b.scale]!.scaleValues(),
                    bScales.count == 1 || bScales.count == wScales.count,
                    bScales.enumerated().allSatisfy({
                        abs($0.element - xScale * wScales[wScales.count == 1 ? 0 : $0.offset]) <= 1e-6 * abs($0.element)
                    })
                else { return }
                bias = b.quantized
            }
            let t = tail(node.outputs[0], activations: true, quantizeAfterAny: true)
            let (yScale, yZero) = t.q ?? ("", "")
            var fused = Node(opType: "", name: node.name, inputs: [], outputs: [t.out])
            let xIn = [x.quantized, x.scale, x.zeroPoint], wIn = [w.quantized, w.scale, w.zeroPoint]
            switch node.opType {
            case "Conv":
                fused.opType = "QLinearConv"
                fused.inputs = xIn + wIn + [yScale, yZero, bias]
                fused.attributes = node.attributes
            case "Gemm":
                fused.opType = "QGemm"
                fused.domain = Domain.microsoft
                fused.inputs = xIn + wIn + [bias, yScale, yZero]
                fused.attributes = node.attributes.filter { $0.name == "transB" }
            default:
                fused.opType = "QLinearMatMul"
                fused.inputs = xIn + wIn + [yScale, yZero]
            }
            if t.q == nil { fused.attributes.append(Attribute(QuantizedConvKernel.floatOutputAttribute, .int(1))) }
            fused.attributes += t.activation.attributes
            commit(i, fused, chain: t.chain, dequantized: [(node.inputs[0], x)])
        }

        /// MatMulInteger -> Cast to float -> Mul by (a_scale * b_scale) -> optional Add of a
        /// constant per-column bias: MatMulIntegerToFloat. A's scale must be one value (a constant or
        /// DynamicQuantizeLinear's), B's constant; the kernel multiplies the float sums by the same
        /// product of the two scales and adds the same bias, so the results are bit for bit those of
        /// the unfused ops.
        mutating func fuseIntegerProduct(_ i: Int) {
            let node = nodes[i]
            guard (2...4).contains(node.inputs.count), let c = only(node.outputs[0]), nodes[c].isONNX("Cast"),
                nodes[c].int("to") == Int(ElementType.float.rawValue), let m = only(nodes[c].outputs[0]),
                nodes[m].isONNX("Mul"), nodes[m].inputs.count == 2
            else { return }
            let product = nodes[m].inputs[0] == nodes[c].outputs[0] ? nodes[m].inputs[1] : nodes[m].inputs[0]
            guard let s = index.producer[product], nodes[s].isONNX("Mul"), nodes[s].inputs.count == 2, !keep.contains(product)
            else { return }
            // Which factor is A's: a single value computed at run time, or a constant of one value.
            func isAScale(_ name: String) -> Bool {
                if let v = constants[name] { return v.count == 1 }
                guard let p = index.producer[name] else { return false }
                return nodes[p].isONNX("DynamicQuantizeLinear") && nodes[p].outputs.count > 1 && nodes[p].outputs[1] == name
            }
            let (f0, f1) = (nodes[s].inputs[0], nodes[s].inputs[1])
            let (aScale, bScale) = isAScale(f0) && constants[f1] != nil ? (f0, f1) : (f1, f0)
            guard isAScale(aScale), let bs = constants[bScale], bs.type == .float, bs.rank <= 1 else { return }
            var chain = [c, m]
            var out = nodes[m].outputs[0], bias = ""
            if let a = only(out), nodes[a].isONNX("Add"), nodes[a].inputs.count == 2 {
                let other = nodes[a].inputs[0] == out ? nodes[a].inputs[1] : nodes[a].inputs[0]
                if other != out, let b = constants[other], b.type == .float, b.rank <= 1 {
                    bias = other
                    chain.append(a)
                    out = nodes[a].outputs[0]
                }
            }
            let input = { (k: Int) in k < node.inputs.count ? node.inputs[k] : "" }
            let fused = Node(
                opType: "MatMulIntegerToFloat", domain: Domain.microsoft, name: node.name,
                inputs: [input(0), input(1), aScale, bScale, input(2), input(3), bias], outputs: [out])
            commit(i, fused, chain: chain, dequantized: [])
            index.dropRead(of: product, by: m)
            if index.readers(of: product).isEmpty { removed.insert(s) }
        }

        /// Add (or a two-input Sum), Mul of two dequantized values, quantized again (after an
        /// optional Relu or Clip) -> QLinearAdd, QLinearMul.
        mutating func fuseBinary(_ i: Int) {
            let node = nodes[i]
            guard node.inputs.count == 2, let a = activation(node.inputs[0], constant: true),
                let b = activation(node.inputs[1], constant: true),
                a.type == b.type, a.node != nil || b.node != nil
            else { return }
            let t = tail(node.outputs[0], activations: true)
            guard let (yScale, yZero) = t.q, constants[yZero]?.type == a.type else { return }
            var fused = Node(
                opType: node.opType == "Mul" ? "QLinearMul" : "QLinearAdd", domain: Domain.microsoft, name: node.name,
                inputs: [a.quantized, a.scale, a.zeroPoint, b.quantized, b.scale, b.zeroPoint, yScale, yZero], outputs: [t.out])
            fused.attributes = t.activation.attributes
            commit(i, fused, chain: t.chain, dequantized: [(node.inputs[0], a), (node.inputs[1], b)])
        }

        /// GlobalAveragePool, AveragePool, Sigmoid, LeakyRelu between a DequantizeLinear and a
        /// QuantizeLinear -> QLinearGlobalAveragePool, QLinearAveragePool, QLinearSigmoid,
        /// QLinearLeakyRelu.
        mutating func fuseUnary(_ i: Int) {
            let node = nodes[i]
            guard node.inputs.count == 1, let x = activation(node.inputs[0]) else { return }
            let t = tail(node.outputs[0], activations: false)
            guard let (yScale, yZero) = t.q, constants[yZero]?.type == x.type else { return }
            var fused = Node(
                opType: "Q" + "Linear" + node.opType, domain: Domain.microsoft, name: node.name,
                inputs: [x.quantized, x.scale, x.zeroPoint, yScale, yZero], outputs: [t.out])
            fused.attributes = node.attributes
            commit(i, fused, chain: t.chain, dequantized: [(node.inputs[0], x)])
        }

        /// Concat of dequantized values, quantized again -> QLinearConcat.
        mutating func fuseConcat(_ i: Int) {
            let node = nodes[i]
            let parts = node.inputs.map { activation($0, constant: true) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }), parts.contains(where: { $0!.node != nil }) else { return }
            let t = tail(node.outputs[0], activations: false)
            guard let (yScale, yZero) = t.q, parts.allSatisfy({ constants[yZero]?.type == $0!.type }) else { return }
            var fused = Node(
                opType: "QLinearConcat", domain: Domain.microsoft, name: node.name,
                inputs: [yScale, yZero] + parts.flatMap { [$0!.quantized, $0!.scale, $0!.zeroPoint] }, outputs: [t.out])
            fused.attributes = node.attributes
            commit(i, fused, chain: t.chain, dequantized: zip(node.inputs, parts.map { $0! }).map { ($0, $1) })
        }

        /// A data-movement op between a DequantizeLinear and a QuantizeLinear with equal
        /// parameters runs on the quantized values.
        mutating func fusePassThrough(_ i: Int) {
            let node = nodes[i]
            guard !node.inputs.isEmpty, let x = activation(node.inputs[0]),
                node.inputs.dropFirst().allSatisfy({ $0.isEmpty || constants[$0] != nil })
            else { return }
            let t = tail(node.outputs[0], activations: false)
            guard let (yScale, yZero) = t.q, let zx = constants[x.zeroPoint], let zy = constants[yZero], zx.type == zy.type,
                (try? zx.ints()) == (try? zy.ints()), let sx = constants[x.scale], let sy = constants[yScale],
                sx.floats[0] == sy.floats[0]
            else { return }
            var fused = node
            fused.inputs[0] = x.quantized
            fused.outputs = [t.out]
            commit(i, fused, chain: t.chain, dequantized: [(node.inputs[0], x)])
        }
    }

    /// The scale and zero-point names of a per-tensor QuantizeLinear to uint8 or int8 with constant
    /// parameters.
    static func quantizer(_ n: Node, _ constants: [String: Value]) -> (String, String)? {
        guard n.opType == "QuantizeLinear", n.domain.isEmpty, n.inputs.count == 3, n.outputs.count == 1,
            let s = constants[n.inputs[1]], s.type == .float, s.count == 1,
            let z = constants[n.inputs[2]], z.count == 1, QuantizedType.isByte(z.type)
        else { return nil }
        return (n.inputs[1], n.inputs[2])
    }
}
