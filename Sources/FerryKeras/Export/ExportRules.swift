import FerryIR

/// One rule per ONNX op (or op pattern) that maps onto a Keras layer.
enum ExportRules {
    /// Activations Keras can name in a layer's `activation` option (the same in Keras 2 and 3);
    /// `rank` is the rank of the activation's input when it is not computed yet.
    static func activationName(_ n: Node, _ e: KerasExporter, rank: Int? = nil) -> String? {
        switch n.opType {
        case "Relu": return "relu"
        case "Sigmoid": return "sigmoid"
        case "Tanh": return "tanh"
        case "Elu": return (n.float("alpha") ?? 1) == 1 ? "elu" : nil
        case "Selu": return n.attributes.isEmpty ? "selu" : nil
        case "Softplus": return "softplus"
        case "Softsign": return "softsign"
        case "Exp": return "exponential"
        case "Softmax":
            // over the last axis (opsets before 13 flatten from `axis`: the same for a matrix)
            guard let rank = rank ?? e.values[n.inputs[0]]?.shape.count, rank >= 1 else { return nil }
            let axis = Int(n.int("axis") ?? (e.opset < 13 ? 1 : -1))
            return (axis == -1 || axis == rank - 1) && (e.opset >= 13 || rank == 2) ? "softmax" : nil
        case "Clip":
            guard n.inputs.count == 3, let lo = try? e.constant(n.inputs[1]).float32Values.first,
                let hi = try? e.constant(n.inputs[2]).float32Values.first, lo == 0, hi == 6
            else { return nil }
            return "relu6"
        default: return nil
        }
    }

    /// Folds a following single-consumer activation into a layer's `activation` option; returns
    /// the activation name and the value the layer's output stands for. `rank` is the layer
    /// output's rank (Softmax folds only over the last axis).
    static func fuseActivation(after output: String, rank: Int, _ e: KerasExporter) -> (String, String) {
        if let c = e.soleConsumer(output), let name = activationName(e.graph.nodes[c], e, rank: rank), !e.done.contains(c) {
            e.done.insert(c)
            return (name, e.graph.nodes[c].outputs[0])
        }
        return ("linear", output)
    }

    /// Inputs an op needs in every opset it has (one for the ops not listed), checked before any
    /// rule reads them: a damaged node is refused, not indexed past its end.
    static let requiredInputs: [String: Int] = [
        "Conv": 2, "ConvTranspose": 2, "Gemm": 2, "MatMul": 2, "PRelu": 2, "Gather": 2, "Add": 2, "Sub": 2,
        "Mul": 2, "Div": 2, "BatchNormalization": 5, "LayerNormalization": 2, "LSTM": 3, "GRU": 3, "RNN": 3,
        "Reshape": 2 /* the shape attribute of opsets 1-4 is not exported */
    ]

