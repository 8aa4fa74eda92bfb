import FerryIR

/// Ops that no single Keras layer computes the same in tf.keras and Keras 3 (their
/// `hard_sigmoid` and approximate GELU differ), written as chains of layers both define
/// identically: Rescaling (x·scale + offset), ReLU(max_value:), Multiply, Add, Activation('tanh'),
/// Reshape and LayerNormalization over the last axis.
enum CompositeExportRules {
    /// clip(alpha·x + beta, 0, 1): Rescaling(alpha, beta) then ReLU(max_value: 1).
    static func hardSigmoid(_ x: KerasExporter.Value, alpha: Float, beta: Float, name: String, _ e: KerasExporter)
        -> KerasExporter.Ref
    {
        let affine = e.add("Rescaling", name + "_affine", ["scale": Double(alpha), "offset": Double(beta)], inputs: [x.ref])
        return e.add("ReLU", name, ["max_value": 1.0], inputs: [affine])
    }

    /// HardSigmoid(alpha, beta) and HardSwish (x · HardSigmoid(1/6, 1/2)).
    static func hard(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        let base = n.name.isEmpty ? (n.opType == "HardSwish" ? "hard_swish" : "hard_sigmoid") : n.name
        var ref: KerasExporter.Ref
        if n.opType == "HardSwish" {
            let gate = hardSigmoid(x, alpha: 1 / 6, beta: 0.5, name: base + "_gate", e)
            ref = e.add("Multiply", base, [:], inputs: [x.ref, gate])
        } else {
            ref = hardSigmoid(x, alpha: n.float("alpha") ?? 0.2, beta: n.float("beta") ?? 0.5, name: base, e)
        }
        e.values[n.outputs[0]] = .init(ref: ref, layout: x.layout, shape: x.shape)
    }

    /// Gelu (opset 20): Activation('gelu') for the erf form; the tanh form as
    /// x · (0.5 + 0.5 · tanh(√(2/π) · (x + 0.044715 · x³))).
    static func gelu(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        let base = n.name.isEmpty ? "gelu" : n.name
        let ref: KerasExporter.Ref
        switch n.string("approximate") ?? "none" {
        case "none":
            ref = e.add("Activation", base, ["activation": "gelu"], inputs: [x.ref])
        case "tanh":
            let cube = e.add("Multiply", base + "_cube", [:], inputs: [x.ref, x.ref, x.ref])
            let cubic = e.add("Rescaling", base + "_cubic", ["scale": Double(Float(0.044715)), "offset": 0.0], inputs: [cube])
            let poly = e.add("Add", base + "_poly", [:], inputs: [x.ref, cubic])
            let scaled = e.add(
                "Rescaling", base + "_scaled", ["scale": Double(Float((2.0 / Double.pi).squareRoot())), "offset": 0.0],
                inputs: [poly])
            let tanh = e.add("Activation", base + "_tanh", ["activation": "tanh"], inputs: [scaled])
            let gate = e.add("Rescaling", base + "_gate", ["scale": 0.5, "offset": 0.5], inputs: [tanh])
            ref = e.add("Multiply", base, [:], inputs: [x.ref, gate])
        case let other:
            throw ExportProblem("approximate='\(other)'")
        }
        e.values[n.outputs[0]] = .init(ref: ref, layout: x.layout, shape: x.shape)
    }

    /// x·a, x + b, x − b, b − x and x / a with one-element constants, and x·a followed by + b:
    /// one Rescaling layer. False when `n` is not such an op.
    static func scalarAffine(_ n: Node, _ e: KerasExporter) -> Bool {
        func scalar(_ name: String) -> Float? {
            guard let t = e.constants[name], Tensor.elementCount(of: t.shape) == 1,
                [.float, .double, .float16].contains(t.elementType)
            else { return nil }
            return t.float32Values.first
        }
        guard n.inputs.count == 2, let k = n.inputs.firstIndex(where: { scalar($0) != nil }), let v = scalar(n.inputs[k]),
            scalar(n.inputs[1 - k]) == nil, let x = e.values[n.inputs[1 - k]]
        else { return false }
        var scale: Float = 1, offset: Float = 0
        switch (n.opType, k) {
        case ("Mul", _): scale = v
        case ("Add", _): offset = v
        case ("Sub", 1): offset = -v
        case ("Sub", 0): (scale, offset) = (-1, v)
        case ("Div", 1) where v != 0: scale = 1 / v
        default: return false
        }
        var out = n.outputs[0]
        if n.opType == "Mul", let c = e.soleConsumer(out), e.graph.nodes[c].opType == "Add", e.graph.nodes[c].inputs.count == 2,
            let b = e.graph.nodes[c].inputs.first(where: { $0 != out }).flatMap(scalar)
        {
            e.done.insert(c)
            offset = b
            out = e.graph.nodes[c].outputs[0]
        }
        let ref = e.add(
            "Rescaling", n.name.isEmpty ? "rescaling" : n.name, ["scale": Double(scale), "offset": Double(offset)],
            inputs: [x.ref])
        e.values[out] = .init(ref: ref, layout: x.layout, shape: x.shape)
        return true
    }

