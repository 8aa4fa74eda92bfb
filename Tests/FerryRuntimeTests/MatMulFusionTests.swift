import FerryIR
import FerryTestSupport
import Foundation
import Testing

@testable import FerryRuntime

/// A MatMul by a constant matrix (a Linear layer as torch exports it) takes the bias Add after it
/// and the activation after that into its output pass; against float64 references, for one row,
/// a few rows (the matrix-vector path) and a batch of rows folded from leading axes.
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

    @Test func matMulByARuntimeMatrixKeepsItsAdd() throws {
        var rng = SplitMix64(seed: 110)
        let a = rng.tensor([4, 6]), w = rng.tensor([6, 5]), bias = rng.tensor([5])
        var g = KernelGraph()
        g.input("a", a)
        g.input("w", w)
        g.constant("bias", bias)
        g.node("MatMul", ["a", "w"], ["m"])
        g.node("Add", ["m", "bias"], ["y"])
        g.outputs = ["y"]
        let profiler = Profiler()
        let out = try g.run(threads: 1, profiler: profiler)
        assertClose(out[0], Self.linear(a.data, w.data, bias.data, k: 6, n: 5), shape: [4, 5], "runtime B")
        #expect(profiler.nodes.map(\.op) == ["MatMul", "Add"])
    }
}
