import FerryIR
import FerryTestSupport
import Testing

/// MaxPool, AveragePool and the global pools against direct loops over the ONNX definitions, each
/// case run with 1 and 2 threads (which must agree exactly: pooling does not use BLAS).
@Suite struct PoolKernelTests {
    /// One 2-D pooling.
    struct Case: CustomStringConvertible {
        var op = "MaxPool"
        var n = 1, c = 2
        var input: [Int], kernel: [Int], strides: [Int], dilations: [Int], pads: [Int]
        var autoPad = "NOTSET"
        var ceil = false
        var countIncludePad = false
        /// MaxPool: also ask for the Indices output, in this storage_order.
        var indices = false, storageOrder = 0
        var description: String {
            "\(op) n=\(n) c=\(c) input=\(input) kernel=\(kernel) strides=\(strides) dilations=\(dilations) pads=\(pads) "
                + "auto_pad=\(autoPad) ceil_mode=\(ceil) count_include_pad=\(countIncludePad) indices=\(indices) storage_order=\(storageOrder)"
        }
    }

    /// Values and (for MaxPool) flat argmax indices over the whole input tensor. A tap counts for
    /// count_include_pad when it lies in the explicitly padded input [-padBegin, size + padEnd).
    func reference(_ p: Case, _ x: HostTensor) -> (shape: [Int], values: [Double], indices: [Double]) {
        let (h, w) = (p.input[0], p.input[1])
        let ax = (0..<2).map {
            onnxWindowAxis(
                input: p.input[$0], kernel: p.kernel[$0], stride: p.strides[$0], dilation: p.dilations[$0],
                pads: (p.pads[$0], p.pads[$0 + 2]), autoPad: p.autoPad, ceil: p.ceil)
        }
        var values: [Double] = [], indices: [Double] = []
        for plane in 0..<p.n * p.c {
            for oy in 0..<ax[0].out {
                for ox in 0..<ax[1].out {
                    var best = -Double.infinity, at = -1, sum = 0.0, valid = 0, padded = 0
                    for ki in 0..<p.kernel[0] {
                        for kj in 0..<p.kernel[1] {
                            let iy = oy * p.strides[0] - ax[0].padBegin + ki * p.dilations[0]
                            let ix = ox * p.strides[1] - ax[1].padBegin + kj * p.dilations[1]
                            if iy < h + ax[0].padEnd && ix < w + ax[1].padEnd { padded += 1 }
                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                            let v = Double(x.data[(plane * h + iy) * w + ix])
                            valid += 1
                            sum += v
                            if v > best {
                                best = v
                                at = plane * h * w + (p.storageOrder == 0 ? iy * w + ix : ix * h + iy)
                            }
                        }
                    }
                    values.append(p.op == "MaxPool" ? best : sum / Double(p.countIncludePad ? padded : valid))
                    indices.append(Double(at))
                }
            }
        }
        return ([p.n, p.c, ax[0].out, ax[1].out], values, indices)
    }

    @discardableResult
    func check(_ p: Case, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var rng = SplitMix64(seed: seed)
        let x = rng.tensor([p.n, p.c] + p.input)
        let want = reference(p, x)
        var g = KernelGraph()
        g.input("x", x)
        var attrs = [
            attr("kernel_shape", p.kernel), attr("strides", p.strides), attr("dilations", p.dilations),
            attr("ceil_mode", p.ceil ? 1 : 0)
        ]
        attrs.append(p.autoPad == "NOTSET" ? attr("pads", p.pads) : attr("auto_pad", p.autoPad))
        if p.op == "AveragePool" { attrs.append(attr("count_include_pad", p.countIncludePad ? 1 : 0)) }
        if p.indices { attrs.append(attr("storage_order", p.storageOrder)) }
        g.node(p.op, ["x"], p.indices ? ["y", "i"] : ["y"], attrs)
        g.outputs = p.indices ? ["y", "i"] : ["y"]
        var first: [HostTensor]?
        for t in [1, 2] {
            do {
                let out = try g.run(threads: t)
                guard assertClose(out[0], want.values, shape: want.shape, "\(p) threads=\(t)", sourceLocation: sourceLocation)
                else { return false }
                if p.indices {
                    guard
                        assertClose(
                            out[1], want.indices, shape: want.shape, "\(p) Indices threads=\(t)", rtol: 0,
                            sourceLocation: sourceLocation)
                    else { return false }
                }
                if let first, first.map(\.data) != out.map(\.data) {
                    Issue.record("\(p): threads=1 and threads=\(t) differ", sourceLocation: sourceLocation)
                    return false
                }
                first = out
            } catch {
                Issue.record("\(p) threads=\(t): \(error)", sourceLocation: sourceLocation)
                return false
            }
        }
        return true
    }

