import FerryIR
import FerryTestSupport
import Testing

/// Conv and ConvTranspose against direct loops over the ONNX definitions, each case run with 1 and
/// 2 threads (see `runAndCompare`).
@Suite struct ConvKernelTests {
    /// One convolution: shapes and attributes.
    struct Case: CustomStringConvertible {
        var n = 1, c = 3, m = 4
        var input: [Int], kernel: [Int]
        var strides: [Int], dilations: [Int], pads: [Int]
        var autoPad = "NOTSET"
        var group = 1
        var bias = true
        /// Weights and bias as initializers (plan-time geometry) rather than runtime inputs.
        var constantWeights = false
        /// Also state kernel_shape (else it comes from the weights).
        var kernelShape = false
        /// ConvTranspose only.
        var outputPadding: [Int]? = nil, outputShape: [Int]? = nil
        var description: String {
            "n=\(n) c=\(c) m=\(m) input=\(input) kernel=\(kernel) strides=\(strides) dilations=\(dilations) pads=\(pads) "
                + "auto_pad=\(autoPad) group=\(group) bias=\(bias) constW=\(constantWeights)"
                + (outputPadding.map { " output_padding=\($0)" } ?? "") + (outputShape.map { " output_shape=\($0)" } ?? "")
        }
    }

    /// Group layouts the sweeps rotate through: (C, M, group); the last is depthwise.
    static let layouts = [(3, 4, 1), (4, 6, 2), (5, 5, 5)]

    /// Builds the case, runs it with each thread count and compares with `referenceConv`.
    @discardableResult
    func check(_ p: Case, seed: UInt64, threads: [Int] = [1, 2], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var rng = SplitMix64(seed: seed)
        let rank = p.kernel.count
        let x = rng.tensor([p.n, p.c] + p.input), w = rng.tensor([p.m, p.c / p.group] + p.kernel)
        let b = p.bias ? rng.tensor([p.m]) : nil
        let axes = (0..<rank).map {
            onnxWindowAxis(
                input: p.input[$0], kernel: p.kernel[$0], stride: p.strides[$0], dilation: p.dilations[$0],
                pads: (p.pads[$0], p.pads[$0 + rank]), autoPad: p.autoPad)
        }
        let want = referenceConv(
            x, w, bias: b?.data, group: p.group, strides: p.strides, dilations: p.dilations,
            padBegin: axes.map(\.padBegin), outSpatial: axes.map(\.out))
        var g = KernelGraph()
        g.input("x", x)
        g.add("w", w, constant: p.constantWeights)
        if let b { g.add("b", b, constant: p.constantWeights) }
        var attrs = [attr("strides", p.strides), attr("dilations", p.dilations), attr("group", p.group)]
        attrs.append(p.autoPad == "NOTSET" ? attr("pads", p.pads) : attr("auto_pad", p.autoPad))
        if p.kernelShape { attrs.append(attr("kernel_shape", p.kernel)) }
        g.node("Conv", b == nil ? ["x", "w"] : ["x", "w", "b"], ["y"], attrs)
        g.outputs = ["y"]
        return runAndCompare(
            g, want: want, shape: [p.n, p.m] + axes.map(\.out), label: "Conv \(p)", threads: threads,
            sourceLocation: sourceLocation)
    }

    @Test func conv2DExplicitPads() {
        var rng = SplitMix64(seed: 1), count = 0
        let kernels = [[1, 1], [2, 2], [3, 3], [1, 3], [3, 1], [2, 3]]
        let padSets = [[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2], [0, 1, 2, 0], [2, 0, 1, 1]]
        for k in kernels {
            for s in 1...2 {
                for d in 1...2 {
                    for pads in padSets {
                        let (c, m, group) = Self.layouts[count % 3]
                        let p = Case(
                            n: rng.int(1...2), c: c, m: m, input: [rng.int(5...9), rng.int(5...9)], kernel: k, strides: [s, s],
                            dilations: [d, d], pads: pads, group: group, bias: rng.bool(), constantWeights: count % 2 == 1,
                            kernelShape: count % 4 < 2)
                        count += 1
                        if !check(p, seed: rng.next()) { return }
                    }
                }
            }
        }
        #expect(count == 120)
    }

