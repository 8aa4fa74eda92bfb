import FerryIR
import FerryTestSupport
import Testing

@testable import FerryRuntime

/// The spelled-out hard swish exporters write (PaddlePaddle, TF): x * clip(x + 3, 0, 6) / 6, as
/// Add, Clip, Mul, Div (or Div before Mul) becomes one HardSwish fused into the Conv before it.
extension FusionTests {
    @Test func spelledOutHardSwishIsRecognisedAndFused() throws {
        let geo = FusionTests.geometries[0]
        for divFirst in [false, true] {
            var rng = SplitMix64(seed: divFirst ? 7 : 8)
            var g = KernelGraph()
            let conv = addConv(geo, bias: true, to: &g, rng: &rng)
            g.constant("three", HostTensor([], [3]))
            g.constant("zero", HostTensor([], [0]))
            g.constant("six", HostTensor([], [6]))
            g.node("Add", ["conv", "three"], ["a"])
            g.node("Clip", ["a", "zero", "six"], ["c"])
            if divFirst {
                g.node("Div", ["c", "six"], ["d"])
                g.node("Mul", ["conv", "d"], ["y"])
            } else {
                g.node("Mul", ["conv", "c"], ["m"])
                g.node("Div", ["m", "six"], ["y"])
            }
            g.outputs = ["y"]
            let want = conv.values.map { $0 * min(max($0 + 3, 0), 6) / 6 }
            let profiler = Profiler()
            let out = try g.run(threads: 1, profiler: profiler)
            assertClose(out[0], want, shape: conv.shape, "hard swish (div first: \(divFirst))")
            #expect(profiler.nodes.map(\.op) == ["Conv"])
        }
    }

    @Test func patternWithAnotherReaderIsLeftAlone() throws {
        var rng = SplitMix64(seed: 9)
        var g = KernelGraph()
        let x = rng.tensor([2, 5])
        g.input("x", x)
        g.constant("three", HostTensor([], [3]))
        g.constant("zero", HostTensor([], [0]))
        g.constant("six", HostTensor([], [6]))
        g.node("Add", ["x", "three"], ["a"])
        g.node("Clip", ["a", "zero", "six"], ["c"])
        g.node("Mul", ["x", "c"], ["m"])
        g.node("Div", ["m", "six"], ["y"])
        g.outputs = ["y", "c"]
        let profiler = Profiler()
        let out = try g.run(threads: 1, profiler: profiler)
        let xs = x.data.map(Double.init)
        assertClose(out[0], xs.map { $0 * min(max($0 + 3, 0), 6) / 6 }, shape: [2, 5], "y")
        assertClose(out[1], xs.map { min(max($0 + 3, 0), 6) }, shape: [2, 5], "c")
        #expect(profiler.nodes.map(\.op) == ["Add", "Clip", "Mul", "Div"])
    }
}
