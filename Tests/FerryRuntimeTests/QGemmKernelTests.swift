import CKernels
import Dispatch
import FerryIR
import FerryTestSupport
import Foundation
import Testing

/// The int8 C kernels (qgemm.c) against plain loops written here: integer sums in Int64, the output
/// passes by their formulas. Every case runs on each instruction-set path the CPU has (portable C,
/// AVX2, AVX-512 VNNI), which must all give the reference exactly.
@Suite struct QGemmKernelTests {
    /// Runs `body` limited to each path in turn (`kernelISALimits`), on the test's thread only.
    func forEachISA(_ body: (String) -> Void) {
        for (name, isa) in kernelISALimits { withKernelISA(isa) { body(name) } }
    }

    /// An int8 or uint8 operand: raw bytes and their signedness.
    struct QBytes {
        var bytes: [UInt8]
        var signed: Bool

        init(count: Int, signed: Bool, rng: inout SplitMix64) {
            bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            self.signed = signed
        }

        init(bytes: [UInt8], signed: Bool) {
            self.bytes = bytes
            self.signed = signed
        }

        subscript(i: Int) -> Int64 { signed ? Int64(Int8(bitPattern: bytes[i])) : Int64(bytes[i]) }
    }

    /// A zero point for an operand: 0, the middle of the type, one of its ends, or -3 (legal for the
    /// kernels, which take any int32 within reach of int16).
    static func zeroPoint(signed: Bool, rng: inout SplitMix64) -> Int32 {
        rng.pick(signed ? [0, -128, 127, -3, 5] : [0, 128, 255, -3, 77])
    }

