import FerryIR
import Foundation

/// Export rules for ConvTranspose, LayerNormalization, Resize, Slice, Reshape, RepeatVector,
/// PRelu and the swish and GELU patterns the importer emits.
enum MoreExportRules {
    static func convTranspose(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.channelsFirst(n.inputs[0])
        let w = try e.constant(n.inputs[1])
        let rank = x.shape.count, spatial = rank - 2
        guard spatial == 1 || spatial == 2, (n.int("group") ?? 1) == 1, n.attribute("output_shape") == nil else {
            throw ExportProblem("only ungrouped 1-D/2-D transposed convolutions with explicit pads")
        }
        let kernel = Array(w.shape.dropFirst(2))
        let strides = n.ints("strides") ?? [Int](repeating: 1, count: spatial)
        let dilations = n.ints("dilations") ?? [Int](repeating: 1, count: spatial)
        let pads = n.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
        let outPad = n.ints("output_padding") ?? [Int](repeating: 0, count: spatial)
        // Keras's four cases (deconv_output_length): same or valid, with or without output_padding.
        // Each gives per axis the crop (pads) and extra length (output_padding) ONNX must show.
        func matches(_ same: Bool, explicit: [Int]?) -> Bool {
            (0..<spatial).allSatisfy { i in
                let k = (kernel[i] - 1) * dilations[i] + 1, st = strides[i]
                let total: Int
                if let op = explicit?[i] {
                    guard op < st else { return false }
                    total = same ? 2 * (k / 2) - op : -op
                } else {
                    total = same ? k - st : -max(st - k, 0)
                }
                let begin = total >= 0 ? (same ? total / 2 : 0) : 0
                let end = total >= 0 ? total - begin : 0
                return pads[i] == begin && pads[i + spatial] == end && outPad[i] == max(-total, 0)
            }
        }
        var padding = "valid", kerasOutPad: [Int]? = nil
        if matches(true, explicit: nil) {
            padding = "same"
        } else if matches(false, explicit: nil) {
            padding = "valid"
        } else if matches(false, explicit: outPad) {
            kerasOutPad = outPad
        } else {
            var candidate: [Int] = []
            for i in 0..<spatial {
                let k = (kernel[i] - 1) * dilations[i] + 1
                candidate.append(2 * (k / 2) - pads[i] - pads[i + spatial] + outPad[i])
            }
            guard candidate.allSatisfy({ $0 >= 0 }), matches(true, explicit: candidate) else {
                throw ExportProblem("padding Keras cannot express")
            }
            padding = "same"
            kerasOutPad = candidate
        }
        let filters = w.shape[1]
        let bias = n.inputs.count > 2 && !n.inputs[2].isEmpty ? try e.constant(n.inputs[2]) : nil
        let (activation, result) = ExportRules.fuseActivation(after: n.outputs[0], rank: rank, e)
        let cls = "Conv\(spatial)DTranspose"
        var weights: [(String, Tensor)] = [("kernel", w.permuted(Array(2..<rank) + [1, 0]))]
        if let bias { weights.append(("bias", bias)) }
        var config: [String: Any] = ["filters": filters, "kernel_size": kernel, "strides": strides, "padding": padding]
        config["dilation_rate"] = dilations
        config["output_padding"] = kerasOutPad.map { $0 as Any } ?? NSNull()
        config["activation"] = activation
        config["use_bias"] = bias != nil
        config["data_format"] = "channels_last"
        let ref = e.add(cls, n.name.isEmpty ? cls.lowercased() : n.name, config, inputs: [x.ref], weights: weights)
        let sizes: [Int?] = (0..<spatial).map { i in
            x.shape[i + 2].map {
                (($0 - 1) * strides[i]) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[i + spatial]
            }
        }
        e.values[result] = .init(ref: ref, layout: .channelsFirst, shape: [x.shape[0], filters] + sizes)
    }

