import CKernels
import FerryIR
import Testing

@testable import FerryPasses

/// 4-bit blockwise weights: each weight within half a step of its code (a step for the largest
/// values of symmetric blocks, whose top code is 7 steps above the middle, not 8), zeros exact,
/// and the packed form MatMulNBits reads (checked by the runtime's own unpacking) equal to it.
@Suite struct BlockwiseWeightTests {
    @Test(arguments: [(false, 16), (true, 16), (false, 32), (true, 128)])
    func codesAreWithinAStepAndPackAsMatMulNBitsReadsThem(symmetric: Bool, block: Int) {
        var rng = SplitMix64(seed: UInt64(block) + (symmetric ? 1 : 0))
        let k = 70, n = 5
        var w = (0..<k * n).map { _ in Float.random(in: -1...1, using: &rng) * (Bool.random(using: &rng) ? 1 : 0.01) }
        for i in 0..<k { w[i * n + 2] = 0 } // a column of zeros
        let q = BlockwiseWeight(k: k, n: n, blockSize: block, symmetric: symmetric) { j, i in w[i * n + j] }
        for j in 0..<n {
            for i in 0..<k {
                let step = abs(q.scales[j * q.blocks + i / block])
                let error = abs(q.dequantized(j, i) - w[i * n + j])
                #expect(error <= (symmetric ? step : step / 2) * 1.0001, "w[\(i), \(j)] off by \(error), step \(step)")
                if j == 2 { #expect(q.dequantized(j, i) == 0) }
            }
        }
        var unpacked = [Float](repeating: .nan, count: n * k)
        let codes = q.packedCodes(), zeros = q.packedZeroPoints()
        #expect(codes.count == n * ferry_nbits4_row_bytes(k, block))
        ferry_nbits4_dequantize(k, codes, q.scales, symmetric ? nil : zeros, block, 0, n, &unpacked)
        for j in 0..<n { for i in 0..<k { #expect(unpacked[j * k + i] == q.dequantized(j, i)) } }
    }
}