    /// `body` with a pointer to the values, or nil for none.
    static func pointer<R>(_ values: [Int32]?, _ body: (UnsafePointer<Int32>?) -> R) -> R {
        guard let values else { return body(nil) }
        return values.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// A 64-byte aligned buffer of at least one byte, freed by the caller.
    static func buffer(_ bytes: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
    }

    /// C = (A - za) * (B - zb) through pack_a, pack_b and prepacked, C with leading dimension ldc; with
    /// `bytes`, through the byte GEMM (A int8 and za all 0).
    func qgemm(
        _ a: QBytes, lda: Int, za: [Int32]?, _ b: QBytes, ldb: Int, zb: Int32, m: Int, n: Int, k: Int,
        ldc: Int, bytes: Bool
    ) -> [Int32] {
        var c = [Int32](repeating: 0x5EED, count: max(1, (m - 1) * ldc + n))
        if bytes {
            let pa = Self.buffer(ferry_qgemm_bytes_packed_a_size(m, k)), pb = Self.buffer(ferry_qgemm_bytes_packed_b_size(n, k))
            defer {
                pa.deallocate()
                pb.deallocate()
            }
            a.bytes.withUnsafeBytes {
                ferry_qgemm_bytes_pack_a($0.baseAddress?.assumingMemoryBound(to: Int8.self), lda, m, k, pa)
            }
            b.bytes.withUnsafeBytes { ferry_qgemm_bytes_pack_b($0.baseAddress, b.signed ? 1 : 0, ldb, k, n, pb) }
            ferry_qgemm_bytes_prepacked(m, n, k, pa, pb, b.signed ? 1 : 0, zb, &c, ldc)
            return c
        }
        let pa = Self.buffer(ferry_qgemm_packed_a_size(m, k)), pb = Self.buffer(ferry_qgemm_packed_b_size(n, k))
        defer {
            pa.deallocate()
            pb.deallocate()
        }
        a.bytes.withUnsafeBytes { ap in
            Self.pointer(za) { ferry_qgemm_pack_a(ap.baseAddress, a.signed ? 1 : 0, lda, m, k, $0, pa) }
        }
        b.bytes.withUnsafeBytes { ferry_qgemm_pack_b($0.baseAddress, b.signed ? 1 : 0, ldb, k, n, zb, pb) }
        ferry_qgemm_prepacked(m, n, k, pa, pb, &c, ldc)
        return c
    }

    /// Checks one GEMM on every path against Int64 sums; returns false at the first mismatch. With
    /// `bytes`, the byte GEMM: A int8 with zero points 0.
    @discardableResult
    func checkGemm(
        m: Int, n: Int, k: Int, aSigned: Bool, bSigned: Bool, rng: inout SplitMix64, extreme: Bool = false,
        nullZeroPoints: Bool = false, bytes: Bool = false, sevenBit: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
        let lda = k + rng.int(0...3), ldb = n + rng.int(0...3), ldc = n + rng.int(0...2)
        var a = QBytes(count: m * lda, signed: aSigned, rng: &rng), b = QBytes(count: k * ldb, signed: bSigned, rng: &rng)
        var za: [Int32]? = (0..<m).map { _ in Self.zeroPoint(signed: aSigned, rng: &rng) }
        var zb = Self.zeroPoint(signed: bSigned, rng: &rng)
        if extreme {
            // the largest products: every A at its type's top with zero point at the bottom, every B
            // at its bottom with zero point at the top, so each term is -(255 * 255)
            a.bytes = [UInt8](repeating: aSigned ? 0x7F : 0xFF, count: a.bytes.count)
            b.bytes = [UInt8](repeating: bSigned ? 0x80 : 0x00, count: b.bytes.count)
            za = [Int32](repeating: aSigned ? -128 : 0, count: m)
            zb = bSigned ? 127 : 255
        }
        if bytes {
            // the byte path's largest terms: A at -128, B at its top with the zero point at its bottom
            za = [Int32](repeating: 0, count: m)
            if extreme {
                a.bytes = [UInt8](repeating: 0x80, count: a.bytes.count)
                b.bytes = [UInt8](repeating: bSigned ? 0x7F : 0xFF, count: b.bytes.count)
                zb = bSigned ? -128 : 0
            }
            if sevenBit {
                // weights in [-64, 64], which AVX2's saturating vpmaddubsw multiplies exactly
                a.bytes =
                    extreme
                    ? [UInt8](repeating: 0xC0, count: a.bytes.count)
                    : a.bytes.map { UInt8(bitPattern: $0 == 0x7F ? 64 : Int8(bitPattern: $0) >> 1) }
            }
        }
        if nullZeroPoints { za = nil }
        var want = [Int64](repeating: 0, count: m * n)
        for i in 0..<m {
            let z = Int64(za?[i] ?? 0)
            for t in 0..<k {
                let av = a[i * lda + t] - z
                if av == 0 { continue }
                for j in 0..<n { want[i * n + j] += av * (b[t * ldb + j] - Int64(zb)) }
            }
        }
        let label =
            "\(bytes ? sevenBit ? "7-bit byte " : "byte " : "")qgemm m=\(m) n=\(n) k=\(k) A \(aSigned ? "s8" : "u8") B \(bSigned ? "s8" : "u8") zb=\(zb) ldc=\(ldc)"
        var ok = true
        forEachISA { isa in
            guard ok else { return }
            let c = qgemm(a, lda: lda, za: za, b, ldb: ldb, zb: zb, m: m, n: n, k: k, ldc: ldc, bytes: bytes)
            for i in 0..<m {
                for j in 0..<n where Int64(c[i * ldc + j]) != want[i * n + j] {
                    Issue.record(
                        "\(label) [\(isa)]: C[\(i), \(j)] = \(c[i * ldc + j]), expected \(want[i * n + j])",
                        sourceLocation: sourceLocation)
                    ok = false
                    return
                }
            }
            if n == 1 {
                let split = rng.int(0...(m + 5) / 6) * 6
                let c = qgemv(
                    a, lda: lda, za: za, x: QBytes(bytes: (0..<k).map { b.bytes[$0 * ldb] }, signed: bSigned), zx: zb, m: m, k: k,
                    split: split, bytes: bytes)
                for i in 0..<m where Int64(c[i]) != want[i] {
                    Issue.record(
                        "\(label) as qgemv split at \(split) [\(isa)]: c[\(i)] = \(c[i]), expected \(want[i])",
                        sourceLocation: sourceLocation)
                    ok = false
                    return
                }
            }
        }
        return ok
    }

    /// c = (A - za) * (x - zx) through pack_a and the matrix-vector product, rows [0, split) and
    /// [split, m) in two calls.
    func qgemv(_ a: QBytes, lda: Int, za: [Int32]?, x: QBytes, zx: Int32, m: Int, k: Int, split: Int, bytes: Bool) -> [Int32] {
        var c = [Int32](repeating: 0x5EED, count: m + 1)
        let pa = Self.buffer(bytes ? ferry_qgemm_bytes_packed_a_size(m, k) : ferry_qgemm_packed_a_size(m, k)),
            scratch = Self.buffer(2 * k + 4)
        defer {
            pa.deallocate()
            scratch.deallocate()
        }
        if bytes {
            a.bytes.withUnsafeBytes {
                ferry_qgemm_bytes_pack_a($0.baseAddress?.assumingMemoryBound(to: Int8.self), lda, m, k, pa)
            }
        } else {
            a.bytes.withUnsafeBytes { ap in
                Self.pointer(za) { ferry_qgemm_pack_a(ap.baseAddress, a.signed ? 1 : 0, lda, m, k, $0, pa) }
            }
        }
        x.bytes.withUnsafeBytes { xp in
            for (lo, hi) in [(0, min(split, m)), (min(split, m), m)] {
                if bytes {
                    ferry_qgemv_bytes_prepacked(m, k, pa, xp.baseAddress, x.signed ? 1 : 0, zx, lo, hi, &c, scratch)
                } else {
                    ferry_qgemv_prepacked(m, k, pa, xp.baseAddress, x.signed ? 1 : 0, zx, lo, hi, &c, scratch)
                }
            }
        }
        #expect(c[m] == 0x5EED, "qgemv wrote past m")
        return c
    }

    /// Sizes around the 6x16 tile (1, tails, exact multiples), odd k, every signedness, every kind
    /// of zero point.
    @Test func qGemmSizeSweep() {
        var rng = SplitMix64(seed: 801), count = 0
        for m in [1, 2, 5, 6, 7, 13, 25] {
            for n in [1, 3, 15, 16, 17, 40] {
                let k = rng.pick([1, 2, 3, 8, 17, 64, 129])
                for (aSigned, bSigned) in [(true, false), (false, true), (true, true), (false, false)] {
                    count += 1
                    if !checkGemm(m: m, n: n, k: k, aSigned: aSigned, bSigned: bSigned, rng: &rng) { return }
                }
            }
        }
        #expect(count == 168)
    }

    /// Several K blocks (256 pairs each) and M blocks (120 rows), and k = 0 (C all zero).
    @Test func qGemmBlocksAndEmptyK() {
        var rng = SplitMix64(seed: 802)
        checkGemm(m: 131, n: 35, k: 1101, aSigned: true, bSigned: false, rng: &rng)
        checkGemm(m: 250, n: 18, k: 577, aSigned: false, bSigned: true, rng: &rng)
        checkGemm(m: 7, n: 9, k: 0, aSigned: true, bSigned: false, rng: &rng)
        checkGemm(m: 9, n: 20, k: 33, aSigned: true, bSigned: false, rng: &rng, nullZeroPoints: true)
    }

    /// Every term at the largest magnitude (255 * 255), 4001 of them: -260 million, still exact.
    @Test func qGemmExtremeOperands() {
        var rng = SplitMix64(seed: 803)
        for (aSigned, bSigned) in [(true, false), (false, true), (false, false), (true, true)] {
            checkGemm(m: 7, n: 19, k: 4001, aSigned: aSigned, bSigned: bSigned, rng: &rng, extreme: true)
            checkGemm(m: 13, n: 1, k: 4001, aSigned: aSigned, bSigned: bSigned, rng: &rng, extreme: true)
        }
    }

    /// One quantized convolution geometry for the im2col checks.
    struct ConvCase: CustomStringConvertible {
        var channels: Int, m: Int
        var input: [Int], kernel: [Int], strides: [Int], dilations: [Int], pads: [Int]
        var out: [Int] {
            (0..<input.count).map { d in (input[d] + 2 * pads[d] - (kernel[d] - 1) * dilations[d] - 1) / strides[d] + 1 }
        }
        var description: String {
            "c=\(channels) m=\(m) input=\(input) kernel=\(kernel) strides=\(strides) dilations=\(dilations) pads=\(pads)"
        }
    }

    /// Y[o, p] = sum over c and kernel offsets of (W - zw[o]) * (X - zx), taps outside the image
    /// adding nothing (ONNX QLinearConv's padding is the zero point).
    func referenceConv(_ p: ConvCase, x: QBytes, zx: Int32, w: QBytes, zw: [Int32]) -> [Int64] {
        let outIdx = allIndices(p.out), kIdx = allIndices(p.kernel), inStride = rowMajorStrides(p.input)
        let inPlane = p.input.reduce(1, *), kPlane = p.kernel.reduce(1, *), k = p.channels * kPlane
        var y = [Int64](repeating: 0, count: p.m * outIdx.count)
        for (pi, o) in outIdx.enumerated() {
            for (ki, kk) in kIdx.enumerated() {
                var off = 0, inside = true
                for d in 0..<o.count {
                    let i = o[d] * p.strides[d] + kk[d] * p.dilations[d] - p.pads[d]
                    if i < 0 || i >= p.input[d] {
                        inside = false
                        break
                    }
                    off += i * inStride[d]
                }
                guard inside else { continue }
                for c in 0..<p.channels {
                    let xv = x[c * inPlane + off] - Int64(zx)
                    for oc in 0..<p.m { y[oc * outIdx.count + pi] += (w[oc * k + c * kPlane + ki] - Int64(zw[oc])) * xv }
                }
            }
        }
        return y
    }

    /// im2col of columns [begin, end) into a packed B, multiplied by the packed weights (in the byte
    /// layout with `bytes`).
    func convColumns(
        _ p: ConvCase, x: QBytes, zx: Int32, packedA: UnsafeRawPointer, begin: Int, end: Int,
        c: UnsafeMutablePointer<Int32>, ldc: Int, bytes: Bool = false
    ) {
        let k = p.channels * p.kernel.reduce(1, *), n = end - begin, xSigned: Int32 = x.signed ? 1 : 0
        let pb = Self.buffer(bytes ? ferry_qgemm_bytes_packed_b_size(n, k) : ferry_qgemm_packed_b_size(n, k)),
            row = Self.buffer(4 * n)
        defer {
            pb.deallocate()
            row.deallocate()
        }
        x.bytes.withUnsafeBytes { xp in
            if bytes {
                ferry_qim2col_bytes_packed(
                    xp.baseAddress, xSigned, zx, p.channels, p.input.count, p.input, p.kernel,
                    p.strides, p.dilations, p.pads, p.out, begin, end, pb, row)
            } else {
                ferry_qim2col_packed(
                    xp.baseAddress, xSigned, zx, p.channels, p.input.count, p.input, p.kernel,
                    p.strides, p.dilations, p.pads, p.out, begin, end, pb, row)
            }
        }
        if bytes {
            ferry_qgemm_bytes_prepacked(p.m, n, k, packedA, pb, xSigned, zx, c + begin, ldc)
        } else {
            ferry_qgemm_prepacked(p.m, n, k, packedA, pb, c + begin, ldc)
        }
    }

    /// Checks a convolution built from im2col tiles of `tile` columns against the reference; with
    /// `bytes`, on the byte GEMM (int8 weights with zero points 0, x's zero point a value of its type).
    @discardableResult
    func checkConv(
        _ p: ConvCase, tile: Int, rng: inout SplitMix64, bytes: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
        let xSigned = rng.bool(), wSigned = bytes || rng.bool()
        let x = QBytes(count: p.channels * p.input.reduce(1, *), signed: xSigned, rng: &rng)
        let k = p.channels * p.kernel.reduce(1, *), n = p.out.reduce(1, *)
        let w = QBytes(count: p.m * k, signed: wSigned, rng: &rng)
        var zx = Self.zeroPoint(signed: xSigned, rng: &rng),
            zw = (0..<p.m).map { _ in Self.zeroPoint(signed: wSigned, rng: &rng) }
        if bytes {
            zw = [Int32](repeating: 0, count: p.m)
            if !xSigned && zx < 0 { zx = 255 }
        }
        let want = referenceConv(p, x: x, zx: zx, w: w, zw: zw)
        let pa = Self.buffer(bytes ? ferry_qgemm_bytes_packed_a_size(p.m, k) : ferry_qgemm_packed_a_size(p.m, k))
        defer { pa.deallocate() }
        w.bytes.withUnsafeBytes {
            if bytes {
                ferry_qgemm_bytes_pack_a($0.baseAddress?.assumingMemoryBound(to: Int8.self), k, p.m, k, pa)
            } else {
                ferry_qgemm_pack_a($0.baseAddress, wSigned ? 1 : 0, k, p.m, k, zw, pa)
            }
        }
        var ok = true
        forEachISA { isa in
            guard ok else { return }
            var c = [Int32](repeating: 0x5EED, count: p.m * n)
            c.withUnsafeMutableBufferPointer { cp in
                for begin in stride(from: 0, to: n, by: tile) {
                    convColumns(
                        p, x: x, zx: zx, packedA: pa, begin: begin, end: min(n, begin + tile), c: cp.baseAddress!, ldc: n,
                        bytes: bytes)
                }
            }
            if let bad = (0..<c.count).first(where: { Int64(c[$0]) != want[$0] }) {
                let message =
                    "\(bytes ? "byte " : "")qim2col \(p) x \(xSigned ? "s8" : "u8") zx=\(zx) tile=\(tile) [\(isa)]: Y[\(bad / n), \(bad % n)] = \(c[bad]), "
                    + "expected \(want[bad])"
                Issue.record("\(message)", sourceLocation: sourceLocation)
                ok = false
            }
        }
        return ok
    }

    /// 1-D, 2-D and 3-D convolutions over kernel, stride, pad and dilation sweeps, im2col'ed whole
    /// and in column tiles that start mid-row; with `bytes`, on the byte GEMM.
    func im2colConvSweep(seed: UInt64, bytes: Bool) {
        var rng = SplitMix64(seed: seed), count = 0
        for rank in [1, 2, 3] {
            for _ in 0..<(rank == 2 ? 40 : 16) {
                // every third 2-D case keeps the width ("same" padding, strides and dilations 1: the
                // shifted-plane im2col), some with filters wider than the input
                let same = rank == 2 && count % 3 == 1
                let input = (0..<rank).map { _ in rng.int(rank == 3 ? 2...6 : (same ? 1...11 : 3...11)) }
                var kernel = same ? input.map { _ in rng.pick([1, 3, 5]) } : input.map { rng.int(1...min(4, $0)) }
                if rank == 2 && count % 5 == 0 && !same { kernel = [3, 3] }
                let dilations = same ? [1, 1] : kernel.map { _ in rng.pick([1, 1, 2]) }
                let pads = same ? kernel.map { ($0 - 1) / 2 } : kernel.map { rng.int(0...$0 - 1) }
                let p = ConvCase(
                    channels: rng.int(1...5), m: rng.int(1...9), input: input, kernel: kernel,
                    strides: same ? [1, 1] : kernel.map { _ in rng.pick([1, 2, 3]) }, dilations: dilations, pads: pads)
                guard p.out.allSatisfy({ $0 > 0 }) else { continue }
                count += 1
                let n = p.out.reduce(1, *)
                if !checkConv(p, tile: rng.pick([n, 16, 7, max(1, n / 3)]), rng: &rng, bytes: bytes) { return }
            }
        }
        #expect(count > 50)
    }

    @Test func qIm2colConvSweep() { im2colConvSweep(seed: 804, bytes: false) }

    /// The byte GEMM's im2col: padding is the zero point byte, taken out with the rest of it.
    @Test func qBytesIm2colConvSweep() { im2colConvSweep(seed: 806, bytes: true) }

    /// The byte GEMM against Int64 sums on every path: sizes around the tile, k around multiples of
    /// 4, several K and M blocks, k = 0, uint8 and int8 B with every kind of zero point.
    @Test func qBytesGemmSizeSweep() {
        var rng = SplitMix64(seed: 807), count = 0
        for m in [1, 5, 6, 7, 13] {
            for n in [1, 15, 16, 17, 40] {
                for k in [1, 2, 3, 4, 5, 7, 8, 17, 64, 130] {
                    for bSigned in [false, true] {
                        count += 1
                        if !checkGemm(m: m, n: n, k: k, aSigned: true, bSigned: bSigned, rng: &rng, bytes: true) { return }
                    }
                }
            }
        }
        #expect(count == 500)
        checkGemm(m: 131, n: 35, k: 1101, aSigned: true, bSigned: false, rng: &rng, bytes: true)
        checkGemm(m: 250, n: 18, k: 2051, aSigned: true, bSigned: true, rng: &rng, bytes: true)
        checkGemm(m: 7, n: 9, k: 0, aSigned: true, bSigned: false, rng: &rng, bytes: true)
        checkGemm(m: 9, n: 20, k: 33, aSigned: true, bSigned: true, rng: &rng, nullZeroPoints: true, bytes: true)
    }

    /// The byte GEMM with 7-bit weights (AVX2's vpmaddubsw path where there is no VNNI): sizes
    /// around the tile, several blocks, the batch-1 product, and the largest terms (255 * -64) with
    /// the zero point correction.
    @Test func qBytesGemmSevenBitWeights() {
        var rng = SplitMix64(seed: 809)
        for m in [1, 6, 7, 13] {
            for n in [1, 16, 17, 40] {
                for k in [1, 3, 4, 17, 130] {
                    let bSigned = rng.int(0...1) == 1
                    if !checkGemm(m: m, n: n, k: k, aSigned: true, bSigned: bSigned, rng: &rng, bytes: true, sevenBit: true) {
                        return
                    }
                }
            }
        }
        checkGemm(m: 131, n: 35, k: 1101, aSigned: true, bSigned: false, rng: &rng, bytes: true, sevenBit: true)
        for bSigned in [false, true] {
            checkGemm(
                m: 7, n: 19, k: 4001, aSigned: true, bSigned: bSigned, rng: &rng, extreme: true, bytes: true, sevenBit: true)
            checkGemm(
                m: 13, n: 1, k: 4001, aSigned: true, bSigned: bSigned, rng: &rng, extreme: true, bytes: true, sevenBit: true)
        }
    }

    /// The byte GEMM's largest terms (255 * -128), 4001 of them, and the zero point correction with
    /// them: exact.
    @Test func qBytesGemmExtremeOperands() {
        var rng = SplitMix64(seed: 808)
        for bSigned in [false, true] {
            checkGemm(m: 7, n: 19, k: 4001, aSigned: true, bSigned: bSigned, rng: &rng, extreme: true, bytes: true)
            checkGemm(m: 13, n: 1, k: 4001, aSigned: true, bSigned: bSigned, rng: &rng, extreme: true, bytes: true)
        }
    }

    /// Column tiles of one convolution im2col'ed and multiplied on several threads at once, each
    /// with its own scratch, into disjoint columns of one C.
    @Test func qGemmConcurrentTiles() {
        var rng = SplitMix64(seed: 805)
        let p = ConvCase(channels: 16, m: 24, input: [20, 18], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1])
        let x = QBytes(count: p.channels * 360, signed: false, rng: &rng), w = QBytes(count: p.m * 144, signed: true, rng: &rng)
        let zx: Int32 = 128, zw = [Int32](repeating: 0, count: p.m), n = 360, tile = 48
        let want = referenceConv(p, x: x, zx: zx, w: w, zw: zw)
        let pa = Self.buffer(ferry_qgemm_packed_a_size(p.m, 144))
        defer { pa.deallocate() }
        w.bytes.withUnsafeBytes { ferry_qgemm_pack_a($0.baseAddress, 1, 144, p.m, 144, zw, pa) }
        var c = [Int32](repeating: 0, count: p.m * n)
        c.withUnsafeMutableBufferPointer { cp in
            let base = cp.baseAddress!
            DispatchQueue.concurrentPerform(iterations: (n + tile - 1) / tile) { t in
                convColumns(p, x: x, zx: zx, packedA: pa, begin: t * tile, end: min(n, t * tile + tile), c: base, ldc: n)
            }
        }
        #expect(c.map { Int64($0) } == want)
    }

