import FerryIR

/// Runs float16 and bfloat16 models in float32: half-precision initializers, constants and declared
/// types become float32 before planning, half-precision inputs are widened when fed and outputs
/// rounded back to their declared type at the end. A Cast to a half type still rounds (to it and
/// back to float32, so a float16 past 65504 becomes infinite as the model says). The results are
/// those of float32 arithmetic with a rounding at each such cast and each output.
enum HalfPrecision {
    /// The 16-bit float types the interpreter computes in float32.
    static let types: Set<ElementType> = [.float16, .bfloat16]

    /// True when `graph` (or a nested graph) holds half-precision values.
    static func needed(_ graph: Graph) -> Bool {
        func isHalf(_ v: ValueInfo) -> Bool {
            if case .tensor(let t, _)? = v.type?.type { return types.contains(t) }
            return false
        }
        if graph.inputs.contains(where: isHalf) || graph.outputs.contains(where: isHalf) { return true }
        if graph.initializers.contains(where: { types.contains($0.elementType) }) { return true }
        for n in graph.nodes {
            for a in n.attributes {
                switch a.value {
                case .int(let v) where a.name == "to" && halfCode(v) != nil: return true
                case .tensor(let t) where types.contains(t.elementType): return true
                default: break
                }
            }
        }
        return graph.nestedGraphs.contains { needed($0) }
    }

    /// The half type an element type code names, if it names one.
    private static func halfCode(_ code: Int64) -> ElementType? {
        ElementType(rawValue: Int32(truncatingIfNeeded: code)).flatMap { types.contains($0) ? $0 : nil }
    }

    /// `graph` with every half-precision tensor, cast and declared type turned into float32.
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
                case .int(let v) where (a.name == "to" || a.name == "dtype") && halfCode(v) != nil:
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

    /// A Cast to a half type as a Cast to it and one back to float32 (its output, widened).
    private static func roundingCast(_ node: Node) -> [Node]? {
        guard node.opType == "Cast", node.isDefaultDomain, node.outputs.count == 1,
            let type = node.attributes.lazy.compactMap({ a -> ElementType? in
                if a.name == "to", case .int(let v) = a.value { return halfCode(v) }
                return nil
            }).first
        else { return nil }
        var toHalf = node
        toHalf.outputs = [node.outputs[0] + "/" + type.name]
        let back = Node(
            opType: "Cast", name: node.name + "/to float32", inputs: toHalf.outputs, outputs: node.outputs,
            attributes: [Attribute("to", .int(Int64(ElementType.float.rawValue)))])
        return [toHalf, back]
    }

    private static func widen(_ t: Tensor) throws -> Tensor {
        guard let values = t.halfFloatValues else { return t }
        return Tensor(name: t.name, elementType: .float, shape: t.shape, values: values)
    }

    private static func widen(_ v: ValueInfo) -> ValueInfo {
        guard case .tensor(let type, _)? = v.type?.type, types.contains(type) else { return v }
        return v.withElementType(.float)
    }
}
