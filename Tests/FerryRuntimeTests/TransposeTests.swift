import CKernels
import FerryIR
import Testing

@testable import FerryRuntime

/// The float transpose kernel against the definition under every instruction-set limit, and the
/// Transpose op (whose blocked copy uses it for 4-byte elements) against index arithmetic for the
/// permutations models use: NCHW <-> NHWC, attention's head swap, a full reversal, sizes around the
/// 8x8 blocks and the 32-wide cache blocks.
@Suite struct TransposeTests {
    @Test(arguments: kernelISALimits.map(\.isa))
    func kernelMatchesTheDefinition(isa: Int32) {
        for (rows, cols) in [(1, 1), (7, 9), (8, 8), (9, 17), (16, 8), (33, 40)] {
            let ldx = cols + 3, ldy = rows + 5
            let x = (0..<(rows * ldx)).map { Float($0) }
            var y = [Float](repeating: -1, count: cols * ldy)
            withKernelISA(isa) { ferry_transpose_f32(x, ldx, &y, ldy, rows, cols) }
            var bad: (Int, Int)?
            for i in 0..<rows { for j in 0..<cols where bad == nil && y[j * ldy + i] != x[i * ldx + j] { bad = (i, j) } }
            #expect(bad == nil, "\(rows)x\(cols): element \(String(describing: bad))")
            let padding = (0..<cols).flatMap { j in (rows..<ldy).map { y[j * ldy + $0] } }
            #expect(padding.allSatisfy { $0 == -1 }, "\(rows)x\(cols): wrote outside the matrix")
        }
    }

    @Test func transposeOpMatchesIndexArithmetic() throws {
        let cases: [([Int], [Int])] = [
            ([1, 96, 14, 14], [0, 2, 3, 1]), ([1, 14, 14, 96], [0, 3, 1, 2]), ([2, 9, 4, 24], [0, 2, 1, 3]),
            ([2, 3, 37, 41], [0, 1, 3, 2]), ([5, 6, 7], [2, 1, 0]), ([70, 33], [1, 0])
        ]
        for (shape, perm) in cases {
            let count = shape.reduce(1, *)
            let x = HostTensor(shape, (0..<count).map { Float($0) })
            var g = KernelGraph()
            g.input("x", x)
            g.node("Transpose", ["x"], ["y"], [Attribute("perm", .ints(perm.map(Int64.init)))])
            g.outputs = ["y"]
            for threads in [1, 2] {
                let y = try g.run(threads: threads)[0]
                let outShape = perm.map { shape[$0] }
                #expect(y.shape == outShape)
                let inStrides = shapeStrides(shape), outStrides = shapeStrides(outShape)
                var first: Int?
                for o in 0..<count where first == nil {
                    var rest = o, source = 0
                    for (axis, stride) in outStrides.enumerated() {
                        source += rest / stride * inStrides[perm[axis]]
                        rest %= stride
                    }
                    if y.data[o] != Float(source) { first = o }
                }
                #expect(first == nil, "\(shape) perm \(perm) threads \(threads): element \(first ?? -1)")
            }
        }
    }
}