    /// y = clamp(roundHalfEven(Float(c + bias) * scale) + zp, qmin, qmax) per the header.
    func referenceRequantize(_ c: Int32, bias: Int32, scale: Float, zp: Int32, qmin: Int32, qmax: Int32) -> Int32 {
        let v = (Float(c &+ bias) * scale).rounded(.toNearestOrEven)
        let q = v >= Float(qmax - zp) ? qmax : (v <= Float(qmin - zp) ? qmin : Int32(v) + zp)
        return min(max(q, qmin), qmax)
    }

    /// Runs ferry_requantize on every path: rows x cols of c (leading dimension ldc) into bytes.
    func requantize(
        _ c: [Int32], ldc: Int, rows: Int, cols: Int, bias: [Int32]?, scale: [Float], zp: Int32, qmin: Int32,
        qmax: Int32, signed: Bool, check: ([Int32], String) -> Void
    ) {
        forEachISA { isa in
            let ldy = cols + 3
            var y = [UInt8](repeating: 0xA5, count: rows * ldy)
            Self.pointer(bias) { ferry_requantize(c, ldc, rows, cols, $0, scale, zp, qmin, qmax, signed ? 1 : 0, &y, ldy) }
            var got: [Int32] = []
            for r in 0..<rows {
                for j in 0..<cols { got.append(signed ? Int32(Int8(bitPattern: y[r * ldy + j])) : Int32(y[r * ldy + j])) }
                #expect(Array(y[(r * ldy + cols)..<(r * ldy + ldy)]) == [0xA5, 0xA5, 0xA5], "requantize wrote past cols [\(isa)]")
            }
            check(got, isa)
        }
    }