    static func convert(_ n: Node, index: Int, _ e: KerasExporter) throws {
        guard n.isDefaultDomain else { throw ExportProblem("custom domain \(n.domain)") }
        let needed = requiredInputs[n.opType] ?? 1
        guard n.inputs.count >= needed, !n.inputs[..<needed].contains(""), !n.outputs.isEmpty else {
            throw ExportProblem("needs \(needed) input(s) and an output, has \(n.inputs.count) and \(n.outputs.count)")
        }
        let out = n.outputs.first ?? ""
        if !n.inputs.isEmpty, e.pendingMerge[n.inputs[0]] != nil, try RecurrentExport.merge(n, e) { return }
        switch n.opType {
        case "Identity", "Dropout":
            e.values[out] = try e.value(n.inputs[0])
        case "Transpose": try transpose(n, e)
        case "Conv": try conv(n, e)
        case "MaxPool", "AveragePool": try pool(n, e)
        case "GlobalAveragePool", "GlobalMaxPool":
            let x = try e.channelsFirst(n.inputs[0])
            let rank = x.shape.count
            let cls = (n.opType == "GlobalAveragePool" ? "GlobalAveragePooling" : "GlobalMaxPooling") + "\(rank - 2)D"
            let ref = e.add(
                cls, n.name.isEmpty ? cls : n.name, ["keepdims": true, "data_format": "channels_last"], inputs: [x.ref])
            e.values[out] = .init(
                ref: ref, layout: .channelsFirst, shape: [x.shape[0], x.shape[1]] + [Int?](repeating: 1, count: rank - 2))
        case "ReduceMean", "ReduceMax": try reduce(n, e)
        case "Flatten": try flatten(n, e)
        case "Gemm": try gemm(n, e)
        case "MatMul":
            if e.constants[n.inputs[1]] != nil { try matmul(n, e) } else { try PatternExportRules.dot3D(n, e) }
        case "Mul", "Add", "Sub", "Div", "Max", "Min", "Sum", "Mean": try elementwise(n, e)
        case "BatchNormalization": try batchNorm(n, e)
        case "Concat":
            let inputs = try n.inputs.map { try e.value($0) }
            guard let layout = inputs.first?.layout, inputs.allSatisfy({ $0.layout == layout }),
                layout == .same || layout == .channelsFirst
            else {
                throw ExportProblem("inputs in different layouts")
            }
            let rank = inputs[0].shape.count
            var axis = n.int("axis") ?? 0
            if axis < 0 { axis += rank }
            guard axis >= 0, axis < rank, inputs.allSatisfy({ $0.shape.count == rank }) else {
                throw ExportProblem("axis \(axis)")
            }
            let kerasAxis = layout == .same ? axis : (axis == 1 ? rank - 1 : (axis == 0 ? 0 : axis - 1))
            var shape = inputs[0].shape
            shape[axis] = inputs.reduce(0 as Int?) { a, v in a.flatMap { x in v.shape[axis].map { x + $0 } } }
            let ref = e.add(
                "Concatenate", n.name.isEmpty ? "concatenate" : n.name, ["axis": kerasAxis], inputs: inputs.map(\.ref))
            e.values[out] = .init(ref: ref, layout: layout, shape: shape)
        case "Softmax":
            let x = try e.value(n.inputs[0])
            var axis = n.int("axis") ?? -1
            if axis < 0 { axis += x.shape.count }
            guard axis >= 0, axis < x.shape.count else { throw ExportProblem("axis \(axis)") }
            // Before opset 13 Softmax flattened the axes from `axis` on: the same only for the last axis.
            if e.opset < 13 && axis != x.shape.count - 1 { throw ExportProblem("opset \(e.opset) softmax over several axes") }
            let last = x.layout == .channelsFirst ? 1 : x.shape.count - 1
            if axis == last {
                e.values[out] = .init(
                    ref: e.add("Activation", n.name.isEmpty ? "softmax" : n.name, ["activation": "softmax"], inputs: [x.ref]),
                    layout: x.layout, shape: x.shape)
            } else {
                guard x.layout == .same else { throw ExportProblem("softmax over a spatial axis of a channels-first tensor") }
                e.values[out] = .init(
                    ref: e.add("Softmax", n.name.isEmpty ? "softmax" : n.name, ["axis": axis], inputs: [x.ref]), layout: x.layout,
                    shape: x.shape)
            }
        case "Elu" where (n.float("alpha") ?? 1) != 1:
            let x = try e.value(n.inputs[0])
            e.values[out] = .init(
                ref: e.add("ELU", n.name.isEmpty ? "elu" : n.name, ["alpha": Double(n.float("alpha") ?? 1)], inputs: [x.ref]),
                layout: x.layout, shape: x.shape)
        case "LeakyRelu": try PatternExportRules.leakyRelu(n, e)
        case "LpNormalization":
            let x = try e.value(n.inputs[0])
            guard (n.int("p") ?? 2) == 2, (n.int("axis") ?? -1) == 1 || (n.int("axis") ?? -1) == -1, x.shape.count == 2,
                let c = e.soleConsumer(out), e.graph.nodes[c].opType == "Mul"
            else { throw ExportProblem("no Keras layer for this op") }
            e.normalized[out] = x
        case "Clip":
            let x = try e.value(n.inputs[0])
            guard n.inputs.count == 3, let lo = try e.constant(n.inputs[1]).float32Values.first, lo == 0,
                let hi = try e.constant(n.inputs[2]).float32Values.first
            else { throw ExportProblem("only Clip(0, max) maps onto ReLU") }
            e.values[out] = .init(
                ref: e.add("ReLU", n.name.isEmpty ? "re_lu" : n.name, ["max_value": Double(hi)], inputs: [x.ref]),
                layout: x.layout, shape: x.shape)
        case "HardSigmoid", "HardSwish": try CompositeExportRules.hard(n, e)
        case "Gelu": try CompositeExportRules.gelu(n, e)
        case "Pad": try pad(n, e)
        case "ConvTranspose": try MoreExportRules.convTranspose(n, e)
        case "LayerNormalization": try MoreExportRules.layerNorm(n, e)
        case "Resize": try MoreExportRules.resize(n, e)
        case "Reshape": try MoreExportRules.reshape(n, e)
        case "Unsqueeze": try MoreExportRules.unsqueeze(n, e)
        case "PRelu": try MoreExportRules.prelu(n, e)
        case "Sigmoid" where MoreExportRules.swish(n, e): break
        case "LSTM", "GRU", "RNN": try RecurrentExport.convert(n, e)
        case "Squeeze": try RecurrentExport.squeeze(n, e)
        case "Slice":
            if e.pendingReverse[n.inputs[0]] != nil { try RecurrentExport.reverse(n, e) } else { try MoreExportRules.slice(n, e) }
        case "Cast":
            // Keras layers compute in float32 whatever their input type, and Embedding casts ids
            // itself: casts to float, and casts feeding an embedding lookup, need no layer.
            let toFloat = n.int("to") == Int(ElementType.float.rawValue)
            let feedsLookup = e.soleConsumer(n.outputs[0]).map { e.graph.nodes[$0].opType == "Gather" } ?? false
            guard toFloat || feedsLookup else { throw ExportProblem("no Keras layer for this op") }
            e.values[n.outputs[0]] = try e.value(n.inputs[0])
        case "Gather":
            let table = try e.constant(n.inputs[0])
            let ids = try e.value(n.inputs[1])
            guard (n.int("axis") ?? 0) == 0, table.shape.count == 2, ids.layout == .same else {
                throw ExportProblem("only embedding lookups (a constant 2-D table)")
            }
            let ref = e.add(
                "Embedding", n.name.isEmpty ? "embedding" : n.name, ["input_dim": table.shape[0], "output_dim": table.shape[1]],
                inputs: [ids.ref], weights: [("embeddings", table)])
            e.values[n.outputs[0]] = .init(ref: ref, layout: .same, shape: ids.shape + [table.shape[1]])
        default:
            if let name = activationName(n, e) {
                let x = try e.value(n.inputs[0])
                e.values[out] = .init(
                    ref: e.add("Activation", n.name.isEmpty ? name : n.name, ["activation": name], inputs: [x.ref]),
                    layout: x.layout, shape: x.shape)
            } else {
                throw ExportProblem("no Keras layer for this op")
            }
        }
    }

