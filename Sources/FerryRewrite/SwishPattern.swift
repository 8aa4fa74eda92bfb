import FerryIR

/// x * sigmoid(x) (SiLU) and x * sigmoid(alpha * x) (Swish; QuickGELU's alpha is 1.702) spelled out
/// as Sigmoid and Mul (and a Mul by the constant alpha before the Sigmoid), replaced by one Swish
/// node (ONNX opset 24).
public enum SwishPattern {
    /// `nodes` with each such chain replaced; values in `keeping` (graph outputs) are never fused away.
    public static func rewrite(_ nodes: [Node], constants: Constants, keeping: Set<String>) -> [Node] {
        var m = ChainMatcher(nodes, constants: constants, keeping: keeping)
        for (si, sigmoid) in nodes.enumerated()
        where sigmoid.isONNX("Sigmoid") && sigmoid.inputs.count == 1 && sigmoid.outputs.count == 1 && !m.isMatched(si) {
            guard let mi = m.soleReader(of: sigmoid.outputs[0], "Mul"), let x = m.other(nodes[mi], sigmoid.outputs[0]),
                x != sigmoid.outputs[0]
            else { continue }
            var chain = [si, mi], alpha: Float = 1
            if sigmoid.inputs[0] != x {
                // sigmoid(alpha * x): a Mul of x by a scalar constant only the Sigmoid reads.
                guard let ai = m.privateProducer(of: sigmoid.inputs[0], "Mul"), let a = m.other(nodes[ai], x),
                    let value = constants.scalar(a)
                else { continue }
                chain.append(ai)
                alpha = value
            }
            let out = nodes[mi].outputs[0]
            m.replace(
                chain,
                with: Node(
                    opType: "Swish", name: sigmoid.name.isEmpty ? out : sigmoid.name, inputs: [x], outputs: [out],
                    attributes: [Attribute("alpha", .float(alpha))]))
        }
        return m.result
    }
}
