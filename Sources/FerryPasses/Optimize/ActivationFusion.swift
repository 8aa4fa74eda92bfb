import FerryIR
import FerryRewrite

/// Fuses a float32 Conv and the activation reading its output (Relu, Sigmoid, LeakyRelu,
/// HardSigmoid, Clip with constant bounds) into one `FusedConv` node of domain com.microsoft, the
/// contrib op onnxruntime runs (Ferry runs it too). The result is not standard ONNX: other runtimes
/// may not know the op, so `Optimizer` can leave this pass out. Tanh, which FusedConv allows, is
/// left unfused: Ferry's convolution has no fused Tanh.
public struct ActivationFusion: OptimizationPass {
    /// The op type of the fused node (of domain com.microsoft).
    public static let opType = "FusedConv"

    public init() {}

    public var name: String { "fuse-activations" }

    public func apply(to model: inout Model) throws -> Int {
        let tensors = model.constantInitializers
        let constants = Constants(tensors)
        let index = GraphIndex(model.graph)
        let opset = model.defaultOpset
        var removed = Set<Int>(), touched = Set<Int>()
        for j in model.graph.nodes.indices {
            let act = model.graph.nodes[j]
            guard let x = act.inputs.first, let p = index.producer[x], index.isPrivate(x), !touched.contains(p),
                !removed.contains(p),
                let fused = ActivationDescriptor(act, opset: opset, constants: constants)?.fusedConvAttributes
            else { continue }
            let conv = model.graph.nodes[p]
            guard conv.isONNX("Conv"), conv.outputs == [x], conv.inputs.count >= 2,
                elementType(conv.inputs[1], model: model, constants: tensors) == .float
            else { continue }
            model.graph.nodes[p] = Node(
                opType: ActivationFusion.opType, domain: Domain.microsoft, name: conv.name,
                inputs: conv.inputs, outputs: act.outputs, attributes: conv.attributes + fused, docString: conv.docString)
            touched.insert(p)
            removed.insert(j)
        }
        guard !removed.isEmpty else { return 0 }
        model.graph.nodes = model.graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        model.importDomain(Domain.microsoft, version: 1)
        return removed.count
    }

    /// The element type of `value` when it is a constant, a ConstantOfShape output or declared.
    private func elementType(_ value: String, model: Model, constants: [String: Tensor]) -> ElementType? {
        if let t = constants[value] { return t.elementType }
        let g = model.graph
        if let p = g.nodes.first(where: { $0.outputs.first == value }), p.isONNX("ConstantOfShape") {
            if case .tensor(let t)? = p.attribute("value") { return t.elementType }
            return .float
        }
        for info in g.inputs + g.valueInfo where info.name == value {
            if case .tensor(let type, _)? = info.type?.type { return type }
        }
        return nil
    }
}