    /// Ties round to even (IEEE roundTiesToEven, as onnxruntime's cvtps and numpy.round do), on
    /// both sides of zero and in the vector body and the scalar tail.
    @Test func requantizeTiesToEven() {
        // scale 0.5 makes every odd sum a tie: 5 -> 2.5 -> 2, 7 -> 3.5 -> 4, -5 -> -2, -1 -> -0.5 -> 0
        let sums: [Int32] = [5, 7, -5, -7, 1, -1, 3, -3, 9, 11, 13, -13, 0, 2, 4]
        let expected: [Int32] = [2, 4, -2, -4, 0, 0, 2, -2, 4, 6, 6, -6, 0, 1, 2]
        for signed in [true, false] {
            let zp: Int32 = signed ? 0 : 100
            requantize(
                sums, ldc: sums.count, rows: 1, cols: sums.count, bias: nil, scale: [0.5], zp: zp,
                qmin: signed ? -128 : 0, qmax: signed ? 127 : 255, signed: signed
            ) { got, isa in
                #expect(got == expected.map { $0 + zp }, "requantize ties signed=\(signed) [\(isa)]")
            }
        }
    }

    /// Random sums, biases and scales against the formula, with narrowed (fused Relu/Clip) ranges,
    /// sums far past the output range and past int32 when the bias is added (wrapping, as vpaddd).
    @Test func requantizeSweep() {
        var rng = SplitMix64(seed: 806)
        for trial in 0..<24 {
            let signed = trial % 2 == 0, rows = rng.int(1...5), cols = rng.pick([1, 7, 8, 9, 16, 31, 40]),
                ldc = cols + rng.int(0...4)
            let zp = Self.zeroPoint(signed: signed, rng: &rng)
            let (lo, hi): (Int32, Int32) = signed ? (-128, 127) : (0, 255)
            let qmin = trial % 3 == 0 ? max(lo, zp) : lo, qmax = trial % 4 == 1 ? min(hi, max(qmin, zp + 60)) : hi
            let bias: [Int32]? = trial % 5 == 4 ? nil : (0..<rows).map { _ in Int32(rng.int(-5000...5000)) }
            let scale = (0..<rows).map { _ in Float(rng.int(1...1000)) / Float(rng.pick([256, 4096, 65536])) }
            let c = (0..<(rows * ldc)).map { i -> Int32 in
                switch i % 11 {
                case 0: return Int32.max
                case 1: return Int32.min
                case 2: return Int32(rng.int(-10_000_000...10_000_000))
                default: return Int32(rng.int(-40_000...40_000))
                }
            }
            requantize(
                c, ldc: ldc, rows: rows, cols: cols, bias: bias, scale: scale, zp: zp, qmin: qmin, qmax: qmax, signed: signed
            ) { got, isa in
                for r in 0..<rows {
                    for j in 0..<cols {
                        let want = referenceRequantize(
                            c[r * ldc + j], bias: bias?[r] ?? 0, scale: scale[r], zp: zp, qmin: qmin, qmax: qmax)
                        if got[r * cols + j] != want {
                            Issue.record(
                                "requantize trial \(trial) [\(isa)]: [\(r), \(j)] c=\(c[r * ldc + j]) got \(got[r * cols + j]), expected \(want)"
                            )
                            return
                        }
                    }
                }
            }
        }
    }

