import FerryIR
import FerryTestSupport
import Foundation
import Testing

@testable import FerryRuntime

/// A residual Add (or two-input Sum) after a Conv (ResNet's and MobileNetV3's skip connections) runs in the Conv's
/// output pass, before the activation that follows it, on every Conv path; against the unfused
/// computation in float64. Residuals that broadcast, come later in the node order, or would have to
/// be scaled by a following BatchNormalization are handled without wrong results.
extension FusionTests {
    @Test func convTakesResidualAddAndActivation() {
        var rng = SplitMix64(seed: 38)
        for (i, geo) in Self.geometries.enumerated() {
            var g = KernelGraph()
            let conv = addConv(geo, bias: i % 2 == 0, to: &g, rng: &rng)
            let r = rng.tensor(conv.shape)
            g.input("r", r)
            g.node(i % 3 == 2 ? "Sum" : "Add", i % 2 == 0 ? ["conv", "r"] : ["r", "conv"], ["sum"])
            g.node("Relu", ["sum"], ["y"])
            g.outputs = ["y"]
            let want = zip(conv.values, r.data).map { max(0, $0 + Double($1)) }
            verify(g, [(conv.shape, want)], ops: ["Conv"], "Conv(\(geo)) -> Add(residual) -> Relu")
        }
    }

    /// A run-time value that broadcasts over the Conv output is added after the convolution, with the
    /// activation after it; a BatchNormalization after the residual stays a node of its own.
    @Test func convResidualThatBroadcastsOrPrecedesScaling() {
        var rng = SplitMix64(seed: 39)
        for geo in Self.geometries {
            var g = KernelGraph()
            let conv = addConv(geo, bias: true, to: &g, rng: &rng), rank = conv.shape.count
            let perChannelShape = [1, geo.m] + [Int](repeating: 1, count: rank - 2)
            let r = rng.tensor(perChannelShape)
            g.input("r", r)
            g.node("Add", ["conv", "r"], ["sum"])
            g.node("Sigmoid", ["sum"], ["y"])
            g.outputs = ["y"]
            let broadcast = perChannel(conv) { v, c in 1 / (1 + exp(-(v + Double(r.data[c])))) }
            verify(g, [broadcast], ops: ["Conv"], "Conv(\(geo)) -> Add(run-time [1, M, 1...]) -> Sigmoid")

            var scaled = KernelGraph()
            let conv2 = addConv(geo, bias: false, to: &scaled, rng: &rng)
            let z = rng.tensor(conv2.shape), s = (0..<geo.m).map { _ in 2 * rng.unit() }
            scaled.input("z", z)
            scaled.constant("s", channelConstant(s, rank: rank, leadingOne: true))
            scaled.node("Add", ["z", "conv"], ["sum"])
            scaled.node("Mul", ["sum", "s"], ["y"])
            scaled.outputs = ["y"]
            let sum: Expected = (conv2.shape, zip(conv2.values, z.data).map { $0 + Double($1) })
            verify(
                scaled, [perChannel(sum) { v, c in v * Double(s[c]) }], ops: ["Conv", "Mul"],
                "Conv(\(geo)) -> Add(residual) -> Mul(per channel)")
        }
    }

    /// The residual is computed by a node listed after the Conv: the Add stays where it is.
    @Test func convResidualComputedLaterIsNotFused() {
        var rng = SplitMix64(seed: 40)
        let geo = Self.geometries[0]
        var g = KernelGraph()
        let conv = addConv(geo, bias: true, to: &g, rng: &rng)
        let r = rng.tensor(conv.shape)
        g.input("r", r)
        g.node("Neg", ["r"], ["negated"])
        g.node("Add", ["conv", "negated"], ["y"])
        g.outputs = ["y"]
        let want = zip(conv.values, r.data).map { $0 - Double($1) }
        verify(g, [(conv.shape, want)], ops: ["Conv", "Neg", "Add"], "Conv, Neg(r), Add")
        var twice = KernelGraph()
        let conv2 = addConv(geo, bias: false, to: &twice, rng: &rng)
        twice.node("Add", ["conv", "conv"], ["y"])
        twice.outputs = ["y"]
        verify(twice, [(conv2.shape, conv2.values.map { 2 * $0 })], ops: ["Conv", "Add"], "Conv + itself")
    }
}
