import FerryIR
import FerryRewrite

/// onnxruntime's contrib op com.microsoft FusedConv: a Conv whose output goes through the activation
/// named by its `activation` attribute (parameters in `activation_params`). Ferry runs it as its
/// Conv kernel with that activation in the output pass, the optional fourth input Z (a tensor
/// added before the activation) as the Conv kernel's residual.
enum FusedConv {
    /// The spec of the equivalent Conv node with the fused-activation attributes the Conv kernel reads.
    static func convSpec(_ spec: NodeSpec) throws -> NodeSpec {
        let name = try spec.string("activation", "")
        let params = try spec.floats("activation_params") ?? []
        guard let activation = ActivationDescriptor(fusedConvActivation: name, parameters: params) else {
            guard let kind = ActivationDescriptor.Kind(rawValue: name), kind.isFusedConvActivation else {
                throw KernelError.unsupported("FusedConv activation '\(name)'")
            }
            throw KernelError.invalid("activation \(name) takes \(kind.parameterCount) activation_params, got \(params.count)")
        }
        var node = spec.node
        node.opType = "Conv"
        node.domain = ""
        node.attributes.removeAll { $0.name == "activation" || $0.name == "activation_params" }
        node.attributes += FusedActivation(activation).attributes
        return NodeSpec(
            node: node, opset: spec.opset, constants: spec.constants, subgraphCompiler: spec.subgraphCompiler,
            implicitInputs: spec.implicitInputs, valueTypes: spec.valueTypes)
    }
}
