import FerryIR

/// Runs float16 models in float32: float16 initializers, constants and declared types become float32
/// before planning, float16 inputs are widened when fed and float16 outputs rounded back at the end.
/// A Cast to float16 still rounds (to half precision and back to float32, so values past 65504
/// become infinite as the model says). The results are those of float32 arithmetic with a rounding
/// at each such cast and each output.
enum HalfPrecision {
    /// True when `graph` (or a nested graph) holds float16 values.
    static func needed(_ graph: Graph) -> Bool {
        func isHalf(_ v: ValueInfo) -> Bool {
            if case .tensor(.float16, _)? = v.type?.type { return true }
            return false
        }
        if graph.inputs.contains(where: isHalf) || graph.outputs.contains(where: isHalf) { return true }
        if graph.initializers.contains(where: { $0.elementType == .float16 }) { return true }
        for n in graph.nodes {
            for a in n.attributes {
                switch a.value {
                case .int(let v) where a.name == "to" && v == Int64(ElementType.float16.rawValue): return true
                case .tensor(let t) where t.elementType == .float16: return true
                default: break
                }
            }
        }
        return graph.nestedGraphs.contains { needed($0) }
    }

    /// `graph` with every float16 tensor, cast and declared type turned into float32.
    static func widen(_ graph: Graph) throws -> Graph {
        var g = graph
        g.initializers = try g.initializers.map(widen)
        g.inputs = g.inputs.map(widen)
        g.outputs = g.outputs.map(widen)
        g.valueInfo = g.valueInfo.map(widen)
        g.nodes = try g.nodes.flatMap { node -> [Node] in
            if let rounded = roundingCast(node) { return rounded }
            var n = node
            n.attributes = try n.attributes.map { a in
                var a = a
                switch a.value {
                case .int(let v) where (a.name == "to" || a.name == "dtype") && v == Int64(ElementType.float16.rawValue):
                    a.value = .int(Int64(ElementType.float.rawValue))
                case .tensor(let t): a.value = .tensor(try widen(t))
                case .graph(let sub): a.value = .graph(try widen(sub))
                case .graphs(let subs): a.value = .graphs(try subs.map(widen))
                default: break
                }
                return a
            }
            return [n]
        }
        return g
    }

    /// A Cast to float16 as a Cast to float16 and one back to float32 (its output, widened).
    private static func roundingCast(_ node: Node) -> [Node]? {
        let half = Int64(ElementType.float16.rawValue)
        guard node.opType == "Cast", node.isDefaultDomain, node.outputs.count == 1,
            node.attributes.contains(where: {
                if case .int(half) = $0.value { return $0.name == "to" }
                return false
            })
        else { return nil }
        var toHalf = node
        toHalf.outputs = [node.outputs[0] + "/float16"]
        let back = Node(
            opType: "Cast", name: node.name + "/to float32", inputs: toHalf.outputs, outputs: node.outputs,
            attributes: [Attribute("to", .int(Int64(ElementType.float.rawValue)))])
        return [toHalf, back]
    }

    private static func widen(_ t: Tensor) throws -> Tensor {
        guard t.elementType == .float16, let bytes = t.bytes, t.segment == nil else { return t }
        let values = bytes.toArray(of: UInt16.self).map { Float(halfBits: $0) }
        return Tensor(name: t.name, elementType: .float, shape: t.shape, values: values)
    }

    private static func widen(_ v: ValueInfo) -> ValueInfo {
        guard case .tensor(.float16, let shape)? = v.type?.type else { return v }
        var w = v
        w.type = TypeInfo(.tensor(.float, shape: shape), denotation: v.type!.denotation)
        return w
    }
}
