import FerryIR
import FerryRewrite

/// Turns a QDQ model into operator form: each quantized Conv, MatMul and Gemm whose inputs come from
/// DequantizeLinear and whose output (after an absorbed Relu, or a Clip from 0) goes through a
/// QuantizeLinear becomes one QLinearConv, QLinearMatMul or com.microsoft QGemm on the quantized
/// values; a DequantizeLinear gives float readers their value back.
enum QOperatorConversion {
    /// The value whose quantization stands for a target's output: the output itself, or the output of
    /// a Relu (or Clip with lower bound 0) that is its only reader, which the quantized range absorbs.
    static func quantizedOutput(of node: Node, in graph: Graph, index: GraphIndex) -> (value: String, activation: Int?) {
        let out = node.outputs[0]
        guard index.isPrivate(out), let r = index.readers(of: out).first, isAbsorbable(graph.nodes[r], graph: graph) else {
            return (out, nil)
        }
        return (graph.nodes[r].outputs[0], r)
    }

    /// Relu, or Clip whose lower bound is 0 (the quantized range then starts at 0 and clamps).
    static func isAbsorbable(_ n: Node, graph: Graph) -> Bool {
        if n.isONNX("Relu") { return true }
        guard n.isONNX("Clip") else { return false }
        if n.inputs.count > 1, !n.inputs[1].isEmpty {
            return graph.initializer(named: n.inputs[1])?.floatValues == [0]
        }
        return n.float("min", -.greatestFiniteMagnitude) == 0
    }

    /// Converts every target it can; returns the names of the nodes converted.
    static func convert(_ graph: inout Graph, targets: [QuantizationTargets.Target], activationType: ElementType) -> [String] {
        let index = GraphIndex(graph)
        func dequantized(_ value: String) -> Node? {
            guard let p = index.producer[value], graph.nodes[p].isONNX("DequantizeLinear") else { return nil }
            return graph.nodes[p]
        }
        var removed = Set<Int>(), replacement: [Int: [Node]] = [:], converted: [String] = []
        var sharedZero: String? = nil
        for t in targets {
            let node = graph.nodes[t.node]
            let (out, activation) = quantizedOutput(of: node, in: graph, index: index)
            guard let qi = index.readers(of: out).first(where: { graph.nodes[$0].isONNX("QuantizeLinear") }) else { continue }
            let q = graph.nodes[qi]
            if activation != nil {
                // The absorbed activation clamps at 0: the output zero point must be the lowest level.
                guard let z = graph.initializer(named: q.inputs[2]), zeroPointIsLowest(z, type: activationType) else { continue }
            }
            let inputs = node.inputs.enumerated().map { $0.element.isEmpty ? nil : dequantized($0.element) }
            guard t.activations.allSatisfy({ inputs[$0] != nil }), t.weight.map({ inputs[$0] != nil }) ?? true,
                t.bias.map({ inputs[$0] != nil }) ?? true
            else { continue }
            // quantized value, scale, zero point. Only Conv weights come without a zero point
            // (QDQWriter keeps them for Gemm/MatMul weights): their QLinearConv share one int8 0.
            func parts(_ i: Int) -> [String] {
                let dq = inputs[i]!.inputs
                guard dq.count < 3 || dq[2].isEmpty else { return Array(dq.prefix(3)) }
                if sharedZero == nil {
                    var names = NameAllocator(graph)
                    sharedZero = names.fresh("int8_zero")
                    graph.initializers.append(Tensor(name: sharedZero!, elementType: .int8, shape: [], values: [Int8(0)]))
                }
                return [dq[0], dq[1], sharedZero!]
            }
            var qnode: Node
            if node.isONNX("Conv") {
                var ins = parts(0) + parts(1) + q.inputs[1...2]
                if let b = t.bias { ins.append(inputs[b]!.inputs[0]) }
                qnode = Node(
                    opType: "QLinearConv", name: node.name, inputs: ins, outputs: [q.outputs[0]], attributes: node.attributes)
            } else if node.isONNX("MatMul") {
                qnode = Node(
                    opType: "QLinearMatMul", name: node.name, inputs: parts(0) + parts(t.weight ?? 1) + q.inputs[1...2],
                    outputs: [q.outputs[0]])
            } else {
                var ins = parts(0) + parts(1)
                ins.append(t.bias.map { inputs[$0]!.inputs[0] } ?? "")
                ins += q.inputs[1...2]
                qnode = Node(
                    opType: "QGemm", domain: Domain.microsoft, name: node.name, inputs: ins, outputs: [q.outputs[0]],
                    attributes: node.attributes.filter { $0.name != "beta" })
            }
            var nodes = [qnode]
            // Float readers of the output (and graph outputs) get its dequantized value.
            let others = index.readers(of: out).filter { $0 != qi }
            if !others.isEmpty || index.graphOutputs.contains(out) {
                nodes.append(
                    Node(
                        opType: "DequantizeLinear", name: out + "_DequantizeLinear_float",
                        inputs: [q.outputs[0], q.inputs[1], q.inputs[2]], outputs: [out]))
            }
            replacement[t.node] = nodes
            removed.insert(qi)
            if let a = activation { removed.insert(a) }
            converted.append(node.name)
        }
        graph.nodes = graph.nodes.enumerated().flatMap { i, n in removed.contains(i) ? [] : (replacement[i] ?? [n]) }
        GraphCleanup.removeUnused(&graph)
        return converted
    }

    private static func zeroPointIsLowest(_ z: Tensor, type: ElementType) -> Bool {
        guard let b = z.bytes, b.count == 1 else { return false }
        return type == .int8 ? b.toArray(of: Int8.self)[0] == -128 : b.toArray(of: UInt8.self)[0] == 0
    }
}