    @Test func conv2DAutoPad() {
        var rng = SplitMix64(seed: 2), count = 0
        for mode in ["SAME_UPPER", "SAME_LOWER", "VALID"] {
            for k in [[1, 1], [2, 2], [3, 3], [2, 3]] {
                for s in 1...2 {
                    for d in 1...2 {
                        let (c, m, group) = Self.layouts[count % 3]
                        let p = Case(
                            n: rng.int(1...2), c: c, m: m, input: [rng.int(5...9), rng.int(5...9)], kernel: k,
                            strides: [s, 3 - s],
                            dilations: [d, d], pads: [0, 0, 0, 0], autoPad: mode, group: group, bias: rng.bool(),
                            constantWeights: count % 2 == 0)
                        count += 1
                        if !check(p, seed: rng.next()) { return }
                    }
                }
            }
        }
        #expect(count == 48)
    }

    /// 1x1 stride-1 unpadded (reads X directly), depthwise with a channel multiplier (general
    /// path), four groups, and 1x1 with a stride or end pad (im2col path).
    @Test func conv2DSpecialLayouts() {
        let cases = [
            Case(n: 2, c: 8, m: 16, input: [6, 7], kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0]),
            Case(
                n: 1, c: 8, m: 6, input: [5, 5], kernel: [1, 1], strides: [1, 1], dilations: [2, 2], pads: [0, 0, 0, 0], group: 2,
                bias: false, constantWeights: true),
            Case(n: 1, c: 6, m: 4, input: [5, 6], kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 1, 1]),
            Case(n: 2, c: 6, m: 4, input: [7, 6], kernel: [1, 1], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0]),
            Case(
                n: 2, c: 3, m: 6, input: [7, 7], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 3),
            Case(
                n: 1, c: 8, m: 8, input: [6, 6], kernel: [3, 3], strides: [2, 1], dilations: [1, 2], pads: [1, 2, 0, 1], group: 4,
                constantWeights: true),
            Case(
                n: 2, c: 4, m: 4, input: [9, 8], kernel: [3, 2], strides: [3, 2], dilations: [2, 1], pads: [2, 1, 1, 0], group: 4)
        ]
        for (i, p) in cases.enumerated() where !check(p, seed: UInt64(100 + i)) { return }
    }

    /// Depthwise (group = C = M) on rows wide enough for the vector loops: 3x3 stride 1 (its own
    /// AVX2 kernel, eight columns at a time between scalar edges) over widths around multiples of 8,
    /// then other kernels, strides and dilations, then rows spread over several strips.
    @Test func depthwiseWideRows() {
        var rng = SplitMix64(seed: 5), count = 0
        for width in [3, 7, 8, 9, 10, 11, 16, 17, 26, 41] {
            for pads in [[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2], [0, 2, 1, 0], [1, 0, 2, 1]] {
                let ch = rng.pick([1, 3, 8])
                let p = Case(
                    n: rng.int(1...2), c: ch, m: ch, input: [rng.int(3...6), width], kernel: [3, 3], strides: [1, 1],
                    dilations: [1, 1], pads: pads, autoPad: count % 7 == 3 ? rng.pick(["SAME_UPPER", "SAME_LOWER"]) : "NOTSET",
                    group: ch, bias: rng.bool(), constantWeights: count % 2 == 0)
                count += 1
                if !check(p, seed: rng.next()) { return }
            }
        }
        for k in [[1, 1], [2, 2], [3, 3], [1, 5], [5, 3]] {
            for s in 1...2 {
                for d in 1...2 {
                    let p = Case(
                        n: 1, c: 4, m: 4, input: [rng.int(9...13), rng.int(17...35)], kernel: k, strides: [rng.int(1...2), s],
                        dilations: [rng.int(1...2), d], pads: (0..<4).map { _ in rng.int(0...2) }, group: 4, bias: rng.bool())
                    count += 1
                    if !check(p, seed: rng.next()) { return }
                }
            }
        }
        // Rows so wide that a strip holds a few of them (several strips per plane), with columns
        // left over each row after the groups of four.
        for (k, s) in [(3, 1), (5, 2)] {
            let p = Case(
                n: 1, c: 9, m: 9, input: [19, 153], kernel: [k, k], strides: [s, s], dilations: [1, 1],
                pads: [k / 2, k / 2, k / 2, k / 2], group: 9, bias: true)
            count += 1
            if !check(p, seed: rng.next()) { return }
        }
        #expect(count == 72)
    }

    /// Big enough for the im2col tiling (576 rows: 1820 columns per 4 MiB tile, 6400 outputs) and
    /// for the threaded sgemm split along N; the same strided and dilated (1980 outputs, 2 tiles); a
    /// 3-D one (864 rows, 1213 columns per tile, 1728 outputs); a large 1x1 convolution (threaded,
    /// direct); many output channels over 64 positions (threaded split along M); stride-1 windows
    /// through padded rows read in place, with one output row and with several row tiles.
    @Test func convLargeTiledAndThreaded() {
        check(
            Case(n: 1, c: 64, m: 4, input: [80, 80], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1]),
            seed: 7)
        check(
            Case(n: 1, c: 64, m: 4, input: [90, 89], kernel: [3, 3], strides: [2, 2], dilations: [2, 1], pads: [1, 0, 2, 1]),
            seed: 10)
        check(
            Case(
                n: 1, c: 32, m: 2, input: [12, 12, 12], kernel: [3, 3, 3], strides: [1, 1, 1], dilations: [1, 1, 1],
                pads: [1, 1, 1, 1, 1, 1]), seed: 11)
        check(
            Case(
                n: 2, c: 64, m: 32, input: [32, 32], kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0],
                constantWeights: true), seed: 8)
        check(
            Case(n: 1, c: 32, m: 128, input: [8, 8], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1]),
            seed: 9)
        // few positions and deep K (threads share the rows, and first pack the tile's panels
        // together): 3x3 im2col with many output channels, the padded input read in place with
        // few, and 1x1 reading the image as B
        check(
            Case(n: 1, c: 256, m: 120, input: [8, 12], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1]),
            seed: 12)
        check(
            Case(n: 1, c: 256, m: 24, input: [8, 12], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1]),
            seed: 18)
        check(
            Case(
                n: 1, c: 1024, m: 64, input: [7, 7], kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0],
                constantWeights: true), seed: 13)
        // one output row of a stride-1 window (the padded-row path's threads share its row panels),
        // and two images with groups, asymmetric pads and a dilated 5x3 window over several row tiles
        check(
            Case(n: 1, c: 64, m: 64, input: [1, 200], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1]),
            seed: 14)
        check(
            Case(
                n: 2, c: 24, m: 36, input: [70, 41], kernel: [5, 3], strides: [1, 1], dilations: [2, 1], pads: [3, 0, 2, 2],
                group: 2, constantWeights: true), seed: 15)
        // groups too small to share one by one, shared out whole among the threads (each with its
        // own scratch): ShuffleNet's grouped 1x1 (16 x 16 x 3136 per group), and a strided 3x3
        // through im2col with an odd number of groups
        check(
            Case(
                n: 1, c: 64, m: 64, input: [56, 56], kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0],
                group: 4, constantWeights: true), seed: 16)
        check(
            Case(
                n: 2, c: 30, m: 60, input: [40, 41], kernel: [3, 3], strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1],
                group: 3, bias: true), seed: 17)
        // 1x1 with few input channels and many output channels: the image read in place as B
        check(
            Case(
                n: 1, c: 16, m: 150, input: [23, 31], kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0],
                constantWeights: true), seed: 14)
    }

    @Test func conv1DAnd3D() {
        var rng = SplitMix64(seed: 3), count = 0
        for k in 1...3 {
            for s in 1...2 {
                for d in 1...2 {
                    for (pads, mode) in [
                        ([0, 0], "NOTSET"), ([1, 1], "NOTSET"), ([2, 0], "NOTSET"), ([0, 2], "NOTSET"),
                        ([0, 0], "SAME_UPPER"), ([0, 0], "SAME_LOWER"), ([0, 0], "VALID")
                    ] {
                        let (c, m, group) = Self.layouts[count % 3]
                        let p = Case(
                            n: rng.int(1...2), c: c, m: m, input: [rng.int(5...12)], kernel: [k], strides: [s], dilations: [d],
                            pads: pads, autoPad: mode, group: group, bias: rng.bool(), constantWeights: count % 2 == 0)
                        count += 1
                        if !check(p, seed: rng.next()) { return }
                    }
                }
            }
        }
        for k in [[1, 1, 1], [2, 2, 2], [3, 3, 3], [1, 2, 3]] {
            for s in 1...2 {
                for (pads, mode) in [
                    ([0, 0, 0, 0, 0, 0], "NOTSET"), ([1, 1, 1, 1, 1, 1], "NOTSET"), ([0, 1, 2, 1, 0, 0], "NOTSET"),
                    ([0, 0, 0, 0, 0, 0], "SAME_UPPER"), ([0, 0, 0, 0, 0, 0], "VALID")
                ] {
                    let group = count % 2 + 1, d = rng.int(1...2)
                    let p = Case(
                        n: rng.int(1...2), c: 2 * group, m: 2 * group, input: (0..<3).map { _ in rng.int(5...6) }, kernel: k,
                        strides: [s, s, 3 - s], dilations: [d, 1, d], pads: pads, autoPad: mode, group: group, bias: rng.bool(),
                        constantWeights: count % 2 == 1)
                    count += 1
                    if !check(p, seed: rng.next()) { return }
                }
            }
        }
        #expect(count == 84 + 40)
    }
}