    /// QuantizeLinear to 8 bits against its definition computed in Double: ties to even on both sides
    /// of zero, values far outside the range, infinities and NaN (low bound), narrowed ranges, every
    /// length from 0 to 40 (vector body and scalar tail).
    @Test func quantizeFloatsAgainstDefinition() {
        var rng = SplitMix64(seed: 809)
        for trial in 0..<41 {
            let signed = trial % 2 == 1, n = trial
            let zp = Self.zeroPoint(signed: signed, rng: &rng)
            let (lo, hi): (Int32, Int32) = signed ? (-128, 127) : (0, 255)
            let qmin = trial % 3 == 0 ? max(lo, zp) : lo, qmax = trial % 5 == 0 ? min(hi, max(qmin, zp + 40)) : hi
            let scale = Float(rng.int(1...1000)) / 512
            let x = (0..<n).map { i -> Float in
                switch i % 9 {
                case 0: return Float(rng.int(-300...300)) * scale + scale / 2 // a tie unless the product rounds
                case 1: return Float(rng.int(-3...3)) * 0.5 * scale
                case 2: return .nan
                case 3: return i % 2 == 0 ? .infinity : -.infinity
                case 4: return Float(rng.int(-1_000_000...1_000_000))
                default: return Float(rng.int(-200_000...200_000)) / 1000 * scale
                }
            }
            forEachISA { isa in
                var y = [UInt8](repeating: 0xA5, count: n + 1)
                ferry_quantize_floats(x, n, scale, zp, qmin, qmax, signed ? 1 : 0, &y)
                for i in 0..<n {
                    let q = Double(x[i]) / Double(scale), f = Double(Float(q)) // the quotient as float division gives it
                    let want =
                        x[i].isNaN ? qmin : Int32(max(Double(qmin), min(Double(qmax), f.rounded(.toNearestOrEven) + Double(zp))))
                    let got = signed ? Int32(Int8(bitPattern: y[i])) : Int32(y[i])
                    if got != want {
                        Issue.record(
                            "quantize trial \(trial) [\(isa)]: x[\(i)] = \(x[i]) scale \(scale) zp \(zp) got \(got), expected \(want)"
                        )
                        return
                    }
                }
                #expect(y[n] == 0xA5, "quantize wrote past n [\(isa)]")
            }
        }
    }