    static func layerNorm(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        let rank = x.shape.count
        var axis = n.int("axis") ?? -1
        if axis < 0 { axis += rank }
        // Over the last axis alone, any layout that keeps the features last (time-major) serves.
        guard x.layout == .same || (axis == rank - 1 && e.kerasAxes(x)?.last == rank - 1) else { throw ExportProblem("layout") }
        let scale = try e.constant(n.inputs[1])
        let bias = n.inputs.count > 2 && !n.inputs[2].isEmpty ? try e.constant(n.inputs[2]) : nil
        guard axis == rank - 1 else {
            return try CompositeExportRules.layerNormOverSeveralAxes(n, x, axis: axis, scale: scale, bias: bias, e)
        }
        let shape = try (axis..<rank).map { i -> Int in
            guard let d = x.shape[i] else { throw ExportProblem("normalized axes of unknown size") }
            return d
        }
        guard let count = Tensor.elementCount(of: shape), scale.float32Values.count == count,
            bias.map({ $0.float32Values.count == count }) ?? true
        else {
            throw ExportProblem("scale and bias are not one value per normalized element")
        }
        let flat = { (t: Tensor) in Tensor(elementType: .float, shape: shape, values: t.float32Values) }
        let ref = e.add(
            "LayerNormalization", n.name.isEmpty ? "layer_normalization" : n.name,
            ["axis": Array(axis..<rank), "epsilon": Double(n.float("epsilon") ?? 1e-5), "center": true, "scale": true],
            inputs: [x.ref],
            weights: [
                ("gamma", flat(scale)),
                ("beta", bias.map(flat) ?? Tensor(elementType: .float, shape: shape, values: [Float](repeating: 0, count: count)))
            ])
        e.values[n.outputs[0]] = .init(ref: ref, layout: x.layout, shape: x.shape)
    }

    static func resize(_ n: Node, _ e: KerasExporter) throws {
        var x = try e.value(n.inputs[0])
        if x.layout == .same { x = try e.channelsFirst(n.inputs[0]) }
        let rank = x.shape.count, spatial = rank - 2
        guard let map = e.kerasAxes(x), spatial == 1 || spatial == 2, n.inputs.count >= 3, !n.inputs[2].isEmpty else {
            throw ExportProblem("only scale-based 1-D/2-D resizing")
        }
        let irScales = try e.constant(n.inputs[2]).float32Values
        guard irScales.count == rank else { throw ExportProblem("\(irScales.count) scales for a rank-\(rank) tensor") }
        // The scales along the Keras tensor's axes: batch and channels 1, whole numbers between.
        var scales = [Float](repeating: 1, count: rank)
        for (i, s) in irScales.enumerated() { scales[map[i]] = s }
        guard scales[0] == 1, scales[rank - 1] == 1, scales[1..<(rank - 1)].allSatisfy({ $0 >= 1 && $0 == $0.rounded() }) else {
            throw ExportProblem("scales other than whole-number upsampling of the spatial axes")
        }
        let size = scales[1..<(rank - 1)].map { Int($0) }
        let mode = n.string("mode") ?? "nearest", transform = n.string("coordinate_transformation_mode") ?? "half_pixel"
        let interpolation: String
        if mode == "nearest" && transform == "asymmetric" && (n.string("nearest_mode") ?? "round_prefer_floor") == "floor" {
            interpolation = "nearest"
        } else if mode == "linear" && transform == "half_pixel" && spatial == 2 {
            interpolation = "bilinear"
        } else {
            throw ExportProblem("interpolation \(mode)/\(transform) that UpSampling does not compute")
        }
        let cls = "UpSampling\(spatial)D"
        var config: [String: Any] = ["size": spatial == 1 ? size[0] as Any : size as Any]
        if spatial == 2 {
            config["interpolation"] = interpolation
            config["data_format"] = "channels_last"
        }
        let ref = e.add(cls, n.name.isEmpty ? cls.lowercased() : n.name, config, inputs: [x.ref])
        e.values[n.outputs[0]] = .init(
            ref: ref, layout: x.layout, shape: zip(x.shape, irScales).map { d, s in d.map { $0 * Int(s) } })
    }

    /// Slice of the spatial axes of a channels-first tensor: Cropping1D/2D/3D.
    static func slice(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        guard x.layout != .same, let map = e.kerasAxes(x), n.inputs.count >= 4 else {
            throw ExportProblem("no Keras layer for this op")
        }
        let starts = try e.constantIntegers(n.inputs[1]).map { Int($0) }
        let ends = try e.constantIntegers(n.inputs[2])
        let axes = try e.constantIntegers(n.inputs[3]).map { Int($0) }
        if n.inputs.count > 4, !n.inputs[4].isEmpty, try e.constantIntegers(n.inputs[4]).contains(where: { $0 != 1 }) {
            throw ExportProblem("strided slices")
        }
        let rank = x.shape.count, spatial = rank - 2
        var crops = [[Int]](repeating: [0, 0], count: spatial)
        var shape = x.shape
        guard starts.count == axes.count, ends.count == axes.count else {
            throw ExportProblem("starts, ends and axes differ in length")
        }
        for (k, axis) in axes.enumerated() {
            // The IR axis must be a spatial axis of the Keras tensor (not its batch or channels).
            guard axis >= 0, axis < rank, (1...spatial).contains(map[axis]), starts[k] >= 0, ends[k] > -(1 << 40),
                ends[k] < 0 || ends[k] >= Int64(Int32.max)
            else {
                throw ExportProblem("slices that are not croppings")
            }
            crops[map[axis] - 1] = [starts[k], ends[k] < 0 ? Int(-ends[k]) : 0]
            shape[axis] = shape[axis].map { $0 - crops[map[axis] - 1][0] - crops[map[axis] - 1][1] }
        }
        let cls = "Cropping\(spatial)D"
        let ref = e.add(
            cls, n.name.isEmpty ? cls.lowercased() : n.name, ["cropping": spatial == 1 ? crops[0] as Any : crops as Any],
            inputs: [x.ref])
        e.values[n.outputs[0]] = .init(ref: ref, layout: x.layout, shape: shape)
    }