    static func transpose(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        guard case .ints(let p)? = n.attribute("perm") else { throw ExportProblem("no perm") }
        let perm = p.map { Int($0) }, rank = perm.count
        guard perm.sorted() == Array(0..<x.shape.count) else {
            throw ExportProblem("perm \(perm) of a rank-\(x.shape.count) tensor")
        }
        let shape = perm.map { x.shape[$0] }
        let toFirst = [0, rank - 1] + Array(1..<max(rank - 1, 1))
        if rank == 3 && x.layout == .same && perm == [0, 2, 1], let c = e.soleConsumer(n.outputs[0]),
            e.graph.nodes[c].opType == "MatMul", e.constants[e.graph.nodes[c].inputs[1]] == nil
        {
            // Swapping the last two axes for a batched product: Dot contracts the right axis instead.
            e.swapped[n.outputs[0]] = x
        } else {
            // Output axis i is Keras axis q[i] of x's Keras tensor: a layout of it, or a Permute.
            guard let keras = e.kerasAxes(x) else { throw ExportProblem("a transpose of a flattened channels-first tensor") }
            let q = perm.map { keras[$0] }
            if q == Array(0..<rank) {
                e.values[n.outputs[0]] = .init(ref: x.ref, layout: .same, shape: shape, time: x.time)
            } else if rank >= 3 && q == toFirst {
                e.values[n.outputs[0]] = .init(ref: x.ref, layout: .channelsFirst, shape: shape, time: x.time)
            } else if rank == 3 && q == [1, 0, 2] {
                e.values[n.outputs[0]] = .init(ref: x.ref, layout: .timeMajor, shape: shape, time: x.time)
            } else if q.first == 0 {
                e.values[n.outputs[0]] = .init(
                    ref: e.add("Permute", n.name.isEmpty ? "permute" : n.name, ["dims": Array(q.dropFirst())], inputs: [x.ref]),
                    layout: .same, shape: shape)
            } else {
                throw ExportProblem("moves the batch axis")
            }
        }
    }

