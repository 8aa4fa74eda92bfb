import FerryIR

/// Dense, the Dropout family, Flatten, Reshape, Permute, RepeatVector, Embedding.
enum CoreLayers {
    static func register(into r: inout [String: LayerConverter]) {
        r["InputLayer"] = { c in c.inputs }
        for identity in [
            "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
            "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Masking"
        ] {
            r[identity] = { c in
                if identity == "Masking" { throw c.unsupported("Masking (masks change recurrent layers' results)") }
                return c.inputs
            }
        }
        r["Dense"] = dense
        r["Flatten"] = flatten
        r["Reshape"] = { c in
            guard let target = c.config.ints("target_shape"), target.allSatisfy({ $0 == -1 || (0...(1 << 40)).contains($0) }),
                target.filter({ $0 == -1 }).count <= 1
            else { throw c.unsupported("Reshape target_shape") }
            // (N, C) -> (N, 1, ..., 1, C), as squeeze-excite blocks reshape a pooled vector: the
            // channels-first form (N, C, 1, ..., 1) holds the same elements in the same order.
            if c.x.rank == 2, target.count >= 2, let channels = c.x.shape[1], target.last == channels,
                target.dropLast().allSatisfy({ $0 == 1 })
            {
                let first = c.b.op1(
                    "Reshape", [try c.keras(c.x), c.b.int64s(c.name + "_shape", [0, channels] + target.dropLast())], name: c.name)
                return [KTensor(shape: [c.x.shape[0]] + target.map { Optional($0) }, first: first)]
            }
            let shape = c.b.int64s(c.name + "_shape", [0] + target)
            let out = c.b.op1("Reshape", [try c.keras(c.x), shape], name: c.name)
            var dims: [Int?] = [c.x.shape[0]] + target.map { $0 < 0 ? nil : $0 }
            guard let known = elementCount(target.filter { $0 >= 0 }.map { Optional($0) }) else {
                throw c.unsupported("Reshape target_shape")
            }
            if let missing = target.firstIndex(of: -1), let total = elementCount(c.x.shape.dropFirst()) {
                dims[missing + 1] = known == 0 ? 0 : total / known
            }
            return [KTensor(shape: dims, last: out)]
        }
        r["Permute"] = { c in
            guard let dims = c.config.ints("dims"), dims.sorted() == Array(1..<c.x.rank) else {
                throw c.unsupported("Permute dims")
            }
            let perm = [0] + dims
            let out = c.b.transpose(try c.keras(c.x), perm, name: c.name)
            return [KTensor(shape: perm.map { c.x.shape[$0] }, last: out)]
        }
        r["RepeatVector"] = { c in
            guard let n = c.config.int("n"), (1...(1 << 24)).contains(n), c.x.rank == 2 else {
                throw c.unsupported("RepeatVector n")
            }
            let expanded = c.b.op1(
                "Unsqueeze", [try c.keras(c.x), c.b.int64s(c.name + "_axis", [1])], name: c.name + "_unsqueeze")
            let out = c.b.op1("Tile", [expanded, c.b.int64s(c.name + "_repeats", [1, n, 1])], name: c.name)
            return [KTensor(shape: [c.x.shape[0], n, c.x.shape[1]], last: out)]
        }
        r["Embedding"] = { c in
            if c.config.bool("mask_zero") == true {
                throw c.unsupported("mask_zero=True (masks change recurrent layers' results)")
            }
            try c.expectWeights([nil])
            let w = c.weights[0]
            guard w.shape.count == 2 else {
                throw c.weightError("embeddings have shape \(w.shape), expected (vocabulary, dimension)")
            }
            let table = c.b.constant(c.name + "_embeddings", w.asFloat32)
            let ids = c.b.op1("Cast", [try c.keras(c.x)], [.int("to", Int(ElementType.int64.rawValue))], name: c.name + "_ids")
            let out = c.b.op1("Gather", [table, ids], [.int("axis", 0)], name: c.name)
            return [KTensor(shape: c.x.shape + [w.shape[1]], last: out)]
        }
        r["TimeDistributed"] = timeDistributed
    }

    static func elementCount<S: Sequence>(_ dims: S) -> Int? where S.Element == Int? {
        var n = 1
        for d in dims {
            guard let d, d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            n = p
        }
        return n
    }

