import FerryIR
import FerryTestSupport
import Testing

@testable import FerryRuntime

/// A BatchNormalization that follows no convolution taking over the per-channel Mul, Add and Relu
/// after it (DenseNet's pre-activation blocks), against the step-by-step computation in Double.
extension FusionTests {
    /// X -> BatchNormalization -> Mul(s) -> Add(t) -> Relu, with `s` and `t` of the given shapes.
    private func batchNormSteps(x: HostTensor, s: HostTensor, t: HostTensor, rng: inout SplitMix64) -> (KernelGraph, Expected) {
        let c = x.shape[1]
        let scale = rng.tensor([c]), shift = rng.tensor([c]), mean = rng.tensor([c])
        let variance = HostTensor([c], (0..<c).map { _ in 0.5 + abs(rng.unit()) })
        var g = KernelGraph()
        g.input("x", x)
        for (name, v) in [("scale", scale), ("shift", shift), ("mean", mean), ("var", variance), ("s", s), ("t", t)] {
            g.constant(name, v)
        }
        g.node("BatchNormalization", ["x", "scale", "shift", "mean", "var"], ["bn"], [attr("epsilon", Float(1e-3))])
        g.node("Mul", ["bn", "s"], ["scaled"])
        g.node("Add", ["t", "scaled"], ["shifted"])
        g.node("Relu", ["shifted"], ["y"])
        g.outputs = ["y"]
        // Reference: the normalization, then NumPy broadcasting of s and t, then Relu.
        let plane = x.shape.dropFirst(2).reduce(1, *)
        let normalized = x.data.enumerated().map { i, v -> Double in
            let ch = (i / plane) % c
            let inverse: Double = 1 / (Double(variance.data[ch]) + 1e-3).squareRoot()
            return (Double(v) - Double(mean.data[ch])) * inverse * Double(scale.data[ch]) + Double(shift.data[ch])
        }
        let shape = broadcastShape(broadcastShape(x.shape, s.shape), t.shape)
        let values = allIndices(shape).map { idx -> Double in
            max(
                0,
                element(normalized, x.shape, idx) * element(s.data.map(Double.init), s.shape, idx)
                    + element(t.data.map(Double.init), t.shape, idx))
        }
        return (g, (shape, values))
    }

    /// The value of a row-major tensor of `shape` at output index `idx` under NumPy broadcasting.
    private func element(_ data: [Double], _ shape: [Int], _ idx: [Int]) -> Double {
        let lead = idx.count - shape.count, strides = rowMajorStrides(shape)
        return data[shape.indices.reduce(0) { $0 + (shape[$1] == 1 ? 0 : idx[lead + $1] * strides[$1]) }]
    }

    private func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
        let n = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: n - a.count) + a, pb = [Int](repeating: 1, count: n - b.count) + b
        return zip(pa, pb).map { max($0, $1) }
    }

    @Test func batchNormalizationTakesPerChannelMulAddRelu() {
        var rng = SplitMix64(seed: 41)
        let c = 5
        for spatial in [[6, 7], [9], []] {
            let rank = spatial.count + 2
            let s = channelConstant((0..<c).map { _ in 3 * rng.unit() }, rank: rank, leadingOne: false)
            let t = channelConstant((0..<c).map { _ in rng.unit() }, rank: rank, leadingOne: true)
            let (g, want) = batchNormSteps(x: rng.tensor([2, c] + spatial), s: s, t: t, rng: &rng)
            verify(g, [want], ops: ["BatchNormalization"], "BatchNormalization(rank \(rank)) -> Mul -> Add -> Relu")
        }
        // A scalar factor is per-channel for any rank.
        let (g, want) = batchNormSteps(
            x: rng.tensor([1, c, 4, 3]), s: HostTensor([], [1.5]), t: HostTensor([1], [-0.25]), rng: &rng)
        verify(g, [want], ops: ["BatchNormalization"], "BatchNormalization -> Mul(scalar) -> Add(scalar) -> Relu")
    }

    /// Constants laid out for a 4-D input meet a 3-D one: [C, 1, 1] broadcast against [1, C, L] is
    /// not per-channel (it makes a [C, C, L] result), so the steps run as the separate ops would.
    @Test func batchNormalizationStepsThatAreNotPerChannel() {
        var rng = SplitMix64(seed: 42)
        let c = 4
        let s = HostTensor([c, 1, 1], (0..<c).map { _ in 2 * rng.unit() }),
            t = HostTensor([c, 1], (0..<c).map { _ in rng.unit() })
        let (g, want) = batchNormSteps(x: rng.tensor([1, c, 6]), s: s, t: t, rng: &rng)
        #expect(want.shape == [c, c, 6])
        verify(g, [want], ops: ["BatchNormalization"], "BatchNormalization([1, C, L]) -> Mul([C, 1, 1]) -> Add([C, 1]) -> Relu")
    }
}
