import FerryIR

/// The spelled-out hard swish exporters write, x * clip(x + 3, 0, 6) / 6 (Add, Clip, then Mul and
/// Div in either order), replaced by one HardSwish node.
public enum HardSwishPattern {
    /// `nodes` with each such chain replaced; values in `keeping` (graph outputs) are never fused away.
    public static func rewrite(_ nodes: [Node], constants: Constants, keeping: Set<String>) -> [Node] {
        var m = ChainMatcher(nodes, constants: constants, keeping: keeping)
        for (i, add) in nodes.enumerated()
        where add.isONNX("Add") && add.inputs.count == 2 && add.outputs.count == 1 && !m.isMatched(i) {
            guard let x = add.inputs.first(where: { constants.scalar($0) == nil }), m.takes(add, x, scalar: 3),
                let ci = m.soleReader(of: add.outputs[0], "Clip")
            else { continue }
            let clip = nodes[ci]
            let lo = clip.inputs.count > 1 ? constants.scalar(clip.inputs[1]) : nil,
                hi = clip.inputs.count > 2 ? constants.scalar(clip.inputs[2]) : nil
            guard clip.inputs[0] == add.outputs[0], lo == 0, hi == 6 else { continue }
            func dividesBySix(_ d: Int, _ value: String) -> Bool {
                nodes[d].inputs.count == 2 && nodes[d].inputs[0] == value && constants.scalar(nodes[d].inputs[1]) == 6
            }
            let tail: [Int]
            if let mi = m.soleReader(of: clip.outputs[0], "Mul"), m.other(nodes[mi], clip.outputs[0]) == x,
                let di = m.soleReader(of: nodes[mi].outputs[0], "Div"), dividesBySix(di, nodes[mi].outputs[0])
            {
                tail = [mi, di]
            } else if let di = m.soleReader(of: clip.outputs[0], "Div"), dividesBySix(di, clip.outputs[0]),
                let mi = m.soleReader(of: nodes[di].outputs[0], "Mul"), m.other(nodes[mi], nodes[di].outputs[0]) == x
            {
                tail = [di, mi]
            } else {
                continue
            }
            let out = nodes[tail[1]].outputs[0]
            m.replace(
                [i, ci] + tail,
                with: Node(opType: "HardSwish", name: add.name.isEmpty ? out : add.name, inputs: [x], outputs: [out]))
        }
        return m.result
    }
}