    static func reshape(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        guard x.layout == .same else { throw ExportProblem("layout") }
        let target = try e.constantIntegers(n.inputs[1]).map { Int($0) }
        // What the importer writes around TimeDistributed layers: [N, T, ...] -> [-1, ...] folds the
        // time steps into the batch, [-1, T, ...] unfolds them; the Keras tensor keeps its time axis.
        if x.time == nil, x.shape.count >= 3, let t = x.shape[1], target.count == x.shape.count - 1, target.first == -1,
            Array(target.dropFirst()) == x.shape.dropFirst(2).map({ $0 ?? -2 })
        {
            e.values[n.outputs[0]] = .init(ref: x.ref, layout: .same, shape: [nil] + x.shape.dropFirst(2), time: t)
            return
        }
        if let t = x.time, target.count == x.shape.count + 1, target.first == -1, target[1] == t,
            Array(target.dropFirst(2)) == x.shape.dropFirst().map({ $0 ?? -2 })
        {
            e.values[n.outputs[0]] = .init(ref: x.ref, layout: .same, shape: [nil, t] + x.shape.dropFirst())
            return
        }
        guard let first = target.first, first == 0 || first == -1, (n.int("allowzero") ?? 0) == 0 else {
            throw ExportProblem("reshapes that change the batch axis")
        }
        let rest = Array(target.dropFirst())
        // (N, C) -> (N, C, 1, ..., 1): the channels-first form of Keras's (N, 1, ..., 1, C).
        if x.shape.count == 2, rest.count >= 2, let channels = x.shape[1], rest.first == channels,
            rest.dropFirst().allSatisfy({ $0 == 1 })
        {
            let ref = e.add(
                "Reshape", n.name.isEmpty ? "reshape" : n.name, ["target_shape": Array(rest.dropFirst()) + [channels]],
                inputs: [x.ref])
            e.values[n.outputs[0]] = .init(ref: ref, layout: .channelsFirst, shape: [x.shape[0]] + rest.map { Optional($0) })
            return
        }
        guard !rest.contains(0), rest.allSatisfy({ $0 == -1 || (1...(1 << 31)).contains($0) }),
            rest.filter({ $0 == -1 }).count <= (first == -1 ? 0 : 1),
            let product = Tensor.elementCount(of: rest.filter { $0 > 0 })
        else { throw ExportProblem("target shape") }
        // Keras's Reshape keeps the batch axis: each sample must keep its element count.
        if first == -1 {
            let perSample = x.shape.dropFirst().reduce(1 as Int?) { a, d in a.flatMap { p in d.map { p * $0 } } }
            guard let perSample, perSample == product else { throw ExportProblem("reshapes that fold other axes into the batch") }
        }
        let ref = e.add("Reshape", n.name.isEmpty ? "reshape" : n.name, ["target_shape": rest], inputs: [x.ref])
        var shape: [Int?] = [x.shape[0]] + rest.map { $0 < 0 ? nil : $0 }
        if let missing = rest.firstIndex(of: -1) {
            let total = x.shape.dropFirst().reduce(1 as Int?) { a, d in a.flatMap { p in d.map { p * $0 } } }
            shape[missing + 1] = total.map { product == 0 ? 0 : $0 / product }
        }
        e.values[n.outputs[0]] = .init(ref: ref, layout: .same, shape: shape)
    }

    /// Unsqueeze(axis 1) followed by Tile([1, n, 1]): RepeatVector(n).
    static func unsqueeze(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        guard x.layout == .same, x.shape.count == 2, n.inputs.count > 1, try e.constantIntegers(n.inputs[1]) == [1],
            let c = e.soleConsumer(n.outputs[0]), e.graph.nodes[c].opType == "Tile",
            let repeats = try? e.constantIntegers(e.graph.nodes[c].inputs[1]), repeats.count == 3, repeats[0] == 1,
            repeats[2] == 1
        else {
            throw ExportProblem("no Keras layer for this op")
        }
        e.done.insert(c)
        let ref = e.add("RepeatVector", n.name.isEmpty ? "repeat_vector" : n.name, ["n": Int(repeats[1])], inputs: [x.ref])
        e.values[e.graph.nodes[c].outputs[0]] = .init(ref: ref, layout: .same, shape: [x.shape[0], Int(repeats[1]), x.shape[1]])
    }

