import CKernels
import FerryIR
import FerryRewrite

/// Rewrites the planner applies before choosing kernels, for the fusions the kernels implement:
/// a BatchNormalization, or a per-channel Mul and Add (how Keras batch norms arrive), folded into the
/// preceding convolution's weights and bias (`ChannelAffine`, `AffineFold`); a following activation
/// (`ActivationDescriptor`) moved into the output pass of Conv and Gemm; a residual Add into the
/// output pass of a Conv or of a MatMul by a packed B (before its activation); an activation into
/// the output pass of MatMulIntegerToFloat and MatMulNBits; and per-channel
/// Mul/Add and Relu after any other inference BatchNormalization run in its pass. A value is fused away
/// only when its one reader is the next op and it is not a graph output.
enum Fusion {
    /// Names of the weights and biases fusion creates start with this.
    static let fusedPrefix = "ferry.fused:"
    /// Set on a MatMul whose third input is a bias added to each row (an Add fused into it).
    static let matMulBias = "ferry.bias"
    /// A float factor on a MatMul's product (a Div or Mul by a scalar constant fused into it, as
    /// attention scales its scores; dividing by c becomes a factor 1 / c, as onnxruntime's
    /// FusedMatMul does, within an ulp of the division).
    static let matMulScale = "ferry.scale"