extension ConvKernelTests {
    /// ONNX ConvTranspose: each X[n, c, i] * W[c, j, k] adds into Y[n, g * M/group + j, i * stride + k * dilation - padBegin].
    /// Output sizes and pads by the operator's formulas (total padding clamped at 0 for SAME_*, as onnxruntime does).
    @discardableResult
    func checkTranspose(_ p: Case, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var rng = SplitMix64(seed: seed)
        let rank = p.kernel.count, mg = p.m / p.group, cg = p.c / p.group
        let x = rng.tensor([p.n, p.c] + p.input), w = rng.tensor([p.c, mg] + p.kernel)
        let b = p.bias ? rng.tensor([p.m]) : nil
        var out: [Int] = [], padBegin: [Int] = []
        for d in 0..<rank {
            let full = p.strides[d] * (p.input[d] - 1) + (p.outputPadding?[d] ?? 0) + (p.kernel[d] - 1) * p.dilations[d] + 1
            let target = p.outputShape?[d] ?? (p.autoPad.hasPrefix("SAME") ? p.input[d] * p.strides[d] : nil)
            if let target {
                let total = max(0, full - target)
                out.append(target)
                padBegin.append(p.autoPad == "SAME_UPPER" ? total / 2 : total - total / 2)
            } else {
                out.append(full - p.pads[d] - p.pads[d + rank])
                padBegin.append(p.pads[d])
            }
        }
        let inIdx = allIndices(p.input), kIdx = allIndices(p.kernel), outStride = rowMajorStrides(out)
        let inPlane = p.input.reduce(1, *), kPlane = p.kernel.reduce(1, *), outPlane = out.reduce(1, *)
        var want = [Double](repeating: 0, count: p.n * p.m * outPlane)
        for img in 0..<p.n {
            for ch in 0..<p.c {
                for (ip, i) in inIdx.enumerated() {
                    for (kp, k) in kIdx.enumerated() {
                        var off = 0, inside = true
                        for d in 0..<rank {
                            let o = i[d] * p.strides[d] + k[d] * p.dilations[d] - padBegin[d]
                            if o < 0 || o >= out[d] {
                                inside = false
                                break
                            }
                            off += o * outStride[d]
                        }
                        guard inside else { continue }
                        let xv = Double(x.data[(img * p.c + ch) * inPlane + ip])
                        for j in 0..<mg {
                            want[(img * p.m + (ch / cg) * mg + j) * outPlane + off] +=
                                xv * Double(w.data[(ch * mg + j) * kPlane + kp])
                        }
                    }
                }
            }
        }
        if let b { for i in want.indices { want[i] += Double(b.data[(i / outPlane) % p.m]) } }
        var g = KernelGraph()
        g.input("x", x)
        g.add("w", w, constant: p.constantWeights)
        if let b { g.add("b", b, constant: p.constantWeights) }
        var attrs = [attr("strides", p.strides), attr("dilations", p.dilations), attr("group", p.group)]
        attrs.append(p.autoPad == "NOTSET" ? attr("pads", p.pads) : attr("auto_pad", p.autoPad))
        if let op = p.outputPadding { attrs.append(attr("output_padding", op)) }
        if let os = p.outputShape { attrs.append(attr("output_shape", os)) }
        if p.kernelShape { attrs.append(attr("kernel_shape", p.kernel)) }
        g.node("ConvTranspose", b == nil ? ["x", "w"] : ["x", "w", "b"], ["y"], attrs)
        g.outputs = ["y"]
        return runAndCompare(
            g, want: want, shape: [p.n, p.m] + out, label: "ConvTranspose \(p)", threads: [1, 2], sourceLocation: sourceLocation)
    }

