import FerryIR

/// Conv1D/2D/3D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose: computed channels-first.
enum ConvolutionLayers {
    static func register(into r: inout [String: LayerConverter]) {
        for (cls, dims) in [
            ("Conv1D", 1), ("Conv2D", 2), ("Conv3D", 3), ("Convolution1D", 1), ("Convolution2D", 2), ("Convolution3D", 3)
        ] {
            r[cls] = { c in try conv(c, spatial: dims) }
        }
        r["DepthwiseConv2D"] = depthwise
        r["SeparableConv2D"] = separable
        r["Conv2DTranspose"] = { c in try transposed(c, spatial: 2) }
        r["Conv1DTranspose"] = { c in try transposed(c, spatial: 1) }
    }

    /// Geometry of one sliding-window op over the spatial axes of a channels-last input.
    struct Window {
        let kernel: [Int], strides: [Int], dilations: [Int]
        let padding: String

        init(_ c: LayerCall, spatial: Int, kernelKey: String = "kernel_size", defaultStrides: [Int]? = nil) throws {
            func expand(_ v: [Int]?, _ fallback: Int) -> [Int] {
                guard let v else { return [Int](repeating: fallback, count: spatial) }
                return v.count == 1 ? [Int](repeating: v[0], count: spatial) : v
            }
            guard let k = c.config.ints(kernelKey) else { throw c.unsupported("no \(kernelKey)") }
            kernel = expand(k, 1)
            strides = c.config.ints("strides").map { expand($0, 1) } ?? (defaultStrides ?? kernel)
            dilations = expand(c.config.ints("dilation_rate"), 1)
            padding = c.config.string("padding") ?? "valid"
            if (c.config.string("data_format") ?? "channels_last") != "channels_last" {
                throw c.unsupported("data_format channels_first")
            }
            guard ["valid", "same", "causal"].contains(padding) else { throw c.unsupported("padding '\(padding)'") }
            guard c.x.rank == spatial + 2 else { throw c.unsupported("a rank-\(c.x.rank) input for a \(spatial)-D window") }
            for (key, v) in [("kernel", kernel), ("strides", strides), ("dilation_rate", dilations)] {
                guard v.count == spatial, v.allSatisfy({ (1...65536).contains($0) }) else { throw c.unsupported("\(key) \(v)") }
            }
        }

        /// ONNX pads (all begins, then all ends) and output sizes for the input's spatial sizes.
        func pads(_ sizes: [Int?]) -> (pads: [Int]?, out: [Int?]) {
            var begin = [Int](), end = [Int](), out = [Int?]()
            for i in kernel.indices {
                let k = (kernel[i] - 1) * dilations[i] + 1
                guard let n = sizes[i] else {
                    // Unknown size: valid and causal pads do not depend on it, nor do same pads at stride 1.
                    switch padding {
                    case "valid":
                        begin.append(0)
                        end.append(0)
                    case "causal":
                        begin.append(k - 1)
                        end.append(0)
                    default:
                        guard strides[i] == 1 else { return (nil, sizes.map { _ in nil }) }
                        begin.append((k - 1) / 2)
                        end.append(k - 1 - (k - 1) / 2)
                    }
                    out.append(nil)
                    continue
                }
                switch padding {
                case "same":
                    let o = (n + strides[i] - 1) / strides[i]
                    let total = max((o - 1) * strides[i] + k - n, 0)
                    begin.append(total / 2)
                    end.append(total - total / 2)
                    out.append(o)
                case "causal":
                    begin.append(k - 1)
                    end.append(0)
                    out.append((n + k - 1 - k) / strides[i] + 1)
                default:
                    begin.append(0)
                    end.append(0)
                    out.append(n >= k ? (n - k) / strides[i] + 1 : 0)
                }
            }
            return (begin + end, out)
        }

        func attributes(_ c: LayerCall, _ sizes: [Int?]) throws -> ([Attribute], [Int?]) {
            let (p, out) = pads(sizes)
            let dilated = dilations.contains(where: { $0 != 1 })
            var attrs: [Attribute] = [.ints("kernel_shape", kernel), .ints("strides", strides)]
            if dilated { attrs.append(.ints("dilations", dilations)) }
            if let p {
                attrs.append(.ints("pads", p))
            } else {
                // ONNX has no dilated SAME padding of unknown sizes.
                guard !dilated else { throw c.unsupported("dilated 'same' padding of an input of unknown size") }
                attrs.append(.string("auto_pad", "SAME_UPPER"))
            }
            return (attrs, out)
        }
    }

    static func spatialSizes(_ x: KTensor) -> [Int?] { Array(x.shape.dropFirst().dropLast()) }