    /// TF's padding for a window op, or nil when the pads are neither "valid" nor TF's "same".
    static func tfPadding(pads: [Int], sizes: [Int?], kernel: [Int], strides: [Int], dilations: [Int]) -> String? {
        let d = kernel.count
        if pads.allSatisfy({ $0 == 0 }) { return "valid" }
        for i in 0..<d {
            guard let size = sizes[i] else { return nil }
            let k = (kernel[i] - 1) * dilations[i] + 1
            let o = (size + strides[i] - 1) / strides[i]
            let total = max((o - 1) * strides[i] + k - size, 0)
            if pads[i] != total / 2 || pads[i + d] != total - total / 2 { return nil }
        }
        return "same"
    }

    static func windowOutput(_ sizes: [Int?], kernel: [Int], strides: [Int], dilations: [Int], padding: String) -> [Int?] {
        sizes.indices.map { i in
            sizes[i].map { n in
                let k = (kernel[i] - 1) * dilations[i] + 1
                return padding == "same" ? (n + strides[i] - 1) / strides[i] : (n - k) / strides[i] + 1
            }
        }
    }

    static func conv(_ n: Node, _ e: KerasExporter) throws {
        var x = try e.channelsFirst(n.inputs[0])
        let w = try e.constant(n.inputs[1])
        let rank = x.shape.count, spatial = rank - 2
        guard w.shape.count == rank, spatial >= 1 else { throw ExportProblem("kernel rank") }
        let kernel = Array(w.shape.dropFirst(2))
        let strides = n.ints("strides") ?? [Int](repeating: 1, count: spatial)
        let dilations = n.ints("dilations") ?? [Int](repeating: 1, count: spatial)
        let group = n.int("group") ?? 1
        var pads = n.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
        guard strides.count == spatial, dilations.count == spatial, pads.count == 2 * spatial, group >= 1,
            (strides + dilations).allSatisfy({ $0 >= 1 }), pads.allSatisfy({ $0 >= 0 })
        else { throw ExportProblem("attributes") }
        if let auto = n.string("auto_pad"), auto != "NOTSET" {
            guard auto == "SAME_UPPER" || auto == "VALID" else { throw ExportProblem("auto_pad \(auto)") }
            if auto == "SAME_UPPER" {
                guard let computed = samePads(Array(x.shape.dropFirst(2)), kernel, strides, dilations) else {
                    throw ExportProblem("SAME padding of unknown sizes")
                }
                pads = computed
            }
        }
        var sizes = Array(x.shape.dropFirst(2))
        var padding = tfPadding(pads: pads, sizes: sizes, kernel: kernel, strides: strides, dilations: dilations)
        if padding == nil {
            guard spatial <= 3 else { throw ExportProblem("padding") }
            let pairs = (0..<spatial).map { [pads[$0], pads[$0 + spatial]] }
            let ref = e.add(
                "ZeroPadding\(spatial)D", n.name + "_pad", ["padding": spatial == 1 ? pairs[0] as Any : pairs as Any],
                inputs: [x.ref])
            sizes = sizes.indices.map { i in sizes[i].map { $0 + pads[i] + pads[i + spatial] } }
            x = .init(ref: ref, layout: .channelsFirst, shape: [x.shape[0], x.shape[1]] + sizes)
            padding = "valid"
        }
        let inChannels = x.shape[1] ?? w.shape[1] * group
        let outChannels = w.shape[0]
        let bias = n.inputs.count > 2 && !n.inputs[2].isEmpty ? try e.constant(n.inputs[2]) : nil
        let (activation, result) = fuseActivation(after: n.outputs[0], rank: rank, e)
        var config: [String: Any] = [
            "kernel_size": kernel, "strides": strides, "padding": padding!, "dilation_rate": dilations,
            "activation": activation, "use_bias": bias != nil, "data_format": "channels_last"
        ]
        var weights: [(String, Tensor)]
        let cls: String
        if group > 1 && group == inChannels && w.shape[1] == 1 && spatial == 2 {
            cls = "DepthwiseConv2D"
            let multiplier = outChannels / inChannels
            var k = w
            k.shape = [inChannels, multiplier] + kernel
            config["depth_multiplier"] = multiplier
            weights = [("depthwise_kernel", k.permuted([2, 3, 0, 1]))]
        } else {
            cls = "Conv\(spatial)D"
            config["filters"] = outChannels
            if group > 1 { config["groups"] = group }
            weights = [("kernel", w.permuted(Array(2..<rank) + [1, 0]))]
        }
        if let bias { weights.append(("bias", bias)) }
        let ref = e.add(cls, n.name.isEmpty ? cls.lowercased() : n.name, config, inputs: [x.ref], weights: weights)
        let outSizes = windowOutput(sizes, kernel: kernel, strides: strides, dilations: dilations, padding: padding!)
        e.values[result] = .init(ref: ref, layout: .channelsFirst, shape: [x.shape[0], outChannels] + outSizes)
    }

