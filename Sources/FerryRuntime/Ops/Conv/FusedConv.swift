import FerryIR

/// onnxruntime's contrib op com.microsoft FusedConv: a Conv whose output goes through the activation
/// named by its `activation` attribute (parameters in `activation_params`). Ferry runs it as its
/// Conv kernel with that activation in the output pass; the optional fourth input Z (a tensor
/// added before the activation) and Tanh are not supported.
enum FusedConv {
    /// Parameters each activation takes, in `activation_params` order.
    private static let parameterCounts = ["Relu": 0, "Sigmoid": 0, "LeakyRelu": 1, "Clip": 2, "HardSigmoid": 2]

    /// The spec of the equivalent Conv node with the fused-activation attributes the Conv kernel reads.
    static func convSpec(_ spec: NodeSpec) throws -> NodeSpec {
        guard !spec.hasInput(3) else { throw KernelError.unsupported("FusedConv with a Z input") }
        let name = try spec.string("activation", "")
        guard let count = parameterCounts[name], let kind = FusedActivation.kind(of: name) else {
            throw KernelError.unsupported("FusedConv activation '\(name)'")
        }
        let params = try spec.floats("activation_params") ?? []
        guard params.count == count else {
            throw KernelError.invalid("activation \(name) takes \(count) activation_params, got \(params.count)")
        }
        var node = spec.node
        node.opType = "Conv"
        node.domain = ""
        node.attributes.removeAll { $0.name == "activation" || $0.name == "activation_params" }
        node.attributes += [Attribute(FusedActivation.attribute, .int(Int64(kind.rawValue))),
                            Attribute("ferry.alpha", .float(params.first ?? 0)), Attribute("ferry.beta", .float(params.count > 1 ? params[1] : 0))]
        return NodeSpec(node: node, opset: spec.opset, constants: spec.constants, subgraphCompiler: spec.subgraphCompiler,
                        implicitInputs: spec.implicitInputs, valueTypes: spec.valueTypes)
    }
}