    static func conv(_ c: LayerCall, spatial: Int) throws -> [KTensor] {
        guard let filters = c.config.int("filters") else { throw c.unsupported("no filters") }
        let w = try Window(c, spatial: spatial, defaultStrides: [Int](repeating: 1, count: spatial))
        let groups = c.config.int("groups") ?? 1
        let inChannels = try c.known(c.x, c.x.rank - 1)
        guard groups >= 1, inChannels % groups == 0, filters % groups == 0, filters >= 1 else {
            throw c.unsupported("groups \(groups) with \(inChannels) inputs and \(filters) filters")
        }
        let useBias = c.config.bool("use_bias") ?? true
        try c.expectWeights([w.kernel + [inChannels / groups, filters]] + (useBias ? [[filters]] : []))
        // Keras (k..., in, out) -> ONNX (out, in, k...)
        let kernel = c.weights[0].permuted([spatial + 1, spatial] + Array(0..<spatial))
        let (attrs, out) = try w.attributes(c, spatialSizes(c.x))
        var inputs = [try c.channelsFirst(c.x), c.b.constant(c.name + "_kernel", kernel)]
        if useBias { inputs.append(c.b.floats(c.name + "_bias", [filters], c.floats(1))) }
        let y = c.b.op1("Conv", inputs, attrs + (groups > 1 ? [.int("group", groups)] : []), name: c.name)
        let t = KTensor(shape: [c.x.shape[0]] + out + [filters], first: y)
        return [try Activations.apply(c.config.activation(), to: t, c)]
    }

    static func depthwise(_ c: LayerCall) throws -> [KTensor] {
        let w = try Window(c, spatial: 2, defaultStrides: [1, 1])
        let multiplier = c.config.int("depth_multiplier") ?? 1
        let inChannels = try c.known(c.x, 3)
        let useBias = c.config.bool("use_bias") ?? true
        try c.expectWeights([w.kernel + [inChannels, multiplier]] + (useBias ? [[inChannels * multiplier]] : []))
        let kernel = depthwiseKernel(c.weights[0], w.kernel, inChannels, multiplier)
        let (attrs, out) = try w.attributes(c, spatialSizes(c.x))
        var inputs = [try c.channelsFirst(c.x), c.b.constant(c.name + "_kernel", kernel)]
        if useBias { inputs.append(c.b.floats(c.name + "_bias", [inChannels * multiplier], c.floats(1))) }
        let y = c.b.op1("Conv", inputs, attrs + [.int("group", inChannels)], name: c.name)
        let t = KTensor(shape: [c.x.shape[0]] + out + [inChannels * multiplier], first: y)
        return [try Activations.apply(c.config.activation(), to: t, c)]
    }

    /// Keras (kh, kw, in, mult) -> ONNX (in·mult, 1, kh, kw): output channel ch·mult + m.
    static func depthwiseKernel(_ k: Tensor, _ size: [Int], _ inChannels: Int, _ multiplier: Int) -> Tensor {
        let p = k.permuted([2, 3, 0, 1]) // (in, mult, kh, kw)
        var t = p
        t.shape = [inChannels * multiplier, 1] + size
        return t
    }

    static func separable(_ c: LayerCall) throws -> [KTensor] {
        guard let filters = c.config.int("filters") else { throw c.unsupported("no filters") }
        let w = try Window(c, spatial: 2, defaultStrides: [1, 1])
        let multiplier = c.config.int("depth_multiplier") ?? 1
        let inChannels = try c.known(c.x, 3)
        let useBias = c.config.bool("use_bias") ?? true
        try c.expectWeights(
            [w.kernel + [inChannels, multiplier], [1, 1, inChannels * multiplier, filters]] + (useBias ? [[filters]] : []))
        let (attrs, out) = try w.attributes(c, spatialSizes(c.x))
        let dw = c.b.op1(
            "Conv",
            [
                try c.channelsFirst(c.x),
                c.b.constant(c.name + "_depthwise", depthwiseKernel(c.weights[0], w.kernel, inChannels, multiplier))
            ],
            attrs + [.int("group", inChannels)], name: c.name + "_depthwise")
        var inputs = [dw, c.b.constant(c.name + "_pointwise", c.weights[1].permuted([3, 2, 0, 1]))]
        if useBias { inputs.append(c.b.floats(c.name + "_bias", [filters], c.floats(2))) }
        let y = c.b.op1("Conv", inputs, [.ints("kernel_shape", [1, 1])], name: c.name)
        let t = KTensor(shape: [c.x.shape[0]] + out + [filters], first: y)
        return [try Activations.apply(c.config.activation(), to: t, c)]
    }