    /// 8-bit max pooling against the maximum over each window's taps inside the input, over kernel,
    /// stride, dilation and pad sweeps, for planes [p_begin, p_end).
    /// Byte lookups on every path against the table read one byte at a time: lengths around the
    /// 64-byte step, every index value, offsets off alignment.
    @Test func byteLookup() {
        var rng = SplitMix64(seed: 812)
        let table = (0..<256).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for n in [0, 1, 63, 64, 65, 127, 256, 300] {
            let x = (0..<(n + 3)).map { i in i < 256 ? UInt8(i) : UInt8(truncatingIfNeeded: rng.next()) }
            forEachISA { isa in
                var y = [UInt8](repeating: 0xEE, count: n + 3)
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in ferry_byte_lookup(xp.baseAddress! + 1, n, table, yp.baseAddress! + 1)
                    }
                }
                let want = [0xEE] + (1..<(n + 1)).map { table[Int(x[$0])] } + [0xEE, 0xEE]
                #expect(y == want, "n=\(n) [\(isa)]")
            }
        }
    }

    @Test func maxPoolBytesSweep() {
        var rng = SplitMix64(seed: 810), count = 0
        for trial in 0..<120 {
            // every third case is the 2x2 stride-2 unpadded pooling of its own vector loop, on rows
            // up to 150 wide
            let pool2 = trial % 3 == 0
            let planes = rng.int(1...4), h = rng.int(1...9), w = rng.int(1...(pool2 ? 150 : 40))
            let kh = pool2 ? 2 : rng.int(1...4), kw = pool2 ? 2 : rng.int(1...4)
            let sh = pool2 ? 2 : rng.int(1...3), sw = pool2 ? 2 : rng.int(1...3)
            let dh = pool2 ? 1 : rng.pick([1, 1, 2]), dw = pool2 ? 1 : rng.pick([1, 1, 2])
            let pt = pool2 ? 0 : rng.int(0...kh - 1), pl = pool2 ? 0 : rng.int(0...kw - 1)
            guard h + 2 * pt >= (kh - 1) * dh + 1, w + 2 * pl >= (kw - 1) * dw + 1 else { continue }
            let oh = (h + 2 * pt - (kh - 1) * dh - 1) / sh + 1, ow = (w + 2 * pl - (kw - 1) * dw - 1) / sw + 1
            count += 1
            let signed = rng.bool(), x = QBytes(count: planes * h * w, signed: signed, rng: &rng)
            let pb = rng.int(0...planes - 1), pe = rng.int(pb + 1...planes)
            var want = [Int64](repeating: 0x5A, count: planes * oh * ow)
            for c in pb..<pe {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best: Int64? = nil
                        for ki in 0..<kh {
                            for kj in 0..<kw {
                                let iy = oy * sh + ki * dh - pt, ix = ox * sw + kj * dw - pl
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                best = max(best ?? .min, x[(c * h + iy) * w + ix])
                            }
                        }
                        want[(c * oh + oy) * ow + ox] = best ?? 0
                    }
                }
            }
            var ok = true
            forEachISA { isa in
                guard ok else { return }
                var y = [UInt8](repeating: 0x5A, count: planes * oh * ow)
                x.bytes.withUnsafeBytes {
                    ferry_max_pool_2d_bytes(
                        $0.baseAddress, &y, signed ? 1 : 0, 0, pb, pe, h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
                }
                let got = y.map { signed ? Int64(Int8(bitPattern: $0)) : Int64($0) }
                if let bad = (0..<got.count).first(where: { got[$0] != want[$0] }) {
                    let message =
                        "max pool bytes c=\(planes) [\(pb), \(pe)) h=\(h) w=\(w) k=\(kh)x\(kw) s=\(sh),\(sw) d=\(dh),\(dw) p=\(pt),\(pl) "
                        + "\(signed ? "s8" : "u8") [\(isa)]: flat \(bad) = \(got[bad]), expected \(want[bad])"
                    Issue.record("\(message)")
                    ok = false
                }
            }
            if !ok { return }
        }
        #expect(count > 60)
    }

    /// QLinearAdd / QLinearMul on 8-bit operands against the same float32 arithmetic written out
    /// here, with unit and broadcast (0) steps, narrowed ranges and every length up to 40.
    @Test func qLinearBinaryBytes() {
        var rng = SplitMix64(seed: 811)
        for trial in 0..<80 {
            let signed = trial % 2 == 1, multiply = trial % 4 >= 2, n = trial % 41
            let stepA = trial % 5 == 0 ? 0 : 1, stepB = trial % 7 == 0 ? 0 : 1
            let a = QBytes(count: max(1, n), signed: signed, rng: &rng), b = QBytes(count: max(1, n), signed: signed, rng: &rng)
            let za = Self.zeroPoint(signed: signed, rng: &rng), zb = Self.zeroPoint(signed: signed, rng: &rng),
                zc = Self.zeroPoint(signed: signed, rng: &rng)
            let sa = Float(rng.int(1...900)) / 4096, sb = Float(rng.int(1...900)) / 4096, sc = Float(rng.int(1...900)) / 1024
            let (lo, hi): (Int32, Int32) = signed ? (-128, 127) : (0, 255)
            let qmin = trial % 3 == 0 ? max(lo, zc) : lo
            let want = (0..<n).map { i -> Int32 in
                let u = (Float(a[i * stepA]) - Float(za)) * sa
                let v = (Float(b[i * stepB]) - Float(zb)) * sb
                let r = (multiply ? u * v : u + v) / sc
                return Int32(max(Float(qmin - zc), min(Float(hi - zc), r)).rounded(.toNearestOrEven)) + zc
            }
            forEachISA { isa in
                var y = [UInt8](repeating: 0xA5, count: n + 1)
                a.bytes.withUnsafeBytes { pa in
                    b.bytes.withUnsafeBytes { pb in
                        ferry_qlinear_binary_bytes(
                            pa.baseAddress, stepA, pb.baseAddress, stepB, n, signed ? 1 : 0, multiply ? 1 : 0, sa, za, sb, zb,
                            sc, zc, qmin, hi, &y)
                    }
                }
                let got = (0..<n).map { signed ? Int32(Int8(bitPattern: y[$0])) : Int32(y[$0]) }
                #expect(got == want, "qlinear \(multiply ? "mul" : "add") trial \(trial) [\(isa)]")
                #expect(y[n] == 0xA5, "wrote past n [\(isa)]")
            }
        }
    }

    /// act(Float(c + bias) * scale + floatBias) for each activation of ferry_activation, by its
    /// formula (the float bias on every other activation).
    @Test func dequantizeOutputActivations() {
        var rng = SplitMix64(seed: 807)
        let acts: [(Int32, Float, Float, (Float, Float, Float) -> Float)] = [
            (Int32(FERRY_ACT_NONE.rawValue), 0, 0, { v, _, _ in v }),
            (Int32(FERRY_ACT_RELU.rawValue), 0, 0, { v, _, _ in max(v, 0) }),
            (Int32(FERRY_ACT_CLIP.rawValue), -0.5, 1.5, { v, a, b in min(max(v, a), b) }),
            (Int32(FERRY_ACT_SIGMOID.rawValue), 0, 0, { v, _, _ in 1 / (1 + exp(-v)) }),
            (Int32(FERRY_ACT_HARDSWISH.rawValue), 0, 0, { v, _, _ in v * max(0, min(1, v / 6 + 0.5)) }),
            (Int32(FERRY_ACT_LEAKYRELU.rawValue), 0.1, 0, { v, a, _ in v < 0 ? a * v : v }),
            (Int32(FERRY_ACT_HARDSIGMOID.rawValue), 0.2, 0.5, { v, a, b in max(0, min(1, a * v + b)) })
        ]
        for (i, (act, a, b, f)) in acts.enumerated() {
            let rows = 3, cols = 21, ldc = 24, ldy = 22
            let c = (0..<(rows * ldc)).map { _ in Int32(rng.int(-3000...3000)) }
            let bias: [Int32]? = i % 3 == 2 ? nil : (0..<rows).map { _ in Int32(rng.int(-500...500)) }
            let scale = (0..<rows).map { _ in Float(rng.int(1...50)) / 4096 }
            let floatBias: [Float]? = i % 2 == 1 ? (0..<rows).map { _ in rng.unit() } : nil
            forEachISA { isa in
                var y = [Float](repeating: .nan, count: rows * ldy)
                Self.pointer(bias) { b32 in
                    if let floatBias {
                        ferry_dequantize_output(c, ldc, rows, cols, b32, scale, floatBias, act, a, b, &y, ldy)
                    } else {
                        ferry_dequantize_output(c, ldc, rows, cols, b32, scale, nil, act, a, b, &y, ldy)
                    }
                }
                for r in 0..<rows {
                    for j in 0..<cols {
                        let scaled = Float(c[r * ldc + j] + (bias?[r] ?? 0)) * scale[r]
                        let want = f(scaled + (floatBias?[r] ?? 0), a, b), got = y[r * ldy + j]
                        // exact but for the float activations' own rounding (fused multiply-adds, expf)
                        #expect(abs(got - want) <= 1e-6 * max(1, abs(want)), "dequantize act=\(act) [\(isa)] at [\(r), \(j)]")
                    }
                }
                #expect(y[cols].isNaN, "dequantize wrote past cols")
            }
        }
    }

    /// Depthwise sums for channels [c_begin, c_end) against Int64 loops, over kernel, stride,
    /// dilation and pad sweeps; channels outside the range stay untouched.
    @Test func qDepthwiseSweep() {
        var rng = SplitMix64(seed: 808), count = 0
        for _ in 0..<240 {
            let channels = rng.int(1...6), h = rng.int(1...12), wd = rng.int(1...40)
            // every other case has a filter up to 7x7, horizontal stride 1 or 2 and no dilation (the
            // vectorised path); a third of those are 3x3
            let fast = count % 2 == 0, square = count % 3 == 0
            let kh = fast ? (square ? 3 : rng.int(1...7)) : rng.int(1...5),
                kw = fast ? (square ? 3 : rng.int(1...7)) : rng.int(1...5)
            let sh = rng.pick([1, 2, 3]), sw = fast ? rng.pick([1, 2]) : rng.pick([1, 2, 3])
            let dh = fast ? 1 : rng.pick([1, 2]), dw = fast ? 1 : rng.pick([1, 2]), pt = rng.int(0...kh - 1),
                pl = rng.int(0...kw - 1)
            let oh = (h + 2 * pt - (kh - 1) * dh - 1) / sh + 1, ow = (wd + 2 * pl - (kw - 1) * dw - 1) / sw + 1
            guard h + 2 * pt >= (kh - 1) * dh + 1, wd + 2 * pl >= (kw - 1) * dw + 1 else { continue }
            count += 1
            let xSigned = rng.bool(), wSigned = rng.bool()
            let x = QBytes(count: channels * h * wd, signed: xSigned, rng: &rng),
                w = QBytes(count: channels * kh * kw, signed: wSigned, rng: &rng)
            let zx = Self.zeroPoint(signed: xSigned, rng: &rng)
            let zw: [Int32]? = count % 7 == 0 ? nil : (0..<channels).map { _ in Self.zeroPoint(signed: wSigned, rng: &rng) }
            let cb = rng.int(0...channels - 1), ce = rng.int(cb + 1...channels)
            var want = [Int64](repeating: 0x5EED, count: channels * oh * ow)
            for c in cb..<ce {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s: Int64 = 0
                        for ki in 0..<kh {
                            for kj in 0..<kw {
                                let iy = oy * sh + ki * dh - pt, ix = ox * sw + kj * dw - pl
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                s += (w[(c * kh + ki) * kw + kj] - Int64(zw?[c] ?? 0)) * (x[(c * h + iy) * wd + ix] - Int64(zx))
                            }
                        }
                        want[(c * oh + oy) * ow + ox] = s
                    }
                }
            }
            var ok = true
            forEachISA { isa in
                guard ok else { return }
                var acc = [Int32](repeating: 0x5EED, count: channels * oh * ow)
                x.bytes.withUnsafeBytes { xp in
                    w.bytes.withUnsafeBytes { wp in
                        Self.pointer(zw) { zwp in
                            ferry_qdepthwise_2d(
                                xp.baseAddress, xSigned ? 1 : 0, zx, wp.baseAddress, wSigned ? 1 : 0, zwp, &acc, cb, ce,
                                h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
                        }
                    }
                }
                if let bad = (0..<acc.count).first(where: { Int64(acc[$0]) != want[$0] }) {
                    let message =
                        "qdepthwise c=\(channels) [\(cb), \(ce)) h=\(h) w=\(wd) k=\(kh)x\(kw) s=\(sh),\(sw) d=\(dh),\(dw) "
                        + "p=\(pt),\(pl) x \(xSigned ? "s8" : "u8") zx=\(zx) [\(isa)]: flat \(bad) = \(acc[bad]), expected \(want[bad])"
                    Issue.record("\(message)")
                    ok = false
                }
            }
            if !ok { return }
        }
        #expect(count > 180)
    }
}
