import CKernels
import FerryIR
import FerryTestSupport
import Testing

/// The float GEMM (sgemm.c) against loops written here that take the kernel's own order of
/// operations: each element of C is one chain of multiply-adds over k in order, restarted every
/// FERRY_SGEMM_DEPTH_BLOCK (256) k and added to C block by block; fused multiply-adds on the AVX2
/// and AVX-512 paths (and wherever the compiler contracts the portable loop, as on arm64), a
/// product then a sum on x86's portable path. So every result must equal the reference bit for
/// bit, under every instruction-set limit.
@Suite struct SGemmKernelTests {
    static let isas = kernelISALimits.map(\.isa)
    /// Steps of k per block (FERRY_SGEMM_DEPTH_BLOCK).
    static let depthBlock = Int(FERRY_SGEMM_DEPTH_BLOCK)
    /// (m, n, k): single elements, one tile, partial tiles (last panels of 1 to 8 columns), K past
    /// one block (256) and two, M past one block (120), k = 0, one column (matrix times vector:
    /// eight row panels at a time and the rest).
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (6, 16, 8), (7, 17, 3), (5, 40, 300), (13, 33, 513), (121, 18, 20), (3, 5, 0), (2, 48, 256),
        (8, 52, 40), (11, 196, 30), (4, 3, 270), (17, 23, 9), (59, 1, 600), (13, 1, 40)
    ]

    /// Runs `body` with the calling thread limited to `isa`; true when the active path fuses.
    func limited<R>(to isa: Int32, _ body: (_ fused: Bool) -> R) -> R {
        withKernelISA(isa) {
            #if arch(arm64)
                let fused = true
            #else
                let fused = String(cString: ferry_isa_active_name()) != "portable"
            #endif
            return body(fused)
        }
    }

    /// C = A B (A m x k, B k x n, both row-major) in the kernel's order.
    static func reference(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, fused: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var total: Float = 0
                for k0 in stride(from: 0, to: k, by: Self.depthBlock) {
                    var sum: Float = 0
                    for kk in k0..<min(k0 + Self.depthBlock, k) {
                        let (x, y) = (a[i * k + kk], b[kk * n + j])
                        sum = fused ? sum.addingProduct(x, y) : sum + x * y
                    }
                    total = k0 == 0 ? sum : total + sum
                }
                c[i * n + j] = total
            }
        }
        return c
    }

    /// Expects the same bits everywhere; names the first element that differs.
    static func expectIdentical(
        _ got: [Float], _ want: [Float], _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let bad = got.indices.first { $0 >= want.count || got[$0].bitPattern != want[$0].bitPattern }
        #expect(
            got.count == want.count && bad == nil,
            "\(what): element \(bad ?? got.count) is \(bad.map { got[$0] } ?? .nan), want \(bad.map { want[$0] } ?? .nan)",
            sourceLocation: sourceLocation)
    }

    static func random(_ count: Int, _ rng: inout SplitMix64) -> [Float] { (0..<count).map { _ in rng.unit() } }

    /// A packed the way layers pack their weights: from A, or from its transpose with `trans`.
    static func packA(_ a: [Float], m: Int, k: Int, trans: Bool) -> [Float] {
        var packed = [Float](repeating: .nan, count: ferry_sgemm_packed_a_size(m, k))
        if trans {
            var t = [Float](repeating: 0, count: m * k)
            for i in 0..<m { for kk in 0..<k { t[kk * m + i] = a[i * k + kk] } }
            ferry_sgemm_pack_a(t, m, 1, m, k, &packed)
        } else {
            ferry_sgemm_pack_a(a, k, 0, m, k, &packed)
        }
        return packed
    }

    @Test(arguments: isas)
    func prepackedMatchesTheReference(isa: Int32) {
        var rng = SplitMix64(seed: 7)
        for (m, n, k) in Self.shapes {
            let a = Self.random(m * k, &rng), b = Self.random(k * n, &rng)
            let trans = rng.bool()
            var packedB = [Float](repeating: .nan, count: ferry_sgemm_packed_b_size(n, k))
            ferry_pack_b_panels(b, n, k, n, &packedB)
            let ldc = n + 3
            var c = [Float](repeating: .nan, count: m * ldc)
            let want = limited(to: isa) { fused in
                ferry_sgemm_prepacked(m, n, k, Self.packA(a, m: m, k: k, trans: trans), packedB, &c, ldc)
                return Self.reference(a, b, m: m, n: n, k: k, fused: fused)
            }
            let got = (0..<m).flatMap { c[($0 * ldc)..<($0 * ldc + n)] }
            Self.expectIdentical(got, want, "m \(m) n \(n) k \(k) (A \(trans ? "transposed" : "as is"))")
        }
    }

    @Test(arguments: isas)
    func rowsReadInPlaceMatchTheReference(isa: Int32) {
        var rng = SplitMix64(seed: 11)
        for (m, n, k) in Self.shapes {
            let a = Self.random(m * k, &rng), ldb = n + 5
            var b = [Float](repeating: .nan, count: max(1, k * ldb))
            var dense = [Float](repeating: 0, count: k * n)
            for kk in 0..<k {
                for j in 0..<n {
                    let v = rng.unit()
                    b[kk * ldb + j] = v
                    dense[kk * n + j] = v
                }
            }
            var c = [Float](repeating: .nan, count: m * n)
            var tail = [Float](repeating: .nan, count: max(1, k * 16))
            let want = limited(to: isa) { fused in
                ferry_sgemm_rows(m, n, k, Self.packA(a, m: m, k: k, trans: false), b, ldb, &c, n, &tail)
                return Self.reference(a, dense, m: m, n: n, k: k, fused: fused)
            }
            Self.expectIdentical(c, want, "m \(m) n \(n) k \(k)")
        }
    }

    /// Products with a constant right-hand matrix packed once (`ferry_sgemm_pack_b`, W as k x n or
    /// transposed): up to four rows of A take the matrix-vector path, one chain of multiply-adds per
    /// element with no K blocks; more rows the blocked GEMM. Whole and partial column ranges, C
    /// stored or added to.
    @Test(arguments: isas)
    func packedRightMatrixMatchesTheReference(isa: Int32) {
        var rng = SplitMix64(seed: 13)
        let shapes = [(1, 79, 300), (2, 70, 33), (3, 17, 5), (4, 33, 260), (5, 40, 300), (1, 1, 1), (2, 16, 0), (9, 100, 7)]
        for (m, n, k) in shapes {
            let a = Self.random(m * k, &rng), b = Self.random(k * n, &rng)
            let trans = rng.bool(), accumulate = rng.bool()
            var stored = [Float](repeating: 0, count: k * n) // b as the kernel is given it
            for kk in 0..<k { for j in 0..<n { stored[trans ? j * k + kk : kk * n + j] = b[kk * n + j] } }
            var packed = [Float](repeating: .nan, count: max(1, ferry_sgemm_packed_b_size(n, k)))
            ferry_sgemm_pack_b(stored, trans ? k : n, trans ? 1 : 0, k, n, &packed)
            let start = Self.random(m * n, &rng)
            for first in Set([0, n > 16 ? 16 : 0]) {
                var c = start
                var scratch = [Float](repeating: .nan, count: max(1, ferry_sgemm_packed_b_scratch(m, k)))
                let want = limited(to: isa) { fused in
                    ferry_sgemm_packed_b(m, k, a, k, packed, first, n, &c, n, accumulate ? 1 : 0, &scratch)
                    // the blocked path's K blocks, or one block for the matrix-vector path
                    let blocked = m > 4 ? Self.reference(a, b, m: m, n: n, k: k, fused: fused) : nil
                    return (0..<m * n).map { e -> Float in
                        let (i, j) = (e / n, e % n)
                        guard j >= first else { return start[e] }
                        if let blocked {
                            guard accumulate else { return blocked[e] }
                            // added block by block: (C + first block) + the next ...
                            var total = start[e]
                            for k0 in stride(from: 0, to: k, by: Self.depthBlock) {
                                var sum: Float = 0
                                for kk in k0..<min(k0 + Self.depthBlock, k) {
                                    sum =
                                        fused
                                        ? sum.addingProduct(a[i * k + kk], b[kk * n + j]) : sum + a[i * k + kk] * b[kk * n + j]
                                }
                                total += sum
                            }
                            return total
                        }
                        var sum: Float = 0
                        for kk in 0..<k {
                            sum = fused ? sum.addingProduct(a[i * k + kk], b[kk * n + j]) : sum + a[i * k + kk] * b[kk * n + j]
                        }
                        return accumulate ? start[e] + sum : sum
                    }
                }
                Self.expectIdentical(
                    c, want,
                    "m \(m) n \(n) k \(k) columns \(first)..<\(n) (W \(trans ? "transposed" : "as is"), accumulate \(accumulate))"
                )
            }
        }
    }

    /// im2col straight into packed panels equals packing a naive im2col matrix: 2-D (the fast
    /// shifted-plane case and strided, dilated, padded ones) and 1-D and 3-D (the N-d loop), whole and
    /// split column ranges.
    @Test(arguments: isas)
    func im2colPackedEqualsPackingTheMatrix(isa: Int32) {
        var rng = SplitMix64(seed: 3)
        // (input shape, kernel, strides, dilations, pads at the start, channels)
        let cases: [([Int], [Int], [Int], [Int], [Int], Int)] = [
            ([6, 7], [3, 3], [1, 1], [1, 1], [1, 1], 3), ([9, 8], [3, 2], [2, 1], [1, 2], [1, 0], 2),
            ([5, 5], [1, 1], [1, 1], [1, 1], [0, 0], 4), ([11], [4], [3], [2], [2], 3),
            ([4, 5, 3], [2, 3, 2], [1, 2, 1], [1, 1, 2], [1, 1, 0], 2)
        ]
        for (inShape, kernel, strides, dilations, pads, channels) in cases {
            let outShape = inShape.indices.map { d in
                (inShape[d] + 2 * pads[d] - dilations[d] * (kernel[d] - 1) - 1) / strides[d] + 1
            }
            let x = Self.random(channels * inShape.reduce(1, *), &rng)
            let columns = outShape.reduce(1, *), rows = channels * kernel.reduce(1, *)
            let matrix = Self.im2col(x, channels: channels, inShape, kernel, strides, dilations, pads, outShape)
            for (begin, end) in [(0, columns), (columns / 3, columns)] {
                let n = end - begin
                var slice = [Float](repeating: 0, count: rows * n)
                for r in 0..<rows { for j in 0..<n { slice[r * n + j] = matrix[r * columns + begin + j] } }
                var want = [Float](repeating: .nan, count: ferry_sgemm_packed_b_size(n, rows))
                ferry_pack_b_panels(slice, n, rows, n, &want)
                var got = [Float](repeating: .nan, count: want.count), row = [Float](repeating: .nan, count: n)
                limited(to: isa) { _ in
                    ferry_im2col_packed(
                        x, channels, inShape.count, inShape, kernel, strides, dilations, pads, outShape,
                        begin, end, &got, &row)
                }
                Self.expectIdentical(got, want, "\(inShape) kernel \(kernel) columns \(begin)..<\(end)")
            }
        }
    }

    /// The im2col matrix by its definition: row (channel, taps), column (output position), the input
    /// element the tap reads or 0 in the padding.
    static func im2col(
        _ x: [Float], channels: Int, _ inShape: [Int], _ kernel: [Int], _ strides: [Int],
        _ dilations: [Int], _ pads: [Int], _ outShape: [Int]
    ) -> [Float] {
        let taps = kernel.reduce(1, *), columns = outShape.reduce(1, *)
        let plane = inShape.reduce(1, *)
        var col = [Float](repeating: 0, count: channels * taps * columns)
        for c in 0..<channels {
            for t in 0..<taps {
                let tap = Self.unflatten(t, kernel)
                for p in 0..<columns {
                    let offset = Self.imageOffset(
                        output: Self.unflatten(p, outShape), tap: tap, inShape, strides, dilations, pads)
                    col[(c * taps + t) * columns + p] = offset.map { x[c * plane + $0] } ?? 0
                }
            }
        }
        return col
    }

    /// The offset in one input plane that `tap` of output position `output` reads, nil in the padding.
    static func imageOffset(
        output: [Int], tap: [Int], _ inShape: [Int], _ strides: [Int], _ dilations: [Int], _ pads: [Int]
    ) -> Int? {
        var offset = 0
        for d in inShape.indices {
            let i = output[d] * strides[d] + tap[d] * dilations[d] - pads[d]
            guard i >= 0, i < inShape[d] else { return nil }
            offset = offset * inShape[d] + i
        }
        return offset
    }

    static func unflatten(_ index: Int, _ shape: [Int]) -> [Int] {
        var rest = index, digits = [Int](repeating: 0, count: shape.count)
        for d in shape.indices.reversed() {
            digits[d] = rest % shape[d]
            rest /= shape[d]
        }
        return digits
    }
}