    /// Dense: x·kernel + bias on the last axis. A flattened channels-first input is used as it is,
    /// with the kernel's rows put in its column order.
    static func dense(_ c: LayerCall) throws -> [KTensor] {
        guard let units = c.config.int("units") else { throw c.unsupported("Dense without units") }
        let useBias = c.config.bool("use_bias") ?? true
        let inFeatures = try c.known(c.x, c.x.rank - 1)
        try c.expectWeights(useBias ? [[inFeatures, units], [units]] : [[inFeatures, units]])
        // Keras's (in, out) kernel is already what Gemm/MatMul take: used as it is, without a copy,
        // unless its rows must follow a channels-first flattening (one pass of row copies).
        var kernel = c.weights[0].asFloat32
        let input: String
        if let flat = c.x.flatPermuted, c.x.last == nil {
            let rowBytes = units * 4
            let reordered = kernel.bytes!.withUnsafeBytes { src in
                TensorBytes(count: src.count) { dst in
                    for (i, row) in flat.order.enumerated() {
                        (dst.baseAddress! + row * rowBytes).copyMemory(from: src.baseAddress! + i * rowBytes, byteCount: rowBytes)
                    }
                }
            }
            kernel = Tensor(elementType: .float, shape: [inFeatures, units], storage: .bytes(reordered))
            input = flat.name
        } else if c.x.rank >= 3, c.x.last == nil, c.x.folded == nil, let first = c.x.first {
            // On the channels of a channels-first tensor: a 1x1 convolution keeps it channels-first.
            let w = kernel.permuted([1, 0])
            let weight = c.b.constant(
                c.name + "_kernel",
                Tensor(
                    name: "", elementType: .float, shape: [units, inFeatures] + [Int](repeating: 1, count: c.x.rank - 2),
                    storage: w.storage))
            let bias = useBias ? [c.b.constant(c.name + "_bias", c.weights[1].asFloat32)] : []
            let y = c.b.op1(
                "Conv", [first, weight] + bias, [.ints("kernel_shape", [Int](repeating: 1, count: c.x.rank - 2))], name: c.name)
            return [
                try Activations.apply(
                    c.config.activation(), to: KTensor(shape: Array(c.x.shape.dropLast()) + [units], first: y), c)
            ]
        } else if c.x.rank == 3, c.x.last == nil, let tm = c.x.timeMajor {
            // On the feature axis: the time-major form serves as it is, and stays time-major.
            input = tm
        } else {
            input = try c.keras(c.x)
        }
        let w = c.b.constant(c.name + "_kernel", kernel)
        let bias = useBias ? c.b.constant(c.name + "_bias", c.weights[1].asFloat32) : nil
        let y: String
        if c.x.rank == 2 {
            y = c.b.op1("Gemm", [input, w] + (bias.map { [$0] } ?? []), name: c.name)
        } else {
            let mm = c.b.op1("MatMul", [input, w], name: bias == nil ? c.name : c.name + "_matmul")
            y = bias.map { c.b.op1("Add", [mm, $0], name: c.name) } ?? mm
        }
        let shape = Array(c.x.shape.dropLast()) + [units]
        let out = input == c.x.timeMajor ? KTensor(shape: shape, timeMajor: y) : KTensor(shape: shape, last: y)
        return [try Activations.apply(c.config.activation(), to: out, c)]
    }

    /// Flatten in Keras order; a channels-first input is flattened as it is and marked permuted.
    static func flatten(_ c: LayerCall) throws -> [KTensor] {
        let total = elementCount(c.x.shape.dropFirst())
        let shape: [Int?] = [c.x.shape[0], total]
        if c.x.rank <= 2 { return [KTensor(shape: shape, last: try c.keras(c.x))] }
        if let first = c.x.first, c.x.last == nil, let total {
            // Column of Keras feature (s1..sk, ch) in the channels-first flattening (ch, s1..sk);
            // with one position both flattenings are the same.
            let spatial = c.x.shape.dropFirst().dropLast().map { $0! }
            if spatial.allSatisfy({ $0 == 1 }) {
                return [KTensor(shape: shape, last: c.b.op1("Flatten", [first], [.int("axis", 1)], name: c.name))]
            }
            let channels = c.x.shape.last!!
            let positions = spatial.reduce(1, *)
            var order = [Int](repeating: 0, count: total)
            for p in 0..<positions {
                for ch in 0..<channels { order[p * channels + ch] = ch * positions + p }
            }
            let out = KTensor(shape: shape)
            out.flatPermuted = (c.b.op1("Flatten", [first], [.int("axis", 1)], name: c.name), order)
            return [out]
        }
        return [KTensor(shape: shape, last: c.b.op1("Flatten", [try c.keras(c.x)], [.int("axis", 1)], name: c.name))]
    }

