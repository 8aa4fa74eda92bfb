import FerryIR
import FerryRuntime
import FerryTestSupport
import Testing

/// Gemm and MatMul against direct loops, each case run with 1 and 2 threads (see `runAndCompare`).
@Suite struct GemmKernelTests {
    /// One Gemm: sizes, attributes and C's shape (nil: no C input).
    struct Case: CustomStringConvertible {
        var m: Int, n: Int, k: Int
        var transA = false, transB = false
        var alpha: Float = 1, beta: Float = 1
        var cShape: [Int]?
        var constantB = false
        var description: String {
            "Gemm m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB) alpha=\(alpha) beta=\(beta) C=\(cShape.map { "\($0)" } ?? "none") constB=\(constantB)"
        }
    }

    @discardableResult
    func check(_ p: Case, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var rng = SplitMix64(seed: seed)
        let a = rng.tensor(p.transA ? [p.k, p.m] : [p.m, p.k]), b = rng.tensor(p.transB ? [p.n, p.k] : [p.k, p.n])
        let c = p.cShape.map { rng.tensor($0) }
        let want = referenceGemm(a, b, c, transA: p.transA, transB: p.transB, alpha: Double(p.alpha), beta: Double(p.beta))
        var g = KernelGraph()
        g.input("a", a)
        g.add("b", b, constant: p.constantB)
        if let c { g.input("c", c) }
        g.node(
            "Gemm", c == nil ? ["a", "b"] : ["a", "b", "c"], ["y"],
            [attr("transA", p.transA ? 1 : 0), attr("transB", p.transB ? 1 : 0), attr("alpha", p.alpha), attr("beta", p.beta)])
        g.outputs = ["y"]
        return runAndCompare(g, want: want.values, shape: want.shape, label: "\(p)", sourceLocation: sourceLocation)
    }

    /// C's shapes for [M, N]: none, [N], [1, N], [M, 1], [M, N], scalar, [1], [1, 1].
    func cShapes(_ m: Int, _ n: Int) -> [[Int]?] { [nil, [n], [1, n], [m, 1], [m, n], [], [1], [1, 1]] }

    @Test func gemmSmallSweep() {
        var rng = SplitMix64(seed: 21), count = 0
        let scales: [(Float, Float)] = [(1, 1), (0.5, -2), (2, 0), (-1.5, 0.25)]
        for transA in [false, true] {
            for transB in [false, true] {
                for ci in 0..<8 {
                    for _ in 0..<2 {
                        let m = rng.pick([1, 2, 5, 7]), n = rng.pick([1, 3, 6, 9]), k = rng.pick([1, 4, 8])
                        let (alpha, beta) = scales[count % 4]
                        let p = Case(
                            m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta, cShape: cShapes(m, n)[ci],
                            constantB: count % 2 == 1)
                        count += 1
                        if !check(p, seed: rng.next()) { return }
                    }
                }
            }
        }
        #expect(count == 64)
    }

    /// m * n * k >= minimumParallelWork (2^21) with 2 threads: split along N when N >= 128, else along M.
    @Test func gemmThreadedSplits() {
        var rng = SplitMix64(seed: 22), count = 0
        for (m, n, k) in [(33, 300, 220), (300, 40, 180)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    for cShape in [[m, 1], [n]] {
                        let p = Case(
                            m: m, n: n, k: k, transA: transA, transB: transB, alpha: 0.75, beta: 1.5, cShape: cShape,
                            constantB: transB)
                        count += 1
                        if !check(p, seed: rng.next()) { return }
                    }
                }
            }
        }
        #expect(count == 16)
    }

    /// NumPy matmul: 1-D operands promoted (and their axis dropped), batch axes broadcast.
    func referenceMatMul(_ a: HostTensor, _ b: HostTensor) -> (shape: [Int], values: [Double]) {
        let sa = a.shape.count == 1 ? [1] + a.shape : a.shape, sb = b.shape.count == 1 ? b.shape + [1] : b.shape
        let m = sa[sa.count - 2], k = sa[sa.count - 1], n = sb[sb.count - 1]
        let ba = Array(sa.dropLast(2)), bb = Array(sb.dropLast(2)), rank = max(ba.count, bb.count)
        let pa = [Int](repeating: 1, count: rank - ba.count) + ba, pb = [Int](repeating: 1, count: rank - bb.count) + bb
        let batch = zip(pa, pb).map { max($0, $1) }
        var values: [Double] = []
        for idx in allIndices(batch) {
            let ia = zip(idx, pa).reduce(0) { $0 * $1.1 + ($1.1 == 1 ? 0 : $1.0) },
                ib = zip(idx, pb).reduce(0) { $0 * $1.1 + ($1.1 == 1 ? 0 : $1.0) }
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for t in 0..<k { s += Double(a.data[(ia * m + i) * k + t]) * Double(b.data[(ib * k + t) * n + j]) }
                    values.append(s)
                }
            }
        }
        var shape = batch + [m, n]
        if a.shape.count == 1 { shape.remove(at: shape.count - 2) }
        if b.shape.count == 1 { shape.removeLast() }
        return (shape, values)
    }

    @Test func matMulBroadcasting() {
        var rng = SplitMix64(seed: 23)
        let shapes: [([Int], [Int])] = [
            ([3, 4], [4, 5]), ([2, 1, 3, 4], [3, 4, 5]), ([4], [4, 5]), ([3, 4], [4]), ([4], [4]), ([2, 3, 3, 4], [4]),
            ([4], [2, 4, 5]),
            ([3, 3, 4], [4, 5]), ([3, 4], [2, 4, 5]), ([1, 3, 4], [4, 4, 5]), ([2, 1, 3, 4], [1, 3, 4, 5]), ([2, 3, 0], [0, 4]),
            ([2, 3, 0], [2, 0, 4]),
            ([4, 64, 64], [64, 64]), ([2, 32, 64], [64, 256]), ([3, 40, 50], [3, 50, 60])
        ]
        for (sa, sb) in shapes {
            let a = rng.tensor(sa), b = rng.tensor(sb)
            let want = referenceMatMul(a, b)
            var g = KernelGraph()
            g.input("a", a)
            g.input("b", b)
            g.node("MatMul", ["a", "b"], ["y"])
            g.outputs = ["y"]
            if !runAndCompare(g, want: want.values, shape: want.shape, label: "MatMul \(sa) x \(sb)") { return }
        }
    }

    @Test func matMulInt64() throws {
        var rng = SplitMix64(seed: 24)
        for (sa, sb) in [([2, 1, 3, 4], [3, 4, 5]), ([4], [4, 5]), ([3, 4], [4]), ([3, 3, 4], [4, 2])] as [([Int], [Int])] {
            let a = HostTensor(sa, (0..<sa.reduce(1, *)).map { _ in Float(rng.int(-50...50)) })
            let b = HostTensor(sb, (0..<sb.reduce(1, *)).map { _ in Float(rng.int(-50...50)) })
            let want = referenceMatMul(a, b)
            var g = KernelGraph()
            g.input("a", int64: a.data.map { Int64($0) }, shape: sa)
            g.input("b", int64: b.data.map { Int64($0) }, shape: sb)
            g.node("MatMul", ["a", "b"], ["y"])
            g.outputs = ["y"]
            if !runAndCompare(g, want: want.values, shape: want.shape, label: "MatMul int64 \(sa) x \(sb)", rtol: 0) { return }
            #expect(try InferenceSession(model: g.model).run(g.feeds)[0].tensor.elementType == .int64)
        }
    }
}