    /// The importer's LayerNormalization over the channels of a channels-first tensor, from its
    /// ReduceMean over axis 1: (x − mean) / √(mean of squares + ε) · gamma + beta, back to one
    /// LayerNormalization layer. False when `n` does not start that pattern.
    static func channelLayerNorm(_ n: Node, _ e: KerasExporter) throws -> Bool {
        let nodes = e.graph.nodes
        func isChannelMean(_ node: Node) -> Bool {
            node.opType == "ReduceMean" && node.ints("axes") == [1] && (node.int("keepdims") ?? 1) == 1 && node.inputs.count == 1
        }
        /// The sole reader of `value` if it is `op`.
        func next(_ value: String, _ op: String) -> (Int, Node)? {
            guard let i = e.soleConsumer(value), nodes[i].opType == op else { return nil }
            return (i, nodes[i])
        }
        func scalar(_ node: Node, _ other: String) -> Float? {
            guard let t = node.inputs.first(where: { $0 != other }).flatMap({ e.constants[$0] }),
                Tensor.elementCount(of: t.shape) == 1
            else { return nil }
            return t.float32Values.first
        }
        guard isChannelMean(n), let x = e.values[n.inputs[0]], x.layout == .channelsFirst,
            let (si, sub) = next(n.outputs[0], "Sub"), sub.inputs == [n.inputs[0], n.outputs[0]]
        else { return false }
        let centered = sub.outputs[0]
        let readers = Set(e.index.readers(of: centered)).sorted().map { ($0, nodes[$0]) }
        guard readers.count == 2,
            let (mi, square) = readers.first(where: { $0.1.opType == "Mul" && $0.1.inputs == [centered, centered] }),
            let (di, divide) = readers.first(where: { $0.1.opType == "Div" && $0.1.inputs.first == centered }),
            let (vi, variance) = next(square.outputs[0], "ReduceMean"), isChannelMean(variance),
            let (ai, plus) = next(variance.outputs[0], "Add"), let epsilon = scalar(plus, variance.outputs[0]),
            let (qi, root) = next(plus.outputs[0], "Sqrt"), divide.inputs == [centered, root.outputs[0]],
            let (gi, scale) = next(divide.outputs[0], "Mul"),
            let gamma = scale.inputs.first(where: { $0 != divide.outputs[0] }).flatMap({ e.constants[$0] }),
            let (bi, shift) = next(scale.outputs[0], "Add"),
            let beta = shift.inputs.first(where: { $0 != scale.outputs[0] }).flatMap({ e.constants[$0] }),
            let channels = x.shape[1], gamma.float32Values.count == channels, beta.float32Values.count == channels,
            [gamma.shape, beta.shape].allSatisfy({ $0 == [channels] + [Int](repeating: 1, count: x.shape.count - 2) })
        else { return false }
        e.done.formUnion([si, mi, di, vi, ai, qi, gi, bi])
        let vector = { (t: Tensor) in Tensor(elementType: .float, shape: [channels], values: t.float32Values) }
        let ref = e.add(
            "LayerNormalization", n.name.isEmpty ? "layer_normalization" : n.name,
            ["axis": [x.shape.count - 1], "epsilon": Double(epsilon), "center": true, "scale": true],
            inputs: [x.ref], weights: [("gamma", vector(gamma)), ("beta", vector(beta))])
        e.values[shift.outputs[0]] = .init(ref: ref, layout: .channelsFirst, shape: x.shape)
        return true
    }

    /// LayerNormalization over the trailing axes from `axis` < rank − 1 (Keras's `axis=[1, 2, 3]`):
    /// Reshape to one axis, LayerNormalization over it with the scale and bias flattened, Reshape
    /// back (tf.keras and Keras 3 shape multi-axis weights differently, the one-axis form alike).
    static func layerNormOverSeveralAxes(
        _ n: Node, _ x: KerasExporter.Value, axis: Int, scale: Tensor, bias: Tensor?, _ e: KerasExporter
    ) throws {
        let shape = try x.shape[axis...].map { d -> Int in
            guard let d else { throw ExportProblem("normalized axes of unknown size") }
            return d
        }
        guard axis >= 1, let count = Tensor.elementCount(of: shape), scale.float32Values.count == count,
            bias.map({ $0.float32Values.count == count }) ?? true
        else {
            throw ExportProblem("scale and bias are not one value per normalized element")
        }
        let base = n.name.isEmpty ? "layer_normalization" : n.name
        let kept = x.shape[1..<axis].map { $0 ?? -1 }
        guard kept.allSatisfy({ $0 > 0 }) else { throw ExportProblem("unnormalized axes of unknown size") }
        let flat = e.add("Reshape", base + "_flatten", ["target_shape": kept + [count]], inputs: [x.ref])
        let vector = { (t: Tensor) in Tensor(elementType: .float, shape: [count], values: t.float32Values) }
        let norm = e.add(
            "LayerNormalization", base,
            ["axis": [axis], "epsilon": Double(n.float("epsilon") ?? 1e-5), "center": true, "scale": true],
            inputs: [flat],
            weights: [
                ("gamma", vector(scale)),
                (
                    "beta",
                    bias.map(vector) ?? Tensor(elementType: .float, shape: [count], values: [Float](repeating: 0, count: count))
                )
            ])
        let back = e.add("Reshape", base + "_unflatten", ["target_shape": kept + shape], inputs: [norm])
        e.values[n.outputs[0]] = .init(ref: back, layout: .same, shape: x.shape)
    }
}
