import FerryIR

/// Rewrites a model of ONNX opset 11 or 12 to opset 13 (which per-channel DequantizeLinear needs),
/// changing the ops whose form or meaning changed: Softmax/LogSoftmax/Hardmax (2-D coercion at the
/// axis becomes an explicit Flatten and Reshape unless the axis is the last), Squeeze, Unsqueeze,
/// ReduceSum and Split (axes/split attributes become inputs), Dropout (ratio attribute dropped:
/// inference ignores it).
public struct OpsetUpgradePass: GraphPass {
    public init() {}

    public var name: String { "opset-13" }

    /// The default-domain opset of `model`.
    public static func opset(of model: Model) -> Int64 {
        model.defaultOpset
    }

    public func run(on model: inout Model) throws -> Bool {
        let from = OpsetUpgradePass.opset(of: model)
        guard from < 13 else { return false }
        guard from >= 11 else {
            throw PassError.unsupported(subject: "model", reason: "opset \(from) is older than 11; convert it to opset 13 first")
        }
        var names = NameAllocator(model)
        let ranks = declaredRanks(model.graph)
        var nodes: [Node] = []
        for var n in model.graph.nodes {
            guard n.isDefaultDomain else {
                nodes.append(n)
                continue
            }
            guard n.subgraphs.isEmpty else {
                throw PassError.unsupported(
                    subject: "node '\(n.name)' (\(n.opType))", reason: "upgrading subgraphs to opset 13 is not supported")
            }
            switch n.opType {
            case "Softmax", "LogSoftmax", "Hardmax":
                let axis = n.int("axis", 1)
                if axis == -1 || ranks[n.inputs[0]].map({ axis == $0 - 1 }) == true {
                    n.attributes = [Attribute("axis", .int(-1))]
                    nodes.append(n)
                } else {
                    let flat = names.fresh(n.inputs[0] + "_2d"), shape = names.fresh(n.inputs[0] + "_shape"),
                        out = names.fresh(n.outputs[0] + "_2d")
                    nodes.append(
                        Node(
                            opType: "Flatten", name: names.fresh(n.name + "_flatten"), inputs: [n.inputs[0]], outputs: [flat],
                            attributes: [Attribute("axis", .int(Int64(axis)))]))
                    nodes.append(
                        Node(opType: "Shape", name: names.fresh(n.name + "_shape"), inputs: [n.inputs[0]], outputs: [shape]))
                    nodes.append(
                        Node(
                            opType: n.opType, name: n.name, inputs: [flat], outputs: [out],
                            attributes: [Attribute("axis", .int(1))]))
                    nodes.append(
                        Node(opType: "Reshape", name: names.fresh(n.name + "_reshape"), inputs: [out, shape], outputs: n.outputs))
                }
            case "Squeeze", "Unsqueeze", "ReduceSum", "Split":
                let attribute = n.opType == "Split" ? "split" : "axes"
                if let values = n.ints(attribute) {
                    let c = names.fresh(n.name.isEmpty ? n.outputs[0] + "_" + attribute : n.name + "_" + attribute)
                    model.graph.initializers.append(
                        Tensor(name: c, elementType: .int64, shape: [values.count], values: values.map(Int64.init)))
                    n.attributes.removeAll { $0.name == attribute }
                    n.inputs = [n.inputs[0], c]
                }
                nodes.append(n)
            case "Dropout":
                n.attributes.removeAll { $0.name == "ratio" }
                nodes.append(n)
            default:
                nodes.append(n)
            }
        }
        model.graph.nodes = nodes
        model.opsetImports = model.opsetImports.map { Domain.isONNX($0.domain) ? OpsetID(domain: $0.domain, version: 13) : $0 }
        return true
    }

    /// Ranks of the values whose types the graph declares.
    private func declaredRanks(_ graph: Graph) -> [String: Int] {
        var ranks: [String: Int] = [:]
        for v in graph.inputs + graph.outputs + graph.valueInfo {
            if case .tensor(_, let dims?)? = v.type?.type { ranks[v.name] = dims.count }
        }
        for t in graph.initializers { ranks[t.name] = t.shape.count }
        return ranks
    }
}
