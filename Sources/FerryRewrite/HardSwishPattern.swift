import FerryIR

/// The spelled-out hard swish exporters write, x * clip(x + 3, 0, 6) / 6 (Add, Clip, then Mul and
/// Div in either order), replaced by one HardSwish node so that an output pass can apply it.
public enum HardSwishPattern {
    /// `nodes` with each such chain replaced; values in `keeping` (graph outputs) are never fused away.
    public static func rewrite(_ nodes: [Node], constants: Constants, keeping: Set<String>) -> [Node] {
        let index = GraphIndex(nodes: nodes, keeping: keeping)
        func only(_ value: String, _ op: String) -> Int? {
            guard let r = index.soleReader(of: value), nodes[r].isONNX(op), nodes[r].outputs.count == 1 else { return nil }
            return r
        }
        func other(_ n: Node, _ known: String) -> String? {
            guard n.inputs.count == 2 else { return nil }
            return n.inputs[0] == known ? n.inputs[1] : (n.inputs[1] == known ? n.inputs[0] : nil)
        }
        var removed = Set<Int>(), replaced: [Int: Node] = [:]
        for (i, add) in nodes.enumerated()
        where add.isONNX("Add") && add.inputs.count == 2 && add.outputs.count == 1 && !removed.contains(i) {
            guard let x = add.inputs.first(where: { constants.scalar($0) == nil }), let three = other(add, x),
                constants.scalar(three) == 3,
                let ci = only(add.outputs[0], "Clip")
            else { continue }
            let clip = nodes[ci]
            let lo = clip.inputs.count > 1 ? constants.scalar(clip.inputs[1]) : nil,
                hi = clip.inputs.count > 2 ? constants.scalar(clip.inputs[2]) : nil
            guard clip.inputs[0] == add.outputs[0], lo == 0, hi == 6 else { continue }
            var chain: [Int] = [i, ci]
            let out: String
            if let mi = only(clip.outputs[0], "Mul"), other(nodes[mi], clip.outputs[0]) == x,
                let di = only(nodes[mi].outputs[0], "Div"), nodes[di].inputs.count == 2,
                nodes[di].inputs[0] == nodes[mi].outputs[0],
                constants.scalar(nodes[di].inputs[1]) == 6
            {
                chain += [mi, di]
                out = nodes[di].outputs[0]
            } else if let di = only(clip.outputs[0], "Div"), nodes[di].inputs.count == 2, nodes[di].inputs[0] == clip.outputs[0],
                constants.scalar(nodes[di].inputs[1]) == 6,
                let mi = only(nodes[di].outputs[0], "Mul"), other(nodes[mi], nodes[di].outputs[0]) == x
            {
                chain += [di, mi]
                out = nodes[mi].outputs[0]
            } else {
                continue
            }
            // The replacement sits where the last node of the chain was, after everything it reads.
            let last = chain.max()!
            replaced[last] = Node(opType: "HardSwish", name: add.name.isEmpty ? out : add.name, inputs: [x], outputs: [out])
            removed.formUnion(chain.filter { $0 != last })
        }
        return nodes.enumerated().compactMap { removed.contains($0.offset) ? nil : (replaced[$0.offset] ?? $0.element) }
    }
}