    /// Conv1DTranspose / Conv2DTranspose as ONNX ConvTranspose with TF's padding.
    static func transposed(_ c: LayerCall, spatial: Int) throws -> [KTensor] {
        guard let filters = c.config.int("filters") else { throw c.unsupported("no filters") }
        let w = try Window(c, spatial: spatial, defaultStrides: [Int](repeating: 1, count: spatial))
        let inChannels = try c.known(c.x, c.x.rank - 1)
        let useBias = c.config.bool("use_bias") ?? true
        try c.expectWeights([w.kernel + [filters, inChannels]] + (useBias ? [[filters]] : []))
        // Keras (k..., out, in) -> ONNX (in, out, k...)
        let kernel = c.weights[0].permuted([spatial + 1, spatial] + Array(0..<spatial))
        let outputPadding = c.config.ints("output_padding")
        if let op = outputPadding, op.count != 1 && op.count != spatial || op.contains(where: { $0 < 0 || $0 > 65536 }) {
            throw c.unsupported("output_padding \(op)")
        }
        var begin = [Int](), end = [Int](), extra = [Int](), out = [Int?]()
        for i in 0..<spatial {
            let n = try c.known(c.x, i + 1)
            let k = (w.kernel[i] - 1) * w.dilations[i] + 1, s = w.strides[i]
            let op = outputPadding.map { $0.count == 1 ? $0[0] : $0[i] }
            // Keras's deconv_output_length.
            let same = w.padding == "same"
            let size = op.map { (n - 1) * s + k - 2 * (same ? k / 2 : 0) + $0 } ?? (same ? n * s : n * s + max(k - s, 0))
            let total = (n - 1) * s + k - size
            if total >= 0 {
                let b = w.padding == "same" ? total / 2 : 0
                begin.append(b)
                end.append(total - b)
                extra.append(0)
            } else {
                begin.append(0)
                end.append(0)
                extra.append(-total)
            }
            out.append(size)
        }
        var attrs: [Attribute] = [.ints("kernel_shape", w.kernel), .ints("strides", w.strides), .ints("pads", begin + end)]
        if w.dilations.contains(where: { $0 != 1 }) { attrs.append(.ints("dilations", w.dilations)) }
        if extra.contains(where: { $0 != 0 }) { attrs.append(.ints("output_padding", extra)) }
        var inputs = [try c.channelsFirst(c.x), c.b.constant(c.name + "_kernel", kernel)]
        if useBias { inputs.append(c.b.floats(c.name + "_bias", [filters], c.floats(1))) }
        let y = c.b.op1("ConvTranspose", inputs, attrs, name: c.name)
        let t = KTensor(shape: [c.x.shape[0]] + out + [filters], first: y)
        return [try Activations.apply(c.config.activation(), to: t, c)]
    }
}

/// Max/AveragePooling1D/2D/3D and the global poolings.
enum PoolingLayers {
    static func register(into r: inout [String: LayerConverter]) {
        for (cls, op, dims) in [
            ("MaxPooling1D", "MaxPool", 1), ("MaxPooling2D", "MaxPool", 2), ("MaxPooling3D", "MaxPool", 3),
            ("AveragePooling1D", "AveragePool", 1), ("AveragePooling2D", "AveragePool", 2),
            ("AveragePooling3D", "AveragePool", 3),
            ("MaxPool1D", "MaxPool", 1), ("MaxPool2D", "MaxPool", 2), ("AvgPool1D", "AveragePool", 1),
            ("AvgPool2D", "AveragePool", 2)
        ] {
            r[cls] = { c in
                let w = try ConvolutionLayers.Window(c, spatial: dims, kernelKey: "pool_size")
                let (attrs, out) = try w.attributes(c, ConvolutionLayers.spatialSizes(c.x))
                // TF averages over the valid part of each window only (count_include_pad = 0).
                let y = c.b.op1(op, [try c.channelsFirst(c.x)], attrs, name: c.name)
                return [KTensor(shape: [c.x.shape[0]] + out + [c.x.shape.last!], first: y)]
            }
        }
        for (cls, op) in [
            ("GlobalAveragePooling1D", "ReduceMean"), ("GlobalAveragePooling2D", "ReduceMean"),
            ("GlobalAveragePooling3D", "ReduceMean"),
            ("GlobalMaxPooling1D", "ReduceMax"), ("GlobalMaxPooling2D", "ReduceMax"), ("GlobalMaxPooling3D", "ReduceMax"),
            ("GlobalAvgPool1D", "ReduceMean"), ("GlobalAvgPool2D", "ReduceMean"), ("GlobalMaxPool1D", "ReduceMax"),
            ("GlobalMaxPool2D", "ReduceMax")
        ] {
            r[cls] = { c in
                let keep = c.config.bool("keepdims") ?? false
                let rank = c.x.rank
                guard rank >= 3 else { throw c.unsupported("global pooling of a rank-\(rank) input") }
                let outShape: [Int?] =
                    keep
                    ? [c.x.shape[0]] + [Int?](repeating: 1, count: rank - 2) + [c.x.shape.last!] : [c.x.shape[0], c.x.shape.last!]
                if let first = c.x.first {
                    let y = c.b.op1(op, [first], [.ints("axes", Array(2..<rank)), .int("keepdims", keep ? 1 : 0)], name: c.name)
                    return [keep ? KTensor(shape: outShape, first: y) : KTensor(shape: outShape, last: y)]
                }
                if rank == 3, !keep, c.x.last == nil, let tm = c.x.timeMajor {
                    return [
                        KTensor(shape: outShape, last: c.b.op1(op, [tm], [.ints("axes", [0]), .int("keepdims", 0)], name: c.name))
                    ]
                }
                let y = c.b.op1(
                    op, [try c.keras(c.x)], [.ints("axes", Array(1..<(rank - 1))), .int("keepdims", keep ? 1 : 0)], name: c.name)
                return [KTensor(shape: outShape, last: y)]
            }
        }
    }
}