    static func samePads(_ sizes: [Int?], _ kernel: [Int], _ strides: [Int], _ dilations: [Int]) -> [Int]? {
        var begin = [Int](), end = [Int]()
        for i in kernel.indices {
            guard let n = sizes[i] else { return nil }
            let k = (kernel[i] - 1) * dilations[i] + 1
            let o = (n + strides[i] - 1) / strides[i]
            let total = max((o - 1) * strides[i] + k - n, 0)
            begin.append(total / 2)
            end.append(total - total / 2)
        }
        return begin + end
    }

    static func pool(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.channelsFirst(n.inputs[0])
        let spatial = x.shape.count - 2
        guard let kernel = n.ints("kernel_shape"), kernel.count == spatial, kernel.allSatisfy({ $0 >= 1 }) else {
            throw ExportProblem("kernel_shape")
        }
        let strides = n.ints("strides") ?? [Int](repeating: 1, count: spatial)
        guard strides.count == spatial, strides.allSatisfy({ $0 >= 1 }) else { throw ExportProblem("strides") }
        if (n.int("ceil_mode") ?? 0) != 0 { throw ExportProblem("ceil_mode") }
        if (n.ints("dilations") ?? []).contains(where: { $0 != 1 }) { throw ExportProblem("dilated pooling") }
        let sizes = Array(x.shape.dropFirst(2))
        var pads = n.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
        if let auto = n.string("auto_pad"), auto != "NOTSET" && auto != "VALID" {
            guard auto == "SAME_UPPER", let computed = samePads(sizes, kernel, strides, kernel.map { _ in 1 }) else {
                throw ExportProblem("auto_pad \(auto)")
            }
            pads = computed
        }
        guard pads.count == 2 * spatial else { throw ExportProblem("pads") }
        if n.opType == "AveragePool" && (n.int("count_include_pad") ?? 0) != 0 && pads.contains(where: { $0 != 0 }) {
            throw ExportProblem("count_include_pad with padding")
        }
        guard
            let padding = tfPadding(pads: pads, sizes: sizes, kernel: kernel, strides: strides, dilations: kernel.map { _ in 1 })
        else {
            throw ExportProblem("padding that is neither valid nor TF's same")
        }
        let cls = (n.opType == "MaxPool" ? "MaxPooling" : "AveragePooling") + "\(spatial)D"
        let ref = e.add(
            cls, n.name.isEmpty ? cls.lowercased() : n.name,
            ["pool_size": kernel, "strides": strides, "padding": padding, "data_format": "channels_last"], inputs: [x.ref])
        e.values[n.outputs[0]] = .init(
            ref: ref, layout: .channelsFirst,
            shape: [x.shape[0], x.shape[1]]
                + windowOutput(sizes, kernel: kernel, strides: strides, dilations: kernel.map { _ in 1 }, padding: padding))
    }

    static func reduce(_ n: Node, _ e: KerasExporter) throws {
        if n.opType == "ReduceMean", try CompositeExportRules.channelLayerNorm(n, e) { return }
        let x = try e.value(n.inputs[0])
        let rank = x.shape.count
        var axes = n.ints("axes") ?? []
        if axes.isEmpty, n.inputs.count > 1 { axes = try e.constantIntegers(n.inputs[1]).map { Int($0) } }
        axes = axes.map { $0 < 0 ? $0 + rank : $0 }.sorted()
        let keep = (n.int("keepdims") ?? 1) != 0
        guard rank >= 3 else {
            throw ExportProblem(
                "reduces a rank-\(rank) tensor; only reductions over the spatial axes of an image map onto global pooling")
        }
        guard let map = e.kerasAxes(x), axes.allSatisfy({ (0..<rank).contains($0) }) else { throw ExportProblem("layout") }
        guard axes.map({ map[$0] }).sorted() == Array(1..<(rank - 1)) else {
            throw ExportProblem("only reductions over all spatial axes map onto global pooling")
        }
        let cls = (n.opType == "ReduceMean" ? "GlobalAveragePooling" : "GlobalMaxPooling") + "\(rank - 2)D"
        let ref = e.add(
            cls, n.name.isEmpty ? cls.lowercased() : n.name, ["keepdims": keep, "data_format": "channels_last"], inputs: [x.ref])
        let channels = x.shape[map.firstIndex(of: rank - 1)!]
        if keep {
            var shape = x.shape
            for a in axes { shape[a] = 1 }
            e.values[n.outputs[0]] = .init(ref: ref, layout: x.layout, shape: shape)
        } else {
            e.values[n.outputs[0]] = .init(ref: ref, layout: .same, shape: [x.shape[map.firstIndex(of: 0)!], channels])
        }
    }

