import FerryIR
import FerryTestSupport
import Foundation
import Testing

@testable import FerryRuntime

/// A MatMul by a constant matrix (a Linear layer as torch exports it) takes the bias Add after it
/// and the activation after that into its output pass; against float64 references, for one row,
/// a few rows (the matrix-vector path) and a batch of rows folded from leading axes. Any float
/// MatMul takes a Div or Mul by a scalar constant after it (attention's scaled scores) as a factor.
extension FusionTests {
    /// a [rows x k] · w [k x n] + bias [n] in float64, row-major.
    private static func linear(_ a: [Float], _ w: [Float], _ bias: [Float], k: Int, n: Int) -> [Double] {
        let rows = a.count / k
        var out = [Double](repeating: 0, count: rows * n)
        for r in 0..<rows {
            for j in 0..<n {
                var s = Double(bias[j])
                for t in 0..<k { s += Double(a[r * k + t]) * Double(w[t * n + j]) }
                out[r * n + j] = s
            }
        }
        return out
    }

    @Test func matMulTakesBiasAndActivation() throws {
        for (i, aShape) in [[1, 37], [3, 37], [2, 9, 37]].enumerated() {
            var rng = SplitMix64(seed: 100 + UInt64(i))
            let k = 37, n = 21
            let a = rng.tensor(aShape), w = rng.tensor([k, n]), bias = rng.tensor([n])
            var g = KernelGraph()
            g.input("a", a)
            g.constant("w", w)
            g.constant("bias", bias)
            g.node("MatMul", ["a", "w"], ["m"])
            g.node("Add", ["bias", "m"], ["s"])
            g.node("Gelu", ["s"], ["y"])
            g.outputs = ["y"]
            let profiler = Profiler()
            let out = try g.run(threads: 1, profiler: profiler)
            let want = Self.linear(a.data, w.data, bias.data, k: k, n: n).map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
            assertClose(out[0], want, shape: Array(aShape.dropLast()) + [n], "A \(aShape)")
            #expect(profiler.nodes.map(\.op) == ["MatMul"], "A \(aShape)")
        }
    }

    /// A weight over the packing limit (16 MB: an LLM's 4096 x 1024 projection) is not packed, so
    /// its bias Add stays a node of its own: it used to be fused anyway and the plan was refused.
    @Test func aMatrixTooLargeToPackKeepsItsBiasAdd() throws {
        var rng = SplitMix64(seed: 130)
        let k = 4096, n = 1025
        let a = rng.tensor([2, k]), w = rng.tensor([k, n]), bias = rng.tensor([n])
        var g = KernelGraph()
        g.input("a", a)
        g.constant("w", w)
        g.constant("bias", bias)
        g.node("MatMul", ["a", "w"], ["m"])
        g.node("Add", ["m", "bias"], ["y"])
        g.outputs = ["y"]
        let profiler = Profiler()
        let out = try g.run(threads: 1, profiler: profiler)
        assertClose(out[0], Self.linear(a.data, w.data, bias.data, k: k, n: n), shape: [2, n], "A [2, \(k)]")
        #expect(profiler.nodes.map(\.op) == ["MatMul", "Add"])
    }

    /// Attention's scores, batched Q · K^T (both at run time) divided by a scalar, and a Linear
    /// layer scaled by Mul before its bias: one node each, with the float64 product times the factor.
    @Test func matMulTakesAScalarFactor() throws {
        var rng = SplitMix64(seed: 120)
        let q = rng.tensor([2, 3, 5, 8]), kt = rng.tensor([2, 3, 8, 7])
        var g = KernelGraph()
        g.input("q", q)
        g.input("kt", kt)
        g.constant("d", HostTensor([], [2.5]))
        g.node("MatMul", ["q", "kt"], ["s"])
        g.node("Div", ["s", "d"], ["y"])
        g.outputs = ["y"]
        let profiler = Profiler()
        let out = try g.run(threads: 2, profiler: profiler)
        var want: [Double] = []
        for h in 0..<6 {
            let qh = Array(q.data[(h * 40)..<(h * 40 + 40)]), kh = Array(kt.data[(h * 56)..<(h * 56 + 56)])
            want += Self.linear(qh, kh, [Float](repeating: 0, count: 7), k: 8, n: 7).map { $0 / 2.5 }
        }
        assertClose(out[0], want, shape: [2, 3, 5, 7], "scores / 2.5")
        #expect(profiler.nodes.map(\.op) == ["MatMul"])

        let a = rng.tensor([3, 37]), w = rng.tensor([37, 21]), bias = rng.tensor([21])
        var linear = KernelGraph()
        linear.input("a", a)
        linear.constant("w", w)
        linear.constant("c", HostTensor([], [-0.75]))
        linear.constant("bias", bias)
        linear.node("MatMul", ["a", "w"], ["m"])
        linear.node("Mul", ["c", "m"], ["s"])
        linear.node("Add", ["s", "bias"], ["y"])
        linear.outputs = ["y"]
        let linearProfile = Profiler()
        let got = try linear.run(threads: 1, profiler: linearProfile)
        let product = Self.linear(a.data, w.data, [Float](repeating: 0, count: 21), k: 37, n: 21)
        assertClose(
            got[0], product.enumerated().map { -0.75 * $0.element + Double(bias.data[$0.offset % 21]) }, shape: [3, 21],
            "0.75 m + bias")
        #expect(linearProfile.nodes.map(\.op) == ["MatMul"])
    }