    /// The three pools the sweeps rotate through: MaxPool, AveragePool without and with padding counted.
    func kind(_ i: Int) -> (op: String, include: Bool) {
        [("MaxPool", false), ("AveragePool", false), ("AveragePool", true)][i % 3]
    }

    @Test func pool2DExplicitPads() {
        var rng = SplitMix64(seed: 11), count = 0
        for k in [[2, 2], [3, 3], [2, 3]] {
            for s in 1...2 {
                for pads in [[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0]] {
                    for ceil in [false, true] {
                        for v in 0..<3 {
                            let (op, include) = kind(v), d = rng.int(1...2), withIndices = op == "MaxPool" && count % 2 == 0
                            let p = Case(
                                op: op, n: rng.int(1...2), c: rng.int(2...3), input: [rng.int(5...9), rng.int(5...9)], kernel: k,
                                strides: [s, rng.int(1...2)], dilations: [d, rng.int(1...2)], pads: pads, ceil: ceil,
                                countIncludePad: include, indices: withIndices, storageOrder: withIndices ? rng.int(0...1) : 0)
                            count += 1
                            if !check(p, seed: rng.next()) { return }
                        }
                    }
                }
            }
        }
        #expect(count == 108)
    }

    @Test func pool2DAutoPad() {
        var rng = SplitMix64(seed: 12), count = 0
        for mode in ["SAME_UPPER", "SAME_LOWER", "VALID"] {
            for k in [[2, 2], [3, 3], [2, 3]] {
                for s in 1...2 {
                    for v in 0..<3 {
                        let (op, include) = kind(v)
                        let p = Case(
                            op: op, n: rng.int(1...2), c: rng.int(2...3), input: [rng.int(5...9), rng.int(5...9)], kernel: k,
                            strides: [s, s], dilations: [1, rng.int(1...2)], pads: [0, 0, 0, 0], autoPad: mode,
                            countIncludePad: include, indices: op == "MaxPool", storageOrder: count % 2)
                        count += 1
                        if !check(p, seed: rng.next()) { return }
                    }
                }
            }
        }
        #expect(count == 54)
    }

    /// ceil_mode windows that would start in the right padding are dropped: 5 + 1 + 1 with kernel
    /// 2, stride 2 gives 3 outputs (not 4), and the last window's divisor counts only the end pad.
    @Test func ceilModeDropsWindowStartingInPadding() {
        for (v, include) in [(0, false), (1, false), (2, true)] {
            check(
                Case(
                    op: kind(v).op, input: [5, 5], kernel: [2, 2], strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1],
                    ceil: true,
                    countIncludePad: include, indices: v == 0), seed: 13)
            check(
                Case(
                    op: kind(v).op, input: [6, 7], kernel: [3, 3], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0],
                    ceil: true,
                    countIncludePad: include), seed: 14)
        }
    }

    @Test func globalPools() throws {
        var rng = SplitMix64(seed: 15)
        for shape in [[2, 3, 5, 7], [1, 4, 3, 4, 5], [2, 3, 9], [1, 2, 1, 1], [3, 70, 16, 16]] {
            let x = rng.tensor(shape)
            let planes = shape[0] * shape[1], size = shape.dropFirst(2).reduce(1, *)
            let outShape = Array(shape.prefix(2)) + [Int](repeating: 1, count: shape.count - 2)
            for op in ["GlobalAveragePool", "GlobalMaxPool"] {
                let want = (0..<planes).map { i -> Double in
                    let vals = x.data[i * size..<(i + 1) * size].map(Double.init)
                    return op == "GlobalMaxPool" ? vals.max()! : vals.reduce(0, +) / Double(size)
                }
                var g = KernelGraph()
                g.input("x", x)
                g.node(op, ["x"], ["y"])
                g.outputs = ["y"]
                for t in [1, 2] { assertClose(try g.run(threads: t)[0], want, shape: outShape, "\(op) \(shape) threads=\(t)") }
            }
        }
    }
}