    /// Variants per stride/dilation/kernel: explicit pads, output_padding, output_shape, SAME_UPPER, SAME_LOWER.
    func transposeVariant(
        _ v: Int, rank: Int, input: [Int], kernel: [Int], stride: Int, dilation: Int,
        rng: inout SplitMix64
    ) -> (pads: [Int], autoPad: String, outputPadding: [Int]?, outputShape: [Int]?) {
        let zeros = [Int](repeating: 0, count: 2 * rank), op = [Int](repeating: max(stride, dilation) - 1, count: rank)
        switch v {
        case 0: return (zeros, "NOTSET", nil, nil)
        case 1: return ((0..<2 * rank).map { _ in rng.int(0...2) }, "NOTSET", nil, nil)
        case 2: return ((0..<2 * rank).map { _ in rng.int(0...1) }, "NOTSET", op, nil)
        case 3:
            let shape = (0..<rank).map { d in
                let full = stride * (input[d] - 1) + op[d] + (kernel[d] - 1) * dilation + 1
                return full - rng.int(0...min(2, full - 1))
            }
            return (zeros, rng.bool() ? "SAME_UPPER" : "NOTSET", op, shape)
        default: return (zeros, v == 4 ? "SAME_UPPER" : "SAME_LOWER", rng.bool() ? op : nil, nil)
        }
    }

