import FerryIR

/// GELU's erf form spelled out, x * 0.5 * (1 + erf(x / sqrt 2)) in the orders exporters write it
/// (x / sqrt 2 as Div or as Mul by 1 / sqrt 2; the halving applied to x, to 1 + erf, or last),
/// replaced by one Gelu node (ONNX opset 20).
public enum GeluPattern {
    /// `nodes` with each such chain replaced; values in `keeping` (graph outputs) are never fused away.
    public static func rewrite(_ nodes: [Node], constants: Constants, keeping: Set<String>) -> [Node] {
        var m = ChainMatcher(nodes, constants: constants, keeping: keeping)
        let root2: Float = 1.41421356, tolerance: Float = 1e-6
        for (ei, erf) in nodes.enumerated() where erf.isONNX("Erf") && erf.inputs.count == 1 && erf.outputs.count == 1 {
            // x / sqrt 2 (or x * (1 / sqrt 2)), read only by the Erf
            guard let di = m.index.producer[erf.inputs[0]], m.index.isPrivate(erf.inputs[0]), !m.isMatched(di) else { continue }
            let scale = nodes[di]
            guard scale.inputs.count == 2, scale.outputs.count == 1 else { continue }
            let x = scale.inputs[0]
            let scaled =
                (scale.isONNX("Div") && m.takes(scale, x, scalar: root2, tolerance: tolerance))
                || (scale.isONNX("Mul")
                    && (m.takes(scale, x, scalar: 1 / root2, tolerance: tolerance)
                        || m.takes(scale, scale.inputs[1], scalar: 1 / root2, tolerance: tolerance)))
            guard scaled else { continue }
            let input = scale.isONNX("Mul") && constants.scalar(x) != nil ? scale.inputs[1] : x
            guard let ai = m.soleReader(of: erf.outputs[0], "Add"), m.takes(nodes[ai], erf.outputs[0], scalar: 1),
                let tail = halvedProduct(of: input, onePlusErf: nodes[ai].outputs[0], m)
            else { continue }
            let out = nodes[tail.last!].outputs[0]
            m.replace(
                [di, ei, ai] + tail,
                with: Node(opType: "Gelu", name: erf.name.isEmpty ? out : erf.name, inputs: [input], outputs: [out]))
        }
        return m.result
    }

    /// The nodes that multiply `onePlusErf` by x and by 0.5, in one of the three orders:
    /// (x * s) * 0.5, (x * 0.5) * s, x * (s * 0.5).
    private static func halvedProduct(of x: String, onePlusErf s: String, _ m: ChainMatcher) -> [Int]? {
        guard let first = m.soleReader(of: s, "Mul"), let other = m.other(m.nodes[first], s) else { return nil }
        let firstOut = m.nodes[first].outputs[0]
        if other == x {
            guard let half = m.soleReader(of: firstOut, "Mul"), m.takes(m.nodes[half], firstOut, scalar: 0.5) else { return nil }
            return [first, half]
        }
        if m.takes(m.nodes[first], s, scalar: 0.5) {
            guard let last = m.soleReader(of: firstOut, "Mul"), m.other(m.nodes[last], firstOut) == x else { return nil }
            return [first, last]
        }
        guard let half = m.privateProducer(of: other, "Mul"), m.takes(m.nodes[half], x, scalar: 0.5) else { return nil }
        return [half, first]
    }
}
