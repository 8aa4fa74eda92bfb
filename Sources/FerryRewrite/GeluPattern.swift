import FerryIR

/// GELU spelled out, replaced by one Gelu node (ONNX opset 20): the erf form x * 0.5 * (1 + erf(x /
/// sqrt 2)) (x / sqrt 2 as Div or as Mul by 1 / sqrt 2) and the tanh form x * 0.5 * (1 + tanh(sqrt(2
/// / pi) * (x + 0.044715 * x^3))) (x^3 as x * (x * x) or Pow), the halving applied to x, to 1 + erf
/// or tanh, or last: the orders exporters write.
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
                let tail = halvedProduct(of: input, onePlus: nodes[ai].outputs[0], m)
            else { continue }
            let out = nodes[tail.last!].outputs[0]
            m.replace(
                [di, ei, ai] + tail,
                with: Node(opType: "Gelu", name: erf.name.isEmpty ? out : erf.name, inputs: [input], outputs: [out]))
        }
        for (ti, tanh) in nodes.enumerated() where tanh.isONNX("Tanh") && tanh.inputs.count == 1 && tanh.outputs.count == 1 {
            guard let (x, inner) = tanhArgument(tanh.inputs[0], m),
                let ai = m.soleReader(of: tanh.outputs[0], "Add"), m.takes(nodes[ai], tanh.outputs[0], scalar: 1),
                let tail = halvedProduct(of: x, onePlus: nodes[ai].outputs[0], m)
            else { continue }
            let out = nodes[tail.last!].outputs[0]
            m.replace(
                inner + [ti, ai] + tail,
                with: Node(
                    opType: "Gelu", name: tanh.name.isEmpty ? out : tanh.name, inputs: [x], outputs: [out],
                    attributes: [Attribute("approximate", .string(Array("tanh".utf8)))]))
        }
        return m.result
    }

    /// x and the nodes computing sqrt(2 / pi) * (x + 0.044715 * x^3) into `value`, when only the
    /// Tanh reads each of them.
    private static func tanhArgument(_ value: String, _ m: ChainMatcher) -> (String, [Int])? {
        let tolerance: Float = 1e-6
        guard let scale = m.privateProducer(of: value, "Mul"),
            let sum = m.nodes[scale].inputs.first(where: { m.constants.scalar($0) == nil }),
            m.takes(m.nodes[scale], sum, scalar: 0.797884561, tolerance: tolerance),
            let add = m.privateProducer(of: sum, "Add")
        else { return nil }
        for x in m.nodes[add].inputs {
            guard let term = m.other(m.nodes[add], x), term != x, let times = m.privateProducer(of: term, "Mul"),
                let cube = m.nodes[times].inputs.first(where: { m.constants.scalar($0) == nil }),
                m.takes(m.nodes[times], cube, scalar: 0.044715, tolerance: tolerance),
                let cubing = cubeOf(x, cube, m)
            else { continue }
            return (x, [scale, add, times] + cubing)
        }
        return nil
    }

    /// The nodes computing `cube` = x^3 as x * (x * x) in either order, or Pow(x, 3).
    private static func cubeOf(_ x: String, _ cube: String, _ m: ChainMatcher) -> [Int]? {
        if let p = m.privateProducer(of: cube, "Pow") {
            let pow = m.nodes[p]
            return pow.inputs.count == 2 && pow.inputs[0] == x && m.constants.scalar(pow.inputs[1]) == 3 ? [p] : nil
        }
        guard let outer = m.privateProducer(of: cube, "Mul"), let square = m.other(m.nodes[outer], x), square != x,
            let inner = m.privateProducer(of: square, "Mul"), m.nodes[inner].inputs == [x, x]
        else { return nil }
        return [outer, inner]
    }

    /// The nodes that multiply `onePlus` (1 + erf or 1 + tanh) by x and by 0.5, in one of the three orders:
    /// (x * s) * 0.5, (x * 0.5) * s, x * (s * 0.5).
    private static func halvedProduct(of x: String, onePlus s: String, _ m: ChainMatcher) -> [Int]? {
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