    /// A Linear layer's residual (a run-time value of the output's shape, as a transformer adds its
    /// input back) joins the output pass after the bias and before the activation; one that
    /// broadcasts is added after the product; a scalar Mul after a residual is not taken as the
    /// product's factor.
    @Test func matMulTakesResidual() throws {
        var rng = SplitMix64(seed: 130)
        let k = 37, n = 21
        for (i, residualShape) in [[2, 9, n], [n], [2, 1, n]].enumerated() {
            let a = rng.tensor([2, 9, k]), w = rng.tensor([k, n]), bias = rng.tensor([n]), r = rng.tensor(residualShape)
            var g = KernelGraph()
            g.input("a", a)
            g.input("r", r)
            g.constant("w", w)
            g.constant("bias", bias)
            g.node("MatMul", ["a", "w"], ["m"])
            g.node("Add", ["m", "bias"], ["s"])
            g.node("Add", i == 1 ? ["r", "s"] : ["s", "r"], ["t"])
            g.node("Relu", ["t"], ["y"])
            g.outputs = ["y"]
            let profiler = Profiler()
            let out = try g.run(threads: 2, profiler: profiler)
            let rStrides = rowMajorStrides([Int](repeating: 1, count: 3 - residualShape.count) + residualShape)
            let want = Self.linear(a.data, w.data, bias.data, k: k, n: n).enumerated().map { idx, v in
                let (row, col) = idx.quotientAndRemainder(dividingBy: n)
                let (b, i) = row.quotientAndRemainder(dividingBy: 9)
                let at = (residualShape.count == 3 ? b * rStrides[0] : 0) + (residualShape == [2, 9, n] ? i * rStrides[1] : 0)
                return max(0, v + Double(r.data[at + col]))
            }
            assertClose(out[0], want, shape: [2, 9, n], "residual \(residualShape)")
            #expect(profiler.nodes.map(\.op) == ["MatMul"], "residual \(residualShape)")
        }
        let a = rng.tensor([3, 8]), w = rng.tensor([8, 5]), r = rng.tensor([3, 5])
        var g = KernelGraph()
        g.input("a", a)
        g.input("r", r)
        g.constant("w", w)
        g.constant("c", HostTensor([], [-2]))
        g.node("MatMul", ["a", "w"], ["m"])
        g.node("Add", ["m", "r"], ["s"])
        g.node("Mul", ["s", "c"], ["y"])
        g.outputs = ["y"]
        let profiler = Profiler()
        let out = try g.run(threads: 1, profiler: profiler)
        let want = Self.linear(a.data, w.data, [Float](repeating: 0, count: 5), k: 8, n: 5).enumerated().map {
            -2 * ($0.element + Double(r.data[$0.offset]))
        }
        assertClose(out[0], want, shape: [3, 5], "(a w + r) * -2")
        #expect(profiler.nodes.map(\.op) == ["MatMul", "Mul"])
    }

    /// What the MatMul cannot take stays a node of its own: an Add after a runtime B (no packed
    /// output pass), a factor that is not a scalar (one value per column).
    @Test(arguments: ["Add", "Div"])
    func matMulKeepsWhatItCannotTake(_ op: String) throws {
        var rng = SplitMix64(seed: op == "Add" ? 110 : 121)
        let a = rng.tensor([4, 6]), w = rng.tensor([6, 5]), c = rng.tensor([5])
        var g = KernelGraph()
        g.input("a", a)
        g.input("w", w)
        g.constant("c", c)
        g.node("MatMul", ["a", "w"], ["m"])
        g.node(op, ["m", "c"], ["y"])
        g.outputs = ["y"]
        let profiler = Profiler()
        let out = try g.run(threads: 1, profiler: profiler)
        let product = Self.linear(a.data, w.data, [Float](repeating: 0, count: 5), k: 6, n: 5)
        let want = product.enumerated().map { i, v in op == "Add" ? v + Double(c.data[i % 5]) : v / Double(c.data[i % 5]) }
        assertClose(out[0], want, shape: [4, 5], "m \(op) c")
        #expect(profiler.nodes.map(\.op) == ["MatMul", op])
    }
}
