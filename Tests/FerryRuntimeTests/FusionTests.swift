import FerryIR
import FerryTestSupport
import Foundation
import Testing

@testable import FerryRuntime

/// Planner fusions (BatchNormalization / per-channel Mul and Add folded into Conv weights, activations
/// moved into Conv and Gemm) against the unfused computation done step by step in Double. The
/// profiler's node list shows which nodes were left after fusion.
@Suite struct FusionTests {
    /// A convolution the fusion tests build on; each takes a different Conv kernel path.
    struct Geometry {
        var c: Int, m: Int, group: Int, kernel: [Int], stride: Int, pad: Int, input: [Int]
    }

    static let geometries = [
        Geometry(c: 3, m: 6, group: 1, kernel: [3, 3], stride: 1, pad: 1, input: [8, 9]), // im2col
        Geometry(c: 4, m: 4, group: 4, kernel: [3, 3], stride: 2, pad: 1, input: [9, 8]), // depthwise
        Geometry(c: 3, m: 3, group: 3, kernel: [3, 3], stride: 1, pad: 1, input: [5, 21]), // depthwise 3x3 stride 1
        Geometry(c: 8, m: 5, group: 1, kernel: [1, 1], stride: 1, pad: 0, input: [6, 6]), // 1x1 direct
        Geometry(c: 4, m: 6, group: 2, kernel: [3], stride: 2, pad: 1, input: [11]) // 1-D
    ]

    typealias Expected = (shape: [Int], values: [Double])

    /// Adds X (runtime input), constant W and B and a Conv writing `output`; returns the reference result.
    func addConv(
        _ geo: Geometry, bias: Bool, to g: inout KernelGraph, rng: inout SplitMix64, output: String = "conv",
        constantWeights: Bool = true
    ) -> Expected {
        let rank = geo.kernel.count
        let x = rng.tensor([2, geo.c] + geo.input), w = rng.tensor([geo.m, geo.c / geo.group] + geo.kernel)
        let b = bias ? rng.tensor([geo.m]) : nil
        g.input("x", x)
        g.add("w", w, constant: constantWeights)
        if let b { g.constant("b", b) }
        g.node(
            "Conv", b == nil ? ["x", "w"] : ["x", "w", "b"], [output],
            [
                attr("strides", [Int](repeating: geo.stride, count: rank)),
                attr("pads", [Int](repeating: geo.pad, count: 2 * rank)),
                attr("group", geo.group)
            ])
        let out = geo.input.map { ($0 + 2 * geo.pad - geo.kernel[0]) / geo.stride + 1 }
        return (
            [2, geo.m] + out,
            referenceConv(
                x, w, bias: b?.data, group: geo.group, strides: [Int](repeating: geo.stride, count: rank),
                dilations: [Int](repeating: 1, count: rank),
                padBegin: [Int](repeating: geo.pad, count: rank), outSpatial: out)
        )
    }

    /// Elementwise through one channel value per (n, m) plane: f(value, channel).
    func perChannel(_ e: Expected, _ f: (Double, Int) -> Double) -> Expected {
        let plane = e.shape.dropFirst(2).reduce(1, *), m = e.shape[1]
        return (e.shape, e.values.enumerated().map { f($0.element, ($0.offset / plane) % m) })
    }