    static func flatten(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        guard (n.int("axis") ?? 1) == 1 else { throw ExportProblem("axis other than 1") }
        let total = x.shape.dropFirst().reduce(1 as Int?) { a, d in a.flatMap { x in d.map { x * $0 } } }
        let name = n.name.isEmpty ? "flatten" : n.name
        switch x.layout {
        case .same:
            e.values[n.outputs[0]] = .init(
                ref: x.shape.count == 2 ? x.ref : e.add("Flatten", name, [:], inputs: [x.ref]), layout: .same,
                shape: [x.shape[0], total])
        case .channelsFirst:
            // All spatial sizes 1: both flattenings agree.
            let spatial = x.shape.dropFirst(2)
            if spatial.allSatisfy({ $0 == 1 }) {
                e.values[n.outputs[0]] = .init(
                    ref: e.add("Flatten", name, [:], inputs: [x.ref]), layout: .same, shape: [x.shape[0], total])
                return
            }
            guard let channels = x.shape[1],
                let positions = spatial.reduce(1 as Int?, { a, d in a.flatMap { x in d.map { x * $0 } } })
            else {
                throw ExportProblem("flattening a tensor of unknown size")
            }
            var order = [Int](repeating: 0, count: channels * positions)
            for p in 0..<positions { for c in 0..<channels { order[p * channels + c] = c * positions + p } }
            e.values[n.outputs[0]] = .init(
                ref: e.add("Flatten", name, [:], inputs: [x.ref]), layout: .flatPermuted(order), shape: [x.shape[0], total])
        default:
            throw ExportProblem("layout")
        }
    }

    /// Dense from Gemm (A·B + C, B constant, alpha = beta = 1).
    static func gemm(_ n: Node, _ e: KerasExporter) throws {
        guard (n.float("alpha") ?? 1) == 1, (n.float("beta") ?? 1) == 1, (n.int("transA") ?? 0) == 0 else {
            throw ExportProblem("alpha, beta or transA")
        }
        var w = try e.constant(n.inputs[1])
        guard w.shape.count == 2 else { throw ExportProblem("B is not a matrix") }
        if (n.int("transB") ?? 0) != 0 { w = w.permuted([1, 0]) }
        let bias = n.inputs.count > 2 && !n.inputs[2].isEmpty ? try e.constant(n.inputs[2]) : nil
        if let bias, bias.shape.reduce(1, *) != w.shape[1] { throw ExportProblem("bias that is not one per unit") }
        try dense(n, e, input: n.inputs[0], kernel: w, bias: bias, output: n.outputs[0])
    }

    /// Dense from MatMul with a constant right side, and a following Add of a constant bias.
    static func matmul(_ n: Node, _ e: KerasExporter) throws {
        let w = try e.constant(n.inputs[1])
        guard w.shape.count == 2 else { throw ExportProblem("right side is not a matrix") }
        var bias: Tensor?, output = n.outputs[0]
        if let c = e.soleConsumer(output), e.graph.nodes[c].opType == "Add" {
            let add = e.graph.nodes[c]
            let other = add.inputs[0] == output ? add.inputs[1] : add.inputs[0]
            if let b = e.constants[other], b.shape.reduce(1, *) == w.shape[1] {
                bias = b
                output = add.outputs[0]
                e.done.insert(c)
            }
        }
        try dense(n, e, input: n.inputs[0], kernel: w, bias: bias, output: output)
    }

