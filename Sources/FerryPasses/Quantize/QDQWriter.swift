import FerryIR

/// Writes a quantized model in QDQ form, as onnxruntime's quantizer does: int8 weights (and int32
/// biases) behind DequantizeLinear, each quantized activation passed through QuantizeLinear then
/// DequantizeLinear before the operators that read it. The float operators stay; a runtime that
/// sees DequantizeLinear -> op -> QuantizeLinear runs the op on integers.
struct QDQWriter {
    var graph: Graph
    var names: NameAllocator
    let options: QuantizationOptions
    /// Per-channel DequantizeLinear (the axis attribute) needs opset 13.
    let perChannel: Bool
    /// Dequantized name of each weight already quantized (shared weights are quantized once).
    private var weightOutputs: [String: (output: String, weight: QuantizedWeight)] = [:]
    /// Parameters of each quantized activation, under its own name and its dequantized name.
    private(set) var activationParameters: [String: QuantParameters] = [:]

    init(_ model: Model, options: QuantizationOptions, perChannel: Bool) {
        graph = model.graph
        names = NameAllocator(model)
        self.options = options
        self.perChannel = perChannel
    }

    /// Replaces the weight (and bias) of every target by its int8 (int32) form behind DequantizeLinear.
    /// A bias is quantized only when `withBias` and the target's input was quantized (its scale is
    /// part of the bias scale); otherwise it stays float. `others`: the targets of the writer's other
    /// calls (a weight is quantized once for all its readers).
    mutating func quantizeWeights(
        _ targets: [QuantizationTargets.Target], withBias: Bool = true,
        alongside others: [QuantizationTargets.Target] = []
    ) throws {
        // Weights read by Gemm or MatMul keep their (zero) zero points: onnxruntime fuses those
        // only with one, and Conv weights without.
        let needZeroPoint = Set(
            (targets + others).compactMap { t in
                t.weight.flatMap { graph.nodes[t.node].isONNX("Conv") ? nil : graph.nodes[t.node].inputs[$0] }
            })
        for t in targets {
            guard let wi = t.weight else { continue }
            let node = graph.nodes[t.node]
            let wName = node.inputs[wi]
            let (dq, weight) = try dequantizedWeight(
                wName, axis: perChannel ? t.weightAxis : nil,
                zeroPoint: needZeroPoint.contains(wName))
            graph.nodes[t.node].inputs[wi] = dq
            if withBias, let bi = t.bias, let p = activationParameters[node.inputs[t.activations[0]]] {
                graph.nodes[t.node].inputs[bi] = try dequantizedBias(node.inputs[bi], inputScale: p.scale, weight: weight)
            }
        }
    }

    /// Inserts QuantizeLinear -> DequantizeLinear on each activation with the given range, and makes
    /// the targets read the dequantized value. Float readers that are not targets keep the original.
    mutating func quantizeActivations(_ ranges: [String: (lo: Float, hi: Float)], targets: [QuantizationTargets.Target]) {
        let readers = Set(targets.map(\.node))
        var parameterNames: [(tensor: String, scale: String, zero: String)] = []
        for (tensor, range) in ranges.sorted(by: { $0.key < $1.key }) {
            let p = QuantParameters.asymmetric(lo: range.lo, hi: range.hi, type: options.activationType)
            activationParameters[tensor] = p
            let scale = names.fresh(tensor + "_scale"), zero = names.fresh(tensor + "_zp")
            parameterNames.append((tensor, scale, zero))
            graph.initializers.append(Tensor(name: scale, floats: [p.scale], shape: []))
            graph.initializers.append(zeroPoint(p.zeroPoint, name: zero))
            let dq = insertPair(tensor, scale: scale, zero: zero)
            activationParameters[dq] = p
            for r in readers {
                for k in graph.nodes[r].inputs.indices where graph.nodes[r].inputs[k] == tensor { graph.nodes[r].inputs[k] = dq }
            }
        }
        guard options.format == .qdq else { return }
        for (tensor, scale, zero) in parameterNames { quantizeBeforeDataMovement(tensor, parameters: (scale, zero)) }
    }

    /// Ops whose output holds some of their input's values unchanged, selected or moved: quantizing
    /// the input with the output's parameters changes no result (quantization is monotonic and
    /// exact on values already on its grid), and lets a runtime run the op on integers and the op
    /// before it write integers, as onnxruntime's quantizer arranges for these ops.
    static let dataMovement: Set<String> = ["MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"]

