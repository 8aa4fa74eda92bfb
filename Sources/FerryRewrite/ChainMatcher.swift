import FerryIR

/// What the activation patterns share: the lookups that follow a chain of single-output nodes
/// through values only the chain reads, and the bookkeeping that replaces a matched chain by one
/// node (placed where the chain's last node was, after everything it reads).
struct ChainMatcher {
    let nodes: [Node]
    let index: GraphIndex
    let constants: Constants
    private var removed = Set<Int>()
    private var replaced: [Int: Node] = [:]

    init(_ nodes: [Node], constants: Constants, keeping: Set<String>) {
        self.nodes = nodes
        self.index = GraphIndex(nodes: nodes, keeping: keeping)
        self.constants = constants
    }

    /// The one node reading `value`, when it is an ONNX `op` with one output not yet matched.
    func soleReader(of value: String, _ op: String) -> Int? {
        guard let r = index.soleReader(of: value), nodes[r].isONNX(op), nodes[r].outputs.count == 1, !isMatched(r) else {
            return nil
        }
        return r
    }

    /// The node producing `value`, when it is an ONNX `op` with one output whose only reader is the
    /// chain, and not yet matched.
    func privateProducer(of value: String, _ op: String) -> Int? {
        guard let p = index.producer[value], nodes[p].isONNX(op), nodes[p].outputs.count == 1, index.isPrivate(value),
            !isMatched(p)
        else { return nil }
        return p
    }

    /// The other input of two-input `node`, when one of its inputs is `known`.
    func other(_ node: Node, _ known: String) -> String? {
        guard node.inputs.count == 2 else { return nil }
        return node.inputs[0] == known ? node.inputs[1] : (node.inputs[1] == known ? node.inputs[0] : nil)
    }

    /// True when `node` is a two-input op with `known` as one input and the scalar constant `value`
    /// (within `tolerance`) as the other.
    func takes(_ node: Node, _ known: String, scalar value: Float, tolerance: Float = 0) -> Bool {
        guard let o = other(node, known), let c = constants.scalar(o) else { return false }
        return abs(c - value) <= tolerance
    }

    /// True when node `i` is part of a chain already replaced.
    func isMatched(_ i: Int) -> Bool { removed.contains(i) || replaced[i] != nil }

    /// Replaces the nodes `chain` by `node`.
    mutating func replace(_ chain: [Int], with node: Node) {
        let last = chain.max()!
        replaced[last] = node
        removed.formUnion(chain.filter { $0 != last })
    }

    /// The nodes with every matched chain replaced.
    var result: [Node] {
        nodes.enumerated().compactMap { removed.contains($0.offset) ? nil : (replaced[$0.offset] ?? $0.element) }
    }
}

/// The spelled-out activations exporters write, each replaced by its one ONNX op so that an output
/// pass can apply it: hard swish (`HardSwishPattern`), Swish and SiLU (`SwishPattern`), GELU
/// (`GeluPattern`).
public enum ActivationPatterns {
    /// `nodes` with each such chain replaced; values in `keeping` (graph outputs) are never fused away.
    public static func rewrite(_ nodes: [Node], constants: Constants, keeping: Set<String>) -> [Node] {
        var nodes = HardSwishPattern.rewrite(nodes, constants: constants, keeping: keeping)
        nodes = SwishPattern.rewrite(nodes, constants: constants, keeping: keeping)
        return GeluPattern.rewrite(nodes, constants: constants, keeping: keeping)
    }
}