    static func dense(_ n: Node, _ e: KerasExporter, input: String, kernel: Tensor, bias: Tensor?, output: String) throws {
        var x = try e.value(input)
        var k = kernel
        guard kernel.shape.count == 2 else { throw ExportProblem("weights of shape \(kernel.shape) (a matrix expected)") }
        let features = kernel.shape[0]
        if let last = x.shape.last, let known = last, known != features {
            throw ExportProblem("the weights have \(features) rows, the input \(known) features")
        }
        switch x.layout {
        case .same: break
        case .timeMajor: break // on the feature axis: the Keras tensor serves, the result stays time-major
        case .channelsFirst: x = try e.inIROrder(input)
        case .flatPermuted(let order):
            // Keras feeds its own flattening: row k of the Keras kernel is row order[k] of the IR's.
            guard order.count == features else {
                throw ExportProblem("the weights have \(features) rows, the flattened input \(order.count) features")
            }
            let units = kernel.shape[1]
            let src = kernel.float32Values
            var rows = [Float](repeating: 0, count: src.count)
            for (kr, ir) in order.enumerated() { for u in 0..<units { rows[kr * units + u] = src[ir * units + u] } }
            k = Tensor(elementType: .float, shape: kernel.shape, values: rows)
        }
        let (activation, result) = fuseActivation(after: output, rank: x.shape.count, e)
        var weights: [(String, Tensor)] = [("kernel", k)]
        if var b = bias {
            b.shape = [kernel.shape[1]]
            weights.append(("bias", b))
        }
        let ref = e.add(
            "Dense", n.name.isEmpty ? "dense" : n.name,
            ["units": kernel.shape[1], "activation": activation, "use_bias": bias != nil], inputs: [x.ref], weights: weights)
        e.values[result] = .init(
            ref: ref, layout: x.layout == .timeMajor ? .timeMajor : .same, shape: Array(x.shape.dropLast()) + [kernel.shape[1]])
    }

    /// Binary ops: merge layers between computed tensors; x·scale + shift with per-channel
    /// constants (what the importer makes of BatchNormalization) becomes BatchNormalization.
    static func elementwise(_ n: Node, _ e: KerasExporter) throws {
        if MoreExportRules.gelu(n, e) { return }
        if try PatternExportRules.thresholdRelu(n, e) { return }
        if try PatternExportRules.dot2D(n, e) { return }
        if CompositeExportRules.scalarAffine(n, e) { return }
        let constantInputs = n.inputs.filter { e.constants[$0] != nil }
        if constantInputs.isEmpty {
            let inputs = try n.inputs.map { try e.value($0) }
            guard inputs.allSatisfy({ $0.layout == inputs[0].layout }),
                inputs[0].layout == .same || inputs[0].layout == .channelsFirst
            else {
                throw ExportProblem("inputs in different layouts")
            }
            guard
                let cls = [
                    "Mul": "Multiply", "Add": "Add", "Sum": "Add", "Sub": "Subtract", "Max": "Maximum", "Min": "Minimum",
                    "Mean": "Average"
                ][n.opType]
            else {
                throw ExportProblem("no Keras layer divides one computed tensor by another")
            }
            let ref = e.add(cls, n.name.isEmpty ? cls.lowercased() : n.name, [:], inputs: inputs.map(\.ref))
            e.values[n.outputs[0]] = .init(ref: ref, layout: inputs[0].layout, shape: inputs[0].shape)
            return
        }
        // x·scale (+ shift), or x + shift, with per-channel constants.
        guard n.inputs.count == 2, n.opType == "Mul" || n.opType == "Add", let constantName = constantInputs.first,
            let constant = e.constants[constantName]
        else {
            throw ExportProblem("an operation with a constant that is not a per-channel scale and shift")
        }
        let x = try e.value(n.inputs[0] == constantName ? n.inputs[1] : n.inputs[0])
        var scale: Tensor?, shift: Tensor?, out = n.outputs[0], fusedAdd: Int?
        if n.opType == "Mul" {
            scale = constant
            if let c = e.soleConsumer(out), e.graph.nodes[c].opType == "Add", e.graph.nodes[c].inputs.count == 2,
                let s = e.graph.nodes[c].inputs.first(where: { $0 != out }).flatMap({ e.constants[$0] }),
                s.shape == constant.shape
            {
                fusedAdd = c
                shift = s
                out = e.graph.nodes[c].outputs[0]
            }
        } else {
            shift = constant
        }
        let given = scale ?? shift!
        guard x.layout == .same || x.layout == .channelsFirst, given.shape.count <= x.shape.count else {
            throw ExportProblem("scale and shift do not broadcast over one axis")
        }
        // The one axis the constants vary along (right-aligned broadcasting).
        let aligned = [Int](repeating: 1, count: x.shape.count - given.shape.count) + given.shape
        let varying = aligned.indices.filter { aligned[$0] != 1 }
        guard varying.count == 1, let axis = varying.first, axis > 0 else {
            throw ExportProblem("scale and shift are not one per channel")
        }
        let channels = aligned[axis]
        let kerasAxis: Int
        switch x.layout {
        case .channelsFirst: kerasAxis = axis == 1 ? -1 : axis - 1
        default: kerasAxis = axis == x.shape.count - 1 ? -1 : axis
        }
        // Keras computes gamma·(x − mean)/√(var + ε) + beta: mean 0 and var + ε = 1 give gamma·x + beta.
        let eps = 1e-3
        let filled = { (t: Tensor?, value: Float) in t?.float32Values ?? [Float](repeating: value, count: channels) }
        let gamma = filled(scale, 1), beta = filled(shift, 0)
        guard gamma.count == channels, beta.count == channels else { throw ExportProblem("scale and shift are not float") }
        if let fusedAdd { e.done.insert(fusedAdd) }
        let vector = { (v: [Float]) in Tensor(elementType: .float, shape: [channels], values: v) }
        let ref = e.add(
            "BatchNormalization", n.name.isEmpty ? "batch_normalization" : n.name,
            ["axis": kerasAxis, "epsilon": eps, "center": true, "scale": true],
            inputs: [x.ref],
            weights: [
                ("gamma", vector(gamma)), ("beta", vector(beta)),
                ("moving_mean", vector([Float](repeating: 0, count: channels))),
                ("moving_variance", vector([Float](repeating: Float(1 - eps), count: channels)))
            ])
        e.values[out] = .init(ref: ref, layout: x.layout, shape: x.shape)
    }

