import CKernels
import FerryIR
import FerryTestSupport
import Testing

/// The 4-bit blockwise kernels (nbits.c) against a plain loop over the format's definition (in
/// Double), on every instruction-set path: shapes with partial last blocks and lengths that are
/// not multiples of the vector width, blocks of 16 to 128, with and without zero points, one to
/// seven rows of A.
@Suite struct NBitsKernelTests {
    struct Case {
        let m: Int, k: Int, n: Int, block: Int, zeroPoints: Bool
    }

    static let cases: [Case] = [
        Case(m: 1, k: 64, n: 5, block: 16, zeroPoints: true), Case(m: 3, k: 100, n: 7, block: 32, zeroPoints: false),
        Case(m: 4, k: 37, n: 3, block: 16, zeroPoints: true), Case(m: 7, k: 300, n: 9, block: 128, zeroPoints: true),
        Case(m: 2, k: 8, n: 2, block: 64, zeroPoints: false)
    ]

    @Test(arguments: cases)
    func rowsAndDequantizationMatchTheDefinition(_ c: Case) {
        var rng = SplitMix64(seed: UInt64(c.k * 31 + c.n))
        let blocks = (c.k + c.block - 1) / c.block, rowBytes = ferry_nbits4_row_bytes(c.k, c.block)
        let b = (0..<c.n * rowBytes).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let scales = (0..<c.n * blocks).map { _ in Float.random(in: 0.01...0.2, using: &rng) }
        let zp = (0..<c.n * ((blocks + 1) / 2)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let a = (0..<c.m * c.k).map { _ in Float.random(in: -1...1, using: &rng) }
        func code(_ j: Int, _ i: Int) -> Double {
            let byte = b[j * rowBytes + i / 2]
            return Double(i % 2 == 0 ? byte & 0x0f : byte >> 4)
        }
        func zero(_ j: Int, _ blk: Int) -> Double {
            guard c.zeroPoints else { return 8 }
            let byte = zp[j * ((blocks + 1) / 2) + blk / 2]
            return Double(blk % 2 == 0 ? byte & 0x0f : byte >> 4)
        }
        func weight(_ j: Int, _ i: Int) -> Double {
            (code(j, i) - zero(j, i / c.block)) * Double(scales[j * blocks + i / c.block])
        }
        for (name, isa) in kernelISALimits {
            withKernelISA(isa) {
                var y = [Float](repeating: .nan, count: c.m * c.n), w = [Float](repeating: .nan, count: c.n * c.k)
                zp.withUnsafeBufferPointer { z in
                    let zeros = c.zeroPoints ? z.baseAddress : nil
                    ferry_nbits4_rows(c.m, c.k, a, c.k, b, scales, zeros, c.block, 0, c.n, &y, c.n)
                    ferry_nbits4_dequantize(c.k, b, scales, zeros, c.block, 0, c.n, &w)
                }
                for r in 0..<c.m {
                    for j in 0..<c.n {
                        let want = (0..<c.k).reduce(0.0) { $0 + Double(a[r * c.k + $1]) * weight(j, $1) }
                        let scale = (0..<c.k).reduce(0.0) { $0 + abs(Double(a[r * c.k + $1]) * weight(j, $1)) }
                        #expect(abs(Double(y[r * c.n + j]) - want) <= 1e-5 * max(1, scale), "\(name) row \(r) column \(j)")
                    }
                }
                for j in 0..<c.n {
                    for i in 0..<c.k { #expect(Double(w[j * c.k + i]) == Double(Float(weight(j, i))), "\(name) w[\(j), \(i)]") }
                }
                // panel by panel through the SGEMM: what the SGEMM gives on the dequantized matrix
                var packedA = [Float](repeating: 0, count: ferry_sgemm_packed_a_size(c.m, c.k))
                ferry_sgemm_pack_a(a, c.k, 0, c.m, c.k, &packedA)
                var packedB = [Float](repeating: 0, count: ferry_sgemm_packed_b_size(c.n, c.k))
                ferry_sgemm_pack_b(w, c.k, 1, c.k, c.n, &packedB)
                var panels = [Float](repeating: .nan, count: c.m * c.n), want = panels
                var scratch = [Float](repeating: 0, count: ferry_nbits4_gemm_scratch(c.k))
                zp.withUnsafeBufferPointer { z in
                    ferry_nbits4_gemm(
                        c.m, c.k, c.n, packedA, b, scales, c.zeroPoints ? z.baseAddress : nil, c.block, 0, (c.n + 15) / 16,
                        &panels, c.n, &scratch)
                }
                ferry_sgemm_prepacked(c.m, c.n, c.k, packedA, packedB, &want, c.n)
                #expect(panels == want, "\(name) panels")
                // int8 activations: the first row of A quantized per block, integer sums
                var int8Row = [Float](repeating: .nan, count: c.n)
                let bytes = UnsafeMutableRawPointer.allocate(byteCount: ferry_nbits4_int8_scratch(c.k, c.block), alignment: 64)
                defer { bytes.deallocate() }
                zp.withUnsafeBufferPointer { z in
                    ferry_nbits4_row_int8(
                        c.k, a, b, scales, c.zeroPoints ? z.baseAddress : nil, c.block, 0, c.n, &int8Row, bytes)
                }
                for j in 0..<c.n {
                    var want = 0.0, magnitude = 0.0
                    for blk in 0..<blocks {
                        let range = blk * c.block..<min(c.k, (blk + 1) * c.block)
                        let m = range.map { abs(a[$0]) }.max() ?? 0
                        let inverse: Float = m > 0 ? 127 / m : 0
                        var sum = 0
                        for i in range {
                            let q = Int((a[i] * inverse).rounded(.toNearestOrEven))
                            sum += q * (Int(code(j, i)) - Int(zero(j, blk)))
                        }
                        let term = Double(scales[j * blocks + blk]) * Double(m / 127) * Double(sum)
                        want += term
                        magnitude += abs(term)
                    }
                    #expect(abs(Double(int8Row[j]) - want) <= 1e-5 * max(1, magnitude), "\(name) int8 column \(j)")
                }
            }
        }
    }
}