    /// Runs with 1 and 2 threads, checks every output and that the nodes left are `ops` (any order).
    func verify(
        _ g: KernelGraph, _ wants: [Expected], ops: [String], _ label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for t in [1, 2] {
            do {
                let profiler = Profiler()
                let outs = try g.run(threads: t, profiler: profiler)
                for (i, (out, want)) in zip(outs, wants).enumerated() {
                    assertClose(
                        out, want.values, shape: want.shape, "\(label) output \(i) threads=\(t)", sourceLocation: sourceLocation)
                }
                #expect(
                    profiler.nodes.map(\.op).sorted() == ops.sorted(), "\(label): nodes left after fusion",
                    sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(label) threads=\(t): \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    /// A channel-axis constant for an output of `rank` axes: [M, 1, ...] (or [1, M, 1, ...] with `leadingOne`).
    func channelConstant(_ v: [Float], rank: Int, leadingOne: Bool) -> HostTensor {
        HostTensor((leadingOne ? [1] : []) + [v.count] + [Int](repeating: 1, count: rank - 2), v)
    }

    @Test func convBatchNormRelu() {
        var rng = SplitMix64(seed: 31)
        for (i, geo) in Self.geometries.enumerated() {
            var g = KernelGraph()
            let conv = addConv(geo, bias: i % 2 == 0, to: &g, rng: &rng)
            let scale = rng.tensor([geo.m]), shift = rng.tensor([geo.m]), mean = rng.tensor([geo.m])
            let variance = HostTensor([geo.m], (0..<geo.m).map { _ in 0.5 + abs(rng.unit()) })
            for (name, t) in [("scale", scale), ("shift", shift), ("mean", mean), ("var", variance)] { g.constant(name, t) }
            g.node("BatchNormalization", ["conv", "scale", "shift", "mean", "var"], ["bn"], [attr("epsilon", Float(1e-3))])
            g.node("Relu", ["bn"], ["y"])
            g.outputs = ["y"]
            let want = perChannel(conv) { v, c in
                max(
                    0,
                    (v - Double(mean.data[c])) / (Double(variance.data[c]) + 1e-3).squareRoot() * Double(scale.data[c])
                        + Double(shift.data[c]))
            }
            verify(g, [want], ops: ["Conv"], "Conv(\(geo)) -> BatchNormalization -> Relu")
        }
    }

    @Test func convMulAddClip() {
        var rng = SplitMix64(seed: 32)
        for (i, geo) in Self.geometries.enumerated() {
            var g = KernelGraph()
            let conv = addConv(geo, bias: i % 2 == 1, to: &g, rng: &rng), rank = conv.shape.count
            let s = (0..<geo.m).map { _ in 3 * rng.unit() }, t = (0..<geo.m).map { _ in 2 * rng.unit() }
            g.constant("s", channelConstant(s, rank: rank, leadingOne: false))
            g.constant("t", channelConstant(t, rank: rank, leadingOne: true))
            g.constant("lo", HostTensor([], [0]))
            g.constant("hi", HostTensor([], [6]))
            g.node("Mul", i % 2 == 0 ? ["conv", "s"] : ["s", "conv"], ["scaled"])
            g.node("Add", i % 2 == 0 ? ["t", "scaled"] : ["scaled", "t"], ["shifted"])
            g.node("Clip", ["shifted", "lo", "hi"], ["y"])
            g.outputs = ["y"]
            let want = perChannel(conv) { v, c in min(6, max(0, v * Double(s[c]) + Double(t[c]))) }
            verify(g, [want], ops: ["Conv"], "Conv(\(geo)) -> Mul -> Add -> Clip(0, 6)")
        }
    }

    /// Every activation the kernels fuse, on each Conv path and on Gemm.
    static let activations: [(op: String, attributes: [Attribute], f: (Double) -> Double)] = [
        ("Relu", [], { max(0, $0) }),
        ("Sigmoid", [], { 1 / (1 + exp(-$0)) }),
        ("HardSwish", [], { $0 * min(1, max(0, $0 / 6 + 0.5)) }),
        ("LeakyRelu", [attr("alpha", Float(0.2))], { $0 < 0 ? 0.2 * $0 : $0 }),
        ("HardSigmoid", [attr("alpha", Float(0.3)), attr("beta", Float(0.4))], { min(1, max(0, 0.3 * $0 + 0.4)) })
    ]

    @Test func convActivations() {
        var rng = SplitMix64(seed: 33)
        for (geo, act) in Self.geometries.flatMap({ geo in Self.activations.map { (geo, $0) } }) {
            var g = KernelGraph()
            let conv = addConv(geo, bias: rng.bool(), to: &g, rng: &rng)
            g.node(act.op, ["conv"], ["y"], act.attributes)
            g.outputs = ["y"]
            verify(g, [(conv.shape, conv.values.map(act.f))], ops: ["Conv"], "Conv(\(geo)) -> \(act.op)")
        }
    }

    /// Gemm -> activation, small and big enough for the threaded split (m * n * k >= 2^18).
    @Test func gemmActivations() {
        var rng = SplitMix64(seed: 34)
        for ((m, n, k), act) in [(5, 8, 16), (64, 256, 32), (300, 40, 30)].flatMap({ s in Self.activations.map { (s, $0) } }) {
            let a = rng.tensor([m, k]), b = rng.tensor([n, k]), c = rng.tensor([n])
            var g = KernelGraph()
            g.input("a", a)
            g.constant("b", b)
            g.constant("c", c)
            g.node("Gemm", ["a", "b", "c"], ["gemm"], [attr("transB", 1), attr("alpha", Float(0.5))])
            g.node(act.op, ["gemm"], ["y"], act.attributes)
            g.outputs = ["y"]
            let want = referenceGemm(a, b, c, transA: false, transB: true, alpha: 0.5, beta: 1)
            verify(g, [(want.shape, want.values.map(act.f))], ops: ["Gemm"], "Gemm \(m)x\(n)x\(k) -> \(act.op)")
        }
    }

    /// Values that are graph outputs, have two readers, or come after a fused activation stay as they are.
    @Test func fusionKeepsValuesItMustNotRemove() {
        var rng = SplitMix64(seed: 35)
        let geo = Self.geometries[0], sv = (0..<geo.m).map { _ in 2 * rng.unit() - 0.5 }
        let relu: (Double) -> Double = { max(0, $0) }
        func build(_ outputs: [String], _ nodes: (inout KernelGraph) -> Void, constantWeights: Bool = true) -> (
            KernelGraph, Expected
        ) {
            var g = KernelGraph()
            let conv = addConv(geo, bias: true, to: &g, rng: &rng, constantWeights: constantWeights)
            g.constant("s", channelConstant(sv, rank: 4, leadingOne: false))
            g.constant("one", HostTensor([], [1]))
            nodes(&g)
            g.outputs = outputs
            return (g, conv)
        }
        // Conv output is also a graph output: nothing fuses into the Conv.
        var (g, conv) = build(["conv", "y"]) {
            $0.node("Mul", ["conv", "s"], ["mul"])
            $0.node("Add", ["mul", "one"], ["add"])
            $0.node("Relu", ["add"], ["y"])
        }
        var scaled = perChannel(conv) { v, c in v * Double(sv[c]) }
        verify(g, [conv, (conv.shape, scaled.values.map { relu($0 + 1) })], ops: ["Conv", "Mul", "Add", "Relu"], "conv kept")
        // The Mul output is a graph output: Mul folds in, Add and Relu stay.
        (g, conv) = build(["mul", "y"]) {
            $0.node("Mul", ["conv", "s"], ["mul"])
            $0.node("Add", ["mul", "one"], ["add"])
            $0.node("Relu", ["add"], ["y"])
        }
        scaled = perChannel(conv) { v, c in v * Double(sv[c]) }
        verify(g, [scaled, (conv.shape, scaled.values.map { relu($0 + 1) })], ops: ["Conv", "Add", "Relu"], "mul kept")
        // Two readers of the Conv output.
        (g, conv) = build(["y", "z"]) {
            $0.node("Relu", ["conv"], ["y"])
            $0.node("Sigmoid", ["conv"], ["z"])
        }
        verify(
            g, [(conv.shape, conv.values.map(relu)), (conv.shape, conv.values.map { 1 / (1 + exp(-$0)) })],
            ops: ["Conv", "Relu", "Sigmoid"], "two readers")
        // Relu then Mul: the scale must not move in front of the activation.
        (g, conv) = build(["y"]) {
            $0.node("Relu", ["conv"], ["r"])
            $0.node("Mul", ["r", "s"], ["y"])
        }
        verify(g, [perChannel(conv) { v, c in relu(v) * Double(sv[c]) }], ops: ["Conv", "Mul"], "relu before mul")
        // Weights fed at run time cannot be folded; the Relu after the Mul stays too.
        (g, conv) = build(
            ["y"],
            {
                $0.node("Mul", ["conv", "s"], ["mul"])
                $0.node("Relu", ["mul"], ["y"])
            }, constantWeights: false)
        verify(g, [perChannel(conv) { v, c in relu(v * Double(sv[c])) }], ops: ["Conv", "Mul", "Relu"], "runtime weights")
        // Gemm output is also a graph output.
        let a = rng.tensor([4, 6]), b = rng.tensor([6, 5])
        g = KernelGraph()
        g.input("a", a)
        g.constant("b", b)
        g.node("Gemm", ["a", "b"], ["gemm"])
        g.node("Relu", ["gemm"], ["y"])
        g.outputs = ["gemm", "y"]
        let gemm = referenceGemm(a, b, nil, transA: false, transB: false, alpha: 1, beta: 1)
        verify(g, [gemm, (gemm.shape, gemm.values.map(relu))], ops: ["Gemm", "Relu"], "gemm kept")
    }

    /// A scalar Add folds into the Conv; constants that vary along other axes than the channel do not.
    @Test func convConstantsThatAreNotPerChannel() {
        var rng = SplitMix64(seed: 37)
        let geo = Self.geometries[0]
        for (shape, folds) in [
            ([], true), ([1], true), ([1, 1, 1, 9], false), ([2, geo.m, 1, 1], false), ([1, geo.m, 8, 1], false)
        ] {
            var g = KernelGraph()
            let conv = addConv(geo, bias: true, to: &g, rng: &rng)
            let k = rng.tensor(shape)
            g.constant("k", k)
            g.node("Add", ["conv", "k"], ["y"])
            g.outputs = ["y"]
            let kShape = [Int](repeating: 1, count: 4 - shape.count) + shape, kStride = rowMajorStrides(kShape)
            let want = zip(allIndices(conv.shape), conv.values).map { idx, v in
                v + Double(k.data[(0..<4).reduce(0) { $0 + (kShape[$1] == 1 ? 0 : idx[$1] * kStride[$1]) }])
            }
            verify(g, [(conv.shape, want)], ops: folds ? ["Conv"] : ["Conv", "Add"], "Conv -> Add(constant \(shape))")
        }
    }

    /// Conv -> BatchNormalization -> Relu with the Conv output also a graph output (needs the
    /// BatchNormalization kernel, since it may not fold into the Conv; the Relu runs in its pass).
    @Test(
        .enabled(
            if: KernelRegistry.standard.builder(domain: "", op: "BatchNormalization", opset: 19) != nil,
            "no BatchNormalization kernel registered yet"))
    func convOutputKeptBeforeBatchNormalization() throws {
        var rng = SplitMix64(seed: 36)
        let geo = Self.geometries[0]
        var g = KernelGraph()
        let conv = addConv(geo, bias: true, to: &g, rng: &rng)
        let scale = rng.tensor([geo.m]), shift = rng.tensor([geo.m]), mean = rng.tensor([geo.m])
        let variance = HostTensor([geo.m], (0..<geo.m).map { _ in 0.5 + abs(rng.unit()) })
        for (name, t) in [("scale", scale), ("shift", shift), ("mean", mean), ("var", variance)] { g.constant(name, t) }
        g.node("BatchNormalization", ["conv", "scale", "shift", "mean", "var"], ["bn"])
        g.node("Relu", ["bn"], ["y"])
        g.outputs = ["conv", "y"]
        let bn = perChannel(conv) { v, c in
            (v - Double(mean.data[c])) / (Double(variance.data[c]) + 1e-5).squareRoot() * Double(scale.data[c])
                + Double(shift.data[c])
        }
        verify(g, [conv, (bn.shape, bn.values.map { max(0, $0) })], ops: ["Conv", "BatchNormalization"], "conv kept before BN")
    }
}