    @Test func convTranspose1DAnd2D() {
        var rng = SplitMix64(seed: 4), count = 0
        let layouts = [(3, 4, 1), (4, 6, 2), (4, 4, 4)]
        for rank in 1...2 {
            for s in 1...3 {
                for k in 1...3 {
                    for v in 0...5 {
                        let (c, m, group) = layouts[count % 3], d = rng.int(1...2)
                        let input = (0..<rank).map { _ in rng.int(5...7) }, kernel = rank == 1 ? [k] : [k, rng.int(1...3)]
                        let variant = transposeVariant(
                            v, rank: rank, input: input, kernel: kernel, stride: s, dilation: d, rng: &rng)
                        let p = Case(
                            n: rng.int(1...2), c: c, m: m, input: input, kernel: kernel,
                            strides: [Int](repeating: s, count: rank),
                            dilations: [Int](repeating: d, count: rank), pads: variant.pads, autoPad: variant.autoPad,
                            group: group,
                            bias: rng.bool(), constantWeights: count % 2 == 0, kernelShape: count % 4 == 1,
                            outputPadding: variant.outputPadding, outputShape: variant.outputShape)
                        count += 1
                        if !checkTranspose(p, seed: rng.next()) { return }
                    }
                }
            }
        }
        #expect(count == 108)
    }
}