    /// TimeDistributed: folds time into the batch, runs the wrapped layer, unfolds.
    static func timeDistributed(_ c: LayerCall) throws -> [KTensor] {
        guard let inner = c.spec.config["layer"] as? [String: Any], let cls = inner["class_name"] as? String,
            let innerConfig = inner["config"] as? [String: Any]
        else { throw c.unsupported("TimeDistributed without a layer") }
        let steps = try c.known(c.x, 1)
        guard let convert = c.importer.converters[cls] else {
            throw KerasError.unsupportedLayer(file: c.importer.file, layer: c.name, className: "TimeDistributed(\(cls))")
        }
        let innerSpec = KerasLayerSpec(className: cls, name: c.name, config: innerConfig, calls: [])
        // A previous TimeDistributed layer's output is taken folded, as it left it.
        let folded: KTensor
        if let (f, s) = c.x.folded, s == steps {
            folded = f
        } else if ["Dense", "Activation", "Dropout"].contains(cls) {
            // Layers that act on the last axis alone need no folding: they apply per time step as they are.
            return try convert(LayerCall(importer: c.importer, spec: innerSpec, inputs: c.inputs, weights: c.weights))
        } else {
            let rest = Array(c.x.shape.dropFirst(2))
            folded = KTensor(
                shape: [nil] + rest,
                last: c.b.op1(
                    "Reshape", [try c.keras(c.x), c.b.int64s(c.name + "_fold", [-1] + rest.map { $0 ?? -1 })],
                    name: c.name + "_fold"))
        }
        let y = try convert(LayerCall(importer: c.importer, spec: innerSpec, inputs: [folded], weights: c.weights))[0]
        let yRest = Array(y.shape.dropFirst())
        guard yRest.allSatisfy({ $0 != nil }) else { throw c.unsupported("a wrapped layer with outputs of unknown size") }
        // Unfolded only when a layer other than a TimeDistributed one reads it.
        let out = KTensor(shape: [c.x.shape[0], steps] + yRest)
        out.folded = (y, steps)
        return [out]
    }
}

/// BatchNormalization and LayerNormalization.
enum NormalizationLayers {
    static func register(into r: inout [String: LayerConverter]) {
        r["BatchNormalization"] = batchNorm
        r["LayerNormalization"] = { c in
            // ONNX normalizes over all axes from `axis` on: Keras's axes must be such a trailing block.
            let rank = c.x.rank
            let axes = try (c.config.ints("axis") ?? [-1]).map { try c.axis($0, rank: rank) }.sorted()
            guard let start = axes.first, axes == Array(start..<rank) else {
                throw c.unsupported("axis \(axes) (only trailing axes)")
            }
            let shape = try (start..<rank).map { try c.known(c.x, $0) }
            let n = shape.reduce(1, *)
            let center = c.config.bool("center") ?? true, scale = c.config.bool("scale") ?? true
            try c.expectWeights((scale ? [shape] : []) + (center ? [shape] : []))
            let gamma = scale ? c.floats(0) : [Float](repeating: 1, count: n)
            let beta = center ? c.floats(scale ? 1 : 0) : [Float](repeating: 0, count: n)
            let epsilon = c.config.double("epsilon") ?? 1e-3
            if start == rank - 1, rank >= 3, c.x.last == nil, let first = c.x.first {
                return [KTensor(shape: c.x.shape, first: channelLayerNorm(c, first, gamma: gamma, beta: beta, epsilon: epsilon))]
            }
            // Over the feature axis alone, a time-major tensor serves as it is.
            let timeMajor = start == rank - 1 && rank == 3 && c.x.last == nil ? c.x.timeMajor : nil
            let y = c.b.op1(
                "LayerNormalization",
                [
                    try timeMajor ?? c.keras(c.x), c.b.floats(c.name + "_gamma", shape, gamma),
                    c.b.floats(c.name + "_beta", shape, beta)
                ],
                [.int("axis", timeMajor == nil ? start : 2), .float("epsilon", epsilon)], name: c.name)
            return [timeMajor == nil ? KTensor(shape: c.x.shape, last: y) : KTensor(shape: c.x.shape, timeMajor: y)]
        }
    }

