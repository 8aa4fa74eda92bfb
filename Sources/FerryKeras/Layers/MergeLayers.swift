import FerryIR

/// Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.
enum MergeLayers {
    static func register(into r: inout [String: LayerConverter]) {
        for (cls, op) in [
            ("Add", "Sum"), ("Multiply", "Mul"), ("Average", "Mean"), ("Maximum", "Max"), ("Minimum", "Min"), ("Subtract", "Sub")
        ] {
            r[cls] = { c in
                guard c.inputs.count >= 2 else { throw c.unsupported("fewer than two inputs") }
                if op == "Sub" && c.inputs.count != 2 { throw c.unsupported("Subtract of \(c.inputs.count) inputs") }
                let shape = c.inputs[0].shape
                // Channels-first when every input already is (keeps conv blocks free of transposes).
                let useFirst = shape.count >= 3 && c.inputs.allSatisfy { $0.first != nil }
                let values = try c.inputs.map { useFirst ? $0.first! : try c.keras($0) }
                let y: String
                if op == "Mul" {
                    y = values.dropFirst().reduce(values[0]) { acc, v in c.b.op1("Mul", [acc, v], name: c.name) }
                } else {
                    y = c.b.op1(op, values, name: c.name)
                }
                return [useFirst ? KTensor(shape: shape, first: y) : KTensor(shape: shape, last: y)]
            }
        }
        r["Concatenate"] = { c in
            let rank = c.inputs[0].rank
            let axis = try c.axis(c.config.int("axis") ?? -1, rank: rank)
            guard c.inputs.allSatisfy({ $0.rank == rank }) else { throw c.unsupported("inputs of different ranks") }
            var shape = c.inputs[0].shape
            shape[axis] = c.inputs.reduce(0 as Int?) { acc, t in acc.flatMap { a in t.shape[axis].map { a + $0 } } }
            if rank >= 3 && c.inputs.allSatisfy({ $0.first != nil }) {
                let y = c.b.op1(
                    "Concat", c.inputs.map { $0.first! }, [.int("axis", KTensor.firstAxis(axis, rank: rank))], name: c.name)
                return [KTensor(shape: shape, first: y)]
            }
            let y = c.b.op1("Concat", try c.inputs.map { try c.keras($0) }, [.int("axis", axis)], name: c.name)
            return [KTensor(shape: shape, last: y)]
        }
        r["Dot"] = dot
    }

    /// Dot of two tensors along the given axes (batch dot), optionally of L2-normalised inputs.
    static func dot(_ c: LayerCall) throws -> [KTensor] {
        guard c.inputs.count == 2 else { throw c.unsupported("Dot of \(c.inputs.count) inputs") }
        let (a, b) = (c.inputs[0], c.inputs[1])
        var axes = c.config.ints("axes") ?? [-1]
        guard !axes.isEmpty, axes.count <= 2 else { throw c.unsupported("axes \(axes)") }
        if axes.count == 1 { axes = [axes[0], axes[0]] }
        axes = [axes[0] < 0 ? axes[0] + a.rank : axes[0], axes[1] < 0 ? axes[1] + b.rank : axes[1]]
        var x = try c.keras(a), y = try c.keras(b)
        if c.config.bool("normalize") == true {
            x = c.b.op1("LpNormalization", [x], [.int("axis", axes[0]), .int("p", 2)], name: c.name + "_norm_a")
            y = c.b.op1("LpNormalization", [y], [.int("axis", axes[1]), .int("p", 2)], name: c.name + "_norm_b")
        }
        switch (a.rank, b.rank, axes[0], axes[1]) {
        case (2, 2, 1, 1):
            let prod = c.b.op1("Mul", [x, y], name: c.name + "_mul")
            return [
                KTensor(
                    shape: [a.shape[0], 1],
                    last: c.b.op1("ReduceSum", [prod, c.b.int64s(c.name + "_axes", [1])], [.int("keepdims", 1)], name: c.name))
            ]
        case (3, 3, 2, 2):
            let yt = c.b.transpose(y, [0, 2, 1], name: c.name + "_t")
            return [KTensor(shape: [a.shape[0], a.shape[1], b.shape[1]], last: c.b.op1("MatMul", [x, yt], name: c.name))]
        case (3, 3, 2, 1):
            return [KTensor(shape: [a.shape[0], a.shape[1], b.shape[2]], last: c.b.op1("MatMul", [x, y], name: c.name))]
        case (3, 3, 1, 1):
            let xt = c.b.transpose(x, [0, 2, 1], name: c.name + "_t")
            return [KTensor(shape: [a.shape[0], a.shape[2], b.shape[2]], last: c.b.op1("MatMul", [xt, y], name: c.name))]
        default:
            throw c.unsupported("Dot of ranks \(a.rank), \(b.rank) on axes \(axes)")
        }
    }
}

/// ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D.
enum ReshapingLayers {
    static func register(into r: inout [String: LayerConverter]) {
        for (cls, dims) in [("ZeroPadding1D", 1), ("ZeroPadding2D", 2), ("ZeroPadding3D", 3)] {
            r[cls] = { c in
                let p = try pairs(c, "padding", dims)
                let x = try c.channelsFirst(c.x)
                // Channels-first pads: batch, channels, then the spatial axes.
                let pads = [0, 0] + p.map { $0.0 } + [0, 0] + p.map { $0.1 }
                let y = c.b.op1("Pad", [x, c.b.int64s(c.name + "_pads", pads)], name: c.name)
                var shape = c.x.shape
                for i in 0..<dims { shape[i + 1] = shape[i + 1].map { $0 + p[i].0 + p[i].1 } }
                return [KTensor(shape: shape, first: y)]
            }
        }
        for (cls, dims) in [("Cropping1D", 1), ("Cropping2D", 2), ("Cropping3D", 3)] {
            r[cls] = { c in
                let p = try pairs(c, "cropping", dims)
                // A time-major sequence is cropped on its first axis and stays time-major.
                let timeMajor = dims == 1 && c.x.first == nil ? c.x.timeMajor : nil
                let x = try timeMajor ?? c.channelsFirst(c.x)
                let starts = p.map { $0.0 }, ends = p.map { $0.1 == 0 ? Int(Int64.max) : -$0.1 }
                let y = c.b.op1(
                    "Slice",
                    [
                        x, c.b.int64s(c.name + "_starts", starts), c.b.int64s(c.name + "_ends", ends),
                        c.b.int64s(c.name + "_axes", timeMajor == nil ? Array(2..<(2 + dims)) : [0])
                    ], name: c.name)
                var shape = c.x.shape
                for i in 0..<dims { shape[i + 1] = shape[i + 1].map { $0 - p[i].0 - p[i].1 } }
                return [timeMajor == nil ? KTensor(shape: shape, first: y) : KTensor(shape: shape, timeMajor: y)]
            }
        }
        for (cls, dims) in [("UpSampling1D", 1), ("UpSampling2D", 2)] {
            r[cls] = { c in
                let size =
                    c.config.ints("size").map { $0.count == 1 ? [Int](repeating: $0[0], count: dims) : $0 }
                    ?? [Int](repeating: 2, count: dims)
                guard size.count == dims, size.allSatisfy({ (1...4096).contains($0) }), c.x.rank == dims + 2 else {
                    throw c.unsupported("size \(size)")
                }
                let mode = c.config.string("interpolation") ?? "nearest"
                // A time-major sequence is repeated on its first axis and stays time-major.
                let timeMajor = dims == 1 && c.x.first == nil ? c.x.timeMajor : nil
                let x = try timeMajor ?? c.channelsFirst(c.x)
                let scales = c.b.floats(
                    c.name + "_scales", [dims + 2], timeMajor == nil ? [1, 1] + size.map(Float.init) : [Float(size[0]), 1, 1])
                var attrs: [Attribute]
                switch mode {
                case "nearest":
                    attrs = [
                        .string("mode", "nearest"), .string("coordinate_transformation_mode", "asymmetric"),
                        .string("nearest_mode", "floor")
                    ]
                case "bilinear": attrs = [.string("mode", "linear"), .string("coordinate_transformation_mode", "half_pixel")]
                default: throw c.unsupported("interpolation '\(mode)'")
                }
                let y = c.b.op1("Resize", [x, "", scales], attrs, name: c.name)
                var shape = c.x.shape
                for i in 0..<dims { shape[i + 1] = shape[i + 1].map { $0 * size[i] } }
                return [timeMajor == nil ? KTensor(shape: shape, first: y) : KTensor(shape: shape, timeMajor: y)]
            }
        }
    }

    /// A padding or cropping option as (before, after) per spatial axis.
    static func pairs(_ c: LayerCall, _ key: String, _ dims: Int) throws -> [(Int, Int)] {
        guard c.x.rank == dims + 2 else { throw c.unsupported("a rank-\(c.x.rank) input for \(dims)-D \(key)") }
        let p = try rawPairs(c, key, dims)
        guard p.count == dims, p.allSatisfy({ (0...(1 << 20)).contains($0.0) && (0...(1 << 20)).contains($0.1) }) else {
            throw c.unsupported("\(key) \(p.map { [$0.0, $0.1] })")
        }
        return p
    }

    private static func rawPairs(_ c: LayerCall, _ key: String, _ dims: Int) throws -> [(Int, Int)] {
        let raw = c.config.dict[key]
        if let n = (raw as? NSNumberLike)?.intValue { return [(Int, Int)](repeating: (n, n), count: dims) }
        guard let list = raw as? [Any] else { throw c.unsupported("\(key) \(String(describing: raw))") }
        if dims == 1 {
            let v = list.compactMap { ($0 as? NSNumberLike)?.intValue }
            guard v.count == 2 else { throw c.unsupported("\(key) \(list)") }
            return [(v[0], v[1])]
        }
        return try list.map { item in
            if let n = (item as? NSNumberLike)?.intValue { return (n, n) }
            guard let pair = item as? [Any], pair.count == 2, let a = (pair[0] as? NSNumberLike)?.intValue,
                let b = (pair[1] as? NSNumberLike)?.intValue
            else {
                throw c.unsupported("\(key) \(list)")
            }
            return (a, b)
        }
    }
}