    static func batchNorm(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        guard x.layout == .channelsFirst || x.shape.count == 2 else { throw ExportProblem("layout") }
        guard n.inputs.count >= 5 else { throw ExportProblem("missing parameters") }
        let params = try n.inputs[1...4].map { try e.constant($0) }
        let channels = x.shape.count > 1 ? x.shape[1] : nil
        guard let channels, params.allSatisfy({ Tensor.elementCount(of: $0.shape) == channels }) else {
            throw ExportProblem("parameters are not one per channel")
        }
        let ref = e.add(
            "BatchNormalization", n.name.isEmpty ? "batch_normalization" : n.name,
            ["axis": -1, "epsilon": Double(n.float("epsilon") ?? 1e-5), "center": true, "scale": true], inputs: [x.ref],
            weights: zip(["gamma", "beta", "moving_mean", "moving_variance"], params).map { ($0, $1) })
        e.values[n.outputs[0]] = .init(ref: ref, layout: x.layout, shape: x.shape)
    }

    static func pad(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.channelsFirst(n.inputs[0])
        let rank = x.shape.count, spatial = rank - 2
        guard (n.string("mode") ?? "constant") == "constant", n.inputs.count >= 2 else {
            throw ExportProblem("non-constant padding")
        }
        if n.inputs.count > 2, !n.inputs[2].isEmpty, try e.constant(n.inputs[2]).float32Values.contains(where: { $0 != 0 }) {
            throw ExportProblem("padding with a value other than 0")
        }
        let pads = try e.constantIntegers(n.inputs[1]).map { Int($0) }
        guard pads.count == 2 * rank, pads[0] == 0, pads[1] == 0, pads[rank] == 0, pads[rank + 1] == 0, spatial <= 3 else {
            throw ExportProblem("padding of the batch or channel axes")
        }
        let pairs = (0..<spatial).map { [pads[2 + $0], pads[rank + 2 + $0]] }
        let ref = e.add(
            "ZeroPadding\(spatial)D", n.name.isEmpty ? "zero_padding" : n.name,
            ["padding": spatial == 1 ? pairs[0] as Any : pairs as Any], inputs: [x.ref])
        let sizes = (0..<spatial).map { i in x.shape[i + 2].map { $0 + pairs[i][0] + pairs[i][1] } }
        e.values[n.outputs[0]] = .init(ref: ref, layout: .channelsFirst, shape: [x.shape[0], x.shape[1]] + sizes)
    }
}