    /// LayerNormalization over the channels of a channels-first tensor (ConvNeXt's, between depthwise
    /// convolutions), kept channels-first: ONNX's LayerNormalization takes only trailing axes, so
    /// written as (x − mean) / √(variance + ε) · gamma + beta with reductions over axis 1.
    /// tools/keras_live.py checks the exporter maps it back onto one LayerNormalization layer.
    static func channelLayerNorm(_ c: LayerCall, _ x: String, gamma: [Float], beta: [Float], epsilon: Double) -> String {
        let b = c.b, n = c.name, rank = c.x.rank
        let perChannel = [gamma.count] + [Int](repeating: 1, count: rank - 2)
        let mean = b.op1("ReduceMean", [x], [.ints("axes", [1]), .int("keepdims", 1)], name: n + "_mean")
        let centered = b.op1("Sub", [x, mean], name: n + "_centered")
        let squares = b.op1("Mul", [centered, centered], name: n + "_squares")
        let variance = b.op1("ReduceMean", [squares], [.ints("axes", [1]), .int("keepdims", 1)], name: n + "_variance")
        let deviation = b.op1(
            "Sqrt", [b.op1("Add", [variance, b.floats(n + "_epsilon", [], [Float(epsilon)])], name: n + "_plus_epsilon")],
            name: n + "_deviation")
        let normalized = b.op1("Div", [centered, deviation], name: n + "_normalized")
        let scaled = b.op1("Mul", [normalized, b.floats(n + "_gamma", perChannel, gamma)], name: n + "_scaled")
        return b.op1("Add", [scaled, b.floats(n + "_beta", perChannel, beta)], name: n)
    }

    /// Inference-time batch normalization: ONNX BatchNormalization over the channels of image-like
    /// data (made channels-first) or of [batch, features], which keeps the statistics in the file (the
    /// quantizer reads activation ranges from them; the exporter maps it back onto one layer); else
    /// x·scale + shift on the Keras axis.
    static func batchNorm(_ c: LayerCall) throws -> [KTensor] {
        let axis = try c.axis(c.config.ints("axis")?.first ?? -1, rank: c.x.rank)
        let channels = try c.known(c.x, axis)
        let center = c.config.bool("center") ?? true, scale = c.config.bool("scale") ?? true
        try c.expectWeights((scale ? [[channels]] : []) + (center ? [[channels]] : []) + [[channels], [channels]])
        var k = 0
        let gamma = scale ? c.floats(k) : [Float](repeating: 1, count: channels)
        if scale { k += 1 }
        let beta = center ? c.floats(k) : [Float](repeating: 0, count: channels)
        if center { k += 1 }
        let mean = c.floats(k), variance = c.floats(k + 1)
        let eps = c.config.double("epsilon") ?? 1e-3
        // Channels on the Keras last axis can use the channels-first form (channel axis 1).
        let useFirst = c.x.rank >= 3 && axis == c.x.rank - 1 && c.x.first != nil
        let x = useFirst ? c.x.first! : try c.keras(c.x)
        let layoutAxis = useFirst ? 1 : axis
        let rank = c.x.rank
        if useFirst || (rank == 2 && axis == 1) {
            let parameters = [("_gamma", gamma), ("_beta", beta), ("_mean", mean), ("_variance", variance)].map {
                c.b.floats(c.name + $0.0, [channels], $0.1)
            }
            let y = c.b.op1("BatchNormalization", [x] + parameters, [.float("epsilon", eps)], name: c.name)
            return [useFirst ? KTensor(shape: c.x.shape, first: y) : KTensor(shape: c.x.shape, last: y)]
        }
        var mul = [Float](), add = [Float]()
        for i in 0..<channels {
            let s = Double(gamma[i]) / (Double(variance[i]) + eps).squareRoot()
            mul.append(Float(s))
            add.append(Float(Double(beta[i]) - Double(mean[i]) * s))
        }
        var shape = [Int](repeating: 1, count: rank - layoutAxis)
        shape[0] = channels
        let scaled = c.b.op1("Mul", [x, c.b.floats(c.name + "_scale", shape, mul)], name: c.name + "_scale")
        let y = c.b.op1("Add", [scaled, c.b.floats(c.name + "_shift", shape, add)], name: c.name)
        return [useFirst ? KTensor(shape: c.x.shape, first: y) : KTensor(shape: c.x.shape, last: y)]
    }
}