    static func prelu(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        guard let map = e.kerasAxes(x) else { throw ExportProblem("layout") }
        let slope = try e.constant(n.inputs[1])
        let rank = x.shape.count
        // The slope over the IR axes, with the batch axis 1, reordered into the Keras tensor's axes.
        let full = [Int](repeating: 1, count: max(rank - slope.shape.count, 0)) + slope.shape
        guard full.count == rank, full[map.firstIndex(of: 0)!] == 1 else {
            throw ExportProblem("slope broadcasting over the batch")
        }
        let toKeras = (0..<rank).map { k in map.firstIndex(of: k)! }
        var alpha = Tensor(elementType: .float, shape: full, values: slope.float32Values).permuted(toKeras)
        alpha.shape = Array(alpha.shape.dropFirst())
        alpha.name = ""
        let kerasShape = toKeras.map { x.shape[$0] }
        let shared = alpha.shape.indices.filter { alpha.shape[$0] == 1 && kerasShape[$0 + 1] != 1 }.map { $0 + 1 }
        var config: [String: Any] = [:]
        if !shared.isEmpty { config["shared_axes"] = shared }
        let ref = e.add("PReLU", n.name.isEmpty ? "p_re_lu" : n.name, config, inputs: [x.ref], weights: [("alpha", alpha)])
        e.values[n.outputs[0]] = .init(ref: ref, layout: x.layout, shape: x.shape)
    }

    /// x · sigmoid(x) as Activation('swish').
    static func swish(_ n: Node, _ e: KerasExporter) -> Bool {
        guard let c = e.soleConsumer(n.outputs[0]) else { return false }
        let mul = e.graph.nodes[c]
        guard mul.opType == "Mul", mul.inputs.count == 2, Set(mul.inputs) == Set([n.inputs[0], n.outputs[0]]),
            let x = e.values[n.inputs[0]]
        else { return false }
        e.done.insert(c)
        e.values[mul.outputs[0]] = .init(
            ref: e.add("Activation", n.name.isEmpty ? "swish" : n.name, ["activation": "swish"], inputs: [x.ref]),
            layout: x.layout, shape: x.shape)
        return true
    }

    /// 0.5·x·(1 + erf(x/√2)), as the importer writes it: Activation('gelu').
    static func gelu(_ n: Node, _ e: KerasExporter) -> Bool {
        // n = Mul(x, 1/√2) -> Erf -> Add(·, 1) -> Mul(Mul(x, 0.5), ·)
        guard n.opType == "Mul", n.inputs.count == 2,
            let k = e.constants[n.inputs[1]]?.float32Values.first, abs(k - Float(1 / 2.0.squareRoot())) < 1e-6,
            let erfIndex = e.soleConsumer(n.outputs[0]), e.graph.nodes[erfIndex].opType == "Erf",
            let addIndex = e.soleConsumer(e.graph.nodes[erfIndex].outputs[0]), e.graph.nodes[addIndex].opType == "Add",
            let one = e.graph.nodes[addIndex].inputs.first(where: { e.constants[$0] != nil }),
            e.constants[one]?.float32Values == [1],
            let finalIndex = e.soleConsumer(e.graph.nodes[addIndex].outputs[0]), e.graph.nodes[finalIndex].opType == "Mul",
            let halfValue = e.graph.nodes[finalIndex].inputs.first(where: { $0 != e.graph.nodes[addIndex].outputs[0] }),
            let halfIndex = e.graph.nodes.firstIndex(where: { $0.outputs.first == halfValue }),
            e.graph.nodes[halfIndex].opType == "Mul",
            e.graph.nodes[halfIndex].inputs.contains(n.inputs[0]),
            let halfConst = e.graph.nodes[halfIndex].inputs.first(where: { e.constants[$0] != nil }),
            e.constants[halfConst]?.float32Values == [0.5],
            let x = e.values[n.inputs[0]]
        else { return false }
        e.done.formUnion([erfIndex, addIndex, finalIndex, halfIndex])
        e.values[e.graph.nodes[finalIndex].outputs[0]] = .init(
            ref: e.add("Activation", n.name.isEmpty ? "gelu" : n.name, ["activation": "gelu"], inputs: [x.ref]),
            layout: x.layout, shape: x.shape)
        return true
    }
}