    /// When quantized `tensor` is made by a data-movement op from a float value of another node that
    /// this op alone reads, the same QuantizeLinear -> DequantizeLinear (same scale and zero point)
    /// goes before the op, and so on back through a chain of such ops.
    private mutating func quantizeBeforeDataMovement(_ tensor: String, parameters: (scale: String, zero: String)) {
        var current = tensor
        while let p = activationParameters[current],
            let op = graph.nodes.firstIndex(where: { $0.outputs.first == current }),
            graph.nodes[op].isONNX(graph.nodes[op].opType), Self.dataMovement.contains(graph.nodes[op].opType),
            !graph.nodes[op].outputs.dropFirst().contains(where: { !$0.isEmpty }),
            let x = graph.nodes[op].inputs.first, activationParameters[x] == nil,
            graph.nodes.contains(where: { $0.outputs.contains(x) }),
            graph.nodes.filter({ $0.inputs.contains(x) }).count == 1,
            !graph.outputs.contains(where: { $0.name == x })
        {
            let dq = insertPair(x, scale: parameters.scale, zero: parameters.zero)
            graph.nodes[op].inputs[0] = dq
            activationParameters[x] = p
            activationParameters[dq] = p
            current = x
        }
    }

    /// QuantizeLinear -> DequantizeLinear of `tensor` with the named parameters (short names: they
    /// add to every file); returns the dequantized value's name.
    private mutating func insertPair(_ tensor: String, scale: String, zero: String) -> String {
        let q = names.fresh(tensor + "_q"), dq = names.fresh(tensor + "_dq")
        graph.nodes.append(
            Node(opType: "QuantizeLinear", name: names.fresh(tensor + "_Q"), inputs: [tensor, scale, zero], outputs: [q]))
        graph.nodes.append(
            Node(opType: "DequantizeLinear", name: names.fresh(tensor + "_DQ"), inputs: [q, scale, zero], outputs: [dq]))
        return dq
    }

    /// An activation zero point tensor of the activation type.
    private func zeroPoint(_ z: Int32, name: String) -> Tensor {
        options.activationType == .int8
            ? Tensor(name: name, elementType: .int8, shape: [], values: [Int8(z)])
            : Tensor(name: name, elementType: .uint8, shape: [], values: [UInt8(z)])
    }

    /// The DequantizeLinear output standing for weight `name` quantized along `axis`. The weights are
    /// symmetric int8: without `zeroPoint` the zero point is left out (it defaults to 0 of the int8
    /// input), a tensor less per weight.
    private mutating func dequantizedWeight(_ name: String, axis: Int?, zeroPoint: Bool) throws -> (String, QuantizedWeight) {
        if let done = weightOutputs[name] { return (done.output, done.weight) }
        guard let w = graph.initializer(named: name) else {
            throw PassError.unsupported(subject: "weight '\(name)'", reason: "not an initializer")
        }
        let qName = names.fresh(name + "_q")
        let weight = try QuantizedWeight(w, name: qName, axis: axis, levels: options.weightLevels)
        let scale = names.fresh(name + "_scale"), out = names.fresh(name + "_dq")
        graph.initializers += [weight.values, weight.scaleTensor(scale)]
        var inputs = [qName, scale]
        if zeroPoint {
            let zero = names.fresh(name + "_zp")
            graph.initializers.append(weight.zeroPointTensor(zero))
            inputs.append(zero)
        }
        var attributes: [Attribute] = []
        if let axis { attributes.append(Attribute("axis", .int(Int64(axis)))) }
        graph.nodes.append(
            Node(
                opType: "DequantizeLinear", name: names.fresh(name + "_DQ"),
                inputs: inputs, outputs: [out], attributes: attributes))
        weightOutputs[name] = (out, weight)
        return (out, weight)
    }

    /// The DequantizeLinear output standing for bias `name` as int32 with scale inputScale * weight scale.
    private mutating func dequantizedBias(_ name: String, inputScale: Float, weight: QuantizedWeight) throws -> String {
        guard let b = graph.initializer(named: name) else {
            throw PassError.unsupported(subject: "bias '\(name)'", reason: "not an initializer")
        }
        let qName = names.fresh(name + "_q")
        let (values, scales) = try quantizeBias(b, name: qName, inputScale: inputScale, weightScales: weight.scales)
        let scale = names.fresh(name + "_scale"), out = names.fresh(name + "_dq")
        let perChannel = weight.axis != nil
        // int32 biases carry no zero point (it defaults to 0), as onnxruntime writes them.
        graph.initializers += [
            values,
            Tensor(name: scale, floats: perChannel ? scales : [scales.first ?? 1], shape: perChannel ? [scales.count] : [])
        ]
        graph.nodes.append(
            Node(
                opType: "DequantizeLinear", name: names.fresh(name + "_DQ"), inputs: [qName, scale],
                outputs: [out], attributes: perChannel ? [Attribute("axis", .int(0))] : []))
        return out
    }
}