    /// Returns `nodes` rewritten; `known` (the values fixed at plan time) gains the tensors new
    /// nodes read and loses those only fused-away nodes read; values named in `keep` (graph
    /// outputs) are never fused away. `opset` is the default domain's.
    static func apply(_ nodes: [Node], known: inout [String: Value], opset: Int64, keep: Set<String>) -> [Node] {
        var nodes = nodes
        let index = GraphIndex(nodes: nodes, keeping: keep)
        var removed = Set<Int>()
        for i in nodes.indices
        where !removed.contains(i)
            && (nodes[i].isONNX("Conv") || nodes[i].isONNX("Gemm") || nodes[i].isONNX("MatMul")
                || takesChannelSteps(nodes[i]) || takesActivationOnly(nodes[i]))
        {
            while nodes[i].outputs.count == 1, let j = index.soleReader(of: nodes[i].outputs[0]), !removed.contains(j) {
                let before = nodes[i]
                // A value the fused node reads must be computed before position i.
                let ready = { (name: String) in (index.producer[name] ?? -1) < i }
                guard let fused = fuse(nodes[i], into: nodes[j], known: &known, opset: opset, ready: ready) else { break }
                nodes[i] = fused
                removed.insert(j)
                // Constants only the fused nodes read are not needed any more.
                for name in before.inputs.dropFirst() + nodes[j].inputs where !name.isEmpty && !fused.inputs.contains(name) {
                    // Weights made by an earlier fusion step have no other reader.
                    let onlyFused =
                        name.hasPrefix(Fusion.fusedPrefix) || index.readers(of: name).allSatisfy { $0 == i || $0 == j }
                    if onlyFused, !keep.contains(name) { known[name] = nil }
                }
            }
        }
        return nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// MatMulIntegerToFloat (what QDQFusion makes of dynamically quantized MatMuls) and MatMulNBits
    /// (4-bit weights): their output passes apply an activation after the bias, and take nothing else.
    static func takesActivationOnly(_ node: Node) -> Bool {
        (node.opType == "MatMulIntegerToFloat" || node.opType == "MatMulNBits") && node.domain == Domain.microsoft
    }

    /// The values known at plan time as rewrites read them.
    static func constants(_ known: [String: Value]) -> Constants {
        Constants { name in known[name]?.tensor(name: name) }
    }

    /// `producer` with `consumer` folded in, or nil when they cannot be fused; `ready` tells whether
    /// a value is computed before `producer` runs.
    private static func fuse(
        _ producer: Node, into consumer: Node, known: inout [String: Value], opset: Int64, ready: (String) -> Bool
    ) -> Node? {
        guard consumer.isDefaultDomain, producer.attribute(FusedActivation.attribute) == nil else { return nil }
        if producer.isONNX("BatchNormalization") { return extend(producer, with: consumer, known: known) }
        if producer.isONNX("MatMul") {
            if let scaled = scaling(producer, by: consumer, known: known) { return scaled }
            if let biased = addingBias(to: producer, consumer, known: known) { return biased }
            // the output pass (an activation) needs the packed constant B
            guard hasConstantMatrixB(producer, known) else { return nil }
        }
        let constants = Fusion.constants(known)
        // a dequantizing int8 product takes an activation only (after its bias)
        let act = ActivationDescriptor(consumer, opset: opset, constants: constants)
        if takesActivationOnly(producer) && act == nil { return nil }
        if let act {
            var p = producer
            p.attributes += FusedActivation(act).attributes
            p.outputs = consumer.outputs
            return p
        }
        if let summed = addingResidual(to: producer, consumer, known: known, ready: ready) { return summed }
        // A residual input would have to be scaled too: folding stops there.
        guard producer.isONNX("Conv"), producer.inputs.count <= 3 else { return nil }
        var fold = AffineFold(producer: producer, constants: constants, inputRank: nil)
        guard let m = fold.channels,
            let affine = ChannelAffine(
                consumer, input: producer.outputs[0], channels: m, rank: fold.convolutionRank, constants: constants)
        else { return nil }
        let base = Fusion.fusedPrefix + consumer.outputs[0]
        guard fold.apply(affine, output: consumer.outputs[0], name: { base + ":" + $0 }) else { return nil }
        var created: [String: Value] = [:]
        for t in fold.created {
            guard let v = try? Value(t) else { return nil }
            created[t.name] = v
        }
        known.merge(created) { _, new in new }
        return fold.producer
    }

    /// True for a MatMul (perhaps with a bias fused already) whose B is known at plan time and packed
    /// by its kernel (`PackedRightMatrix.packs`), which can then take an activation.
    private static func hasConstantMatrixB(_ n: Node, _ known: [String: Value]) -> Bool {
        guard n.isONNX("MatMul"), n.inputs.count >= 2, n.outputs.count == 1, let b = known[n.inputs[1]] else { return false }
        return PackedRightMatrix.packs(b)
    }

    /// `matMul` with `consumer` as its scale: a Div of its product by, or a Mul by, a float32 scalar
    /// (rank 0) constant that is finite and not zero; nil for anything else, or a MatMul that already
    /// has a bias, a residual or a scale (the factor would scale them too).
    private static func scaling(_ matMul: Node, by consumer: Node, known: [String: Value]) -> Node? {
        guard consumer.isONNX("Mul") || consumer.isONNX("Div"), consumer.inputs.count == 2, consumer.outputs.count == 1,
            matMul.inputs.count == 2, matMul.attribute(matMulScale) == nil
        else { return nil }
        let product = matMul.outputs[0]
        let other: String
        if consumer.inputs[0] == product && consumer.inputs[1] != product {
            other = consumer.inputs[1]
        } else if consumer.isONNX("Mul") && consumer.inputs[1] == product && consumer.inputs[0] != product {
            other = consumer.inputs[0]
        } else {
            return nil
        }
        guard let c = known[other], c.type == .float, c.rank == 0 else { return nil }
        let factor = consumer.isONNX("Div") ? 1 / c.floats[0] : c.floats[0]
        guard factor.isFinite, factor != 0 else { return nil }
        var p = matMul
        p.attributes.append(Attribute(matMulScale, .float(factor)))
        p.outputs = consumer.outputs
        return p
    }

    /// `matMul` with `consumer` as its bias: an Add of a 1-D float32 constant with one value per
    /// column, when the kernel packs B (the bias goes into the packed product's output pass); nil
    /// for anything else, or a MatMul that has one.
    private static func addingBias(to matMul: Node, _ consumer: Node, known: [String: Value]) -> Node? {
        guard consumer.isONNX("Add"), consumer.inputs.count == 2, consumer.outputs.count == 1, matMul.inputs.count == 2,
            hasConstantMatrixB(matMul, known), let b = known[matMul.inputs[1]]
        else { return nil }
        let other = consumer.inputs[0] == matMul.outputs[0] ? consumer.inputs[1] : consumer.inputs[0]
        guard other != matMul.outputs[0], let bias = known[other], bias.type == .float, bias.shape == [b.shape[1]] else {
            return nil
        }
        var p = matMul
        p.inputs.append(other)
        p.attributes.append(Attribute(matMulBias, .int(1)))
        p.outputs = consumer.outputs
        return p
    }

    /// `producer` (a Conv, or a MatMul by a packed constant B) with `consumer` as its residual Z (the
    /// kernel's fourth input, added after the bias and before the activation): an Add (or a two-input
    /// Sum) of its output and a value computed at run time before `producer` runs; nil for anything
    /// else, or a producer that has one.
    private static func addingResidual(
        to producer: Node, _ consumer: Node, known: [String: Value], ready: (String) -> Bool
    ) -> Node? {
        guard producer.isONNX("Conv") || hasConstantMatrixB(producer, known), (2...3).contains(producer.inputs.count),
            consumer.isONNX("Add") || consumer.isONNX("Sum"), consumer.inputs.count == 2, consumer.outputs.count == 1
        else { return nil }
        let others = consumer.inputs.filter { $0 != producer.outputs[0] }
        guard others.count == 1, let z = others.first, !z.isEmpty, known[z] == nil, ready(z) else { return nil }
        var p = producer
        p.inputs += [String](repeating: "", count: 3 - producer.inputs.count) + [z]
        p.outputs = consumer.outputs
        return p
    }

    /// True for an inference BatchNormalization (one output, statistics per channel) that can take
    /// over the per-channel steps after it (see `ChannelStepsBatchNormalizationKernel`).
    private static func takesChannelSteps(_ n: Node) -> Bool {
        n.isONNX("BatchNormalization") && n.inputs.count >= 5 && n.outputs.count == 1
            && n.int("training_mode", 0) == 0 && n.int("spatial", 1) != 0
    }

    /// `bn` extended by `consumer`: a Mul or Add by a float constant becomes one more step (the
    /// constant one more input), a Relu the last one; nil for anything else.
    private static func extend(_ bn: Node, with consumer: Node, known: [String: Value]) -> Node? {
        var p = bn
        p.outputs = consumer.outputs
        switch consumer.opType {
        case "Relu":
            p.attributes += FusedActivation(ActivationDescriptor(.relu)).attributes
        case "Mul", "Add":
            guard consumer.inputs.count == 2, consumer.outputs.count == 1,
                consumer.attribute("broadcast") == nil, consumer.attribute("axis") == nil
            else { return nil }
            let other = consumer.inputs[0] == bn.outputs[0] ? consumer.inputs[1] : consumer.inputs[0]
            guard other != bn.outputs[0], let c = known[other], c.type == .float else { return nil }
            var steps = bn.ints(ChannelSteps.attribute)?.map(Int64.init) ?? []
            steps.append(Int64(consumer.opType == "Mul" ? ChannelSteps.mul : ChannelSteps.add))
            p.attributes.removeAll { $0.name == ChannelSteps.attribute }
            p.attributes.append(Attribute(ChannelSteps.attribute, .ints(steps)))
            p.inputs.append(other)
        default:
            return nil
        }
        return p
    }
}
