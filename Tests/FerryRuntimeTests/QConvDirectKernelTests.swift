import CKernels
import FerryIR
import FerryTestSupport
import Testing

/// The direct channels-last int8 convolution (qconv_direct.c) against Int64 sums of the plain-loop
/// convolution and the requantize formula, on CPUs with AVX-512 VNNI (elsewhere it is never used).
extension QGemmKernelTests {
    /// Runs the direct kernel on `p` (2-D) with the pixels split into `parts` calls; output bytes.
    func directConv(
        _ p: ConvCase, x: QBytes, zx: Int32, w: QBytes, bias: [Int32]?, scale: [Float], zp: Int32,
        qmin: Int32, qmax: Int32, parts: Int
    ) -> [UInt8] {
        let plane = p.input[0] * p.input[1], outPlane = p.out[0] * p.out[1], taps = p.kernel[0] * p.kernel[1]
        let packed = Self.buffer(ferry_qconv_direct_packed_w_size(p.m, p.channels, taps))
        let channelsLast = Self.buffer(ferry_qconv_direct_input_size(p.channels, plane))
        defer {
            packed.deallocate()
            channelsLast.deallocate()
        }
        w.bytes.withUnsafeBytes {
            ferry_qconv_direct_pack_w($0.baseAddress?.assumingMemoryBound(to: Int8.self), p.m, p.channels, taps, packed)
        }
        let xSigned: Int32 = x.signed ? 1 : 0
        x.bytes.withUnsafeBytes { xp in
            for part in 0..<parts {
                ferry_qconv_direct_channels_last(
                    xp.baseAddress, xSigned, zx, p.channels, plane, plane * part / parts,
                    plane * (part + 1) / parts, channelsLast)
            }
        }
        var y = [UInt8](repeating: 0xA5, count: p.m * outPlane)
        y.withUnsafeMutableBytes { yp in
            Self.pointer(bias) { b in
                for part in 0..<parts {
                    ferry_qconv_direct(
                        packed, p.m, p.channels, channelsLast, xSigned, zx, p.input[0], p.input[1], p.kernel[0],
                        p.kernel[1], p.strides[0], p.strides[1], p.dilations[0], p.dilations[1], p.pads[0], p.pads[1],
                        p.out[0], p.out[1], outPlane * part / parts, outPlane * (part + 1) / parts, b, scale, zp,
                        qmin, qmax, yp.baseAddress)
                }
            }
        }
        return y
    }

    /// 2-D convolutions over sweeps of filter size (2 to 49 taps), stride, dilation and padding, with
    /// channel counts off the kernel's multiples (4 input, 32 output channels) and pixel counts off
    /// its 8-pixel tiles, uint8 and int8 inputs with every kind of zero point, biases or none, and
    /// requantized ranges narrowed as a fused Relu/Clip does; pixels split over 1 to 3 calls.
    @Test(.enabled(if: ferry_qconv_direct_available() != 0, "the direct kernel needs AVX-512 VNNI"))
    func directConvSweep() throws {
        var rng = SplitMix64(seed: 811), count = 0
        while count < 60 {
            let kernel = [rng.int(1...7), rng.int(1...7)]
            guard kernel[0] * kernel[1] >= 2 else { continue }
            let input = [rng.int(kernel[0]...13), rng.int(kernel[1]...13)]
            let dilations = kernel.map { $0 > 3 ? 1 : rng.pick([1, 1, 2]) }
            let p = ConvCase(
                channels: rng.pick([16, 17, 19, 32, 45, 64]), m: rng.pick([1, 7, 16, 31, 32, 33, 64, 70]), input: input,
                kernel: kernel, strides: kernel.map { _ in rng.pick([1, 1, 2, 3]) }, dilations: dilations,
                pads: kernel.map { rng.int(0...$0 - 1) })
            guard p.out.allSatisfy({ $0 > 0 }) else { continue }
            count += 1
            let xSigned = rng.bool()
            let x = QBytes(count: p.channels * p.input.reduce(1, *), signed: xSigned, rng: &rng)
            let w = QBytes(count: p.m * p.channels * p.kernel.reduce(1, *), signed: true, rng: &rng)
            var zx = Self.zeroPoint(signed: xSigned, rng: &rng)
            if !xSigned && zx < 0 { zx = 255 }
            let sums = referenceConv(p, x: x, zx: zx, w: w, zw: [Int32](repeating: 0, count: p.m))
            let bias: [Int32]? = count % 4 == 3 ? nil : (0..<p.m).map { _ in Int32(rng.int(-20_000...20_000)) }
            let scale = (0..<p.m).map { _ in Float(rng.int(1...1000)) / Float(rng.pick([65536, 1 << 20])) }
            let outSigned = rng.bool()
            let zp = Self.zeroPoint(signed: outSigned, rng: &rng).clamped(outSigned ? -128 : 0, outSigned ? 127 : 255)
            let (lo, hi): (Int32, Int32) = outSigned ? (-128, 127) : (0, 255)
            let qmin = count % 3 == 0 ? max(lo, zp) : lo, qmax = count % 5 == 1 ? min(hi, max(qmin, zp + 50)) : hi
            let parts = rng.int(1...3), n = p.out.reduce(1, *)
            let got = directConv(p, x: x, zx: zx, w: w, bias: bias, scale: scale, zp: zp, qmin: qmin, qmax: qmax, parts: parts)
            for i in 0..<(p.m * n) {
                let want = referenceRequantize(
                    Int32(truncatingIfNeeded: sums[i]), bias: bias?[i / n] ?? 0, scale: scale[i / n], zp: zp,
                    qmin: qmin, qmax: qmax)
                let value = outSigned ? Int32(Int8(bitPattern: got[i])) : Int32(got[i])
                if value != want {
                    let message =
                        "direct conv \(p) x \(xSigned ? "s8" : "u8") zx=\(zx) parts=\(parts): Y[\(i / n), \(i % n)] = \(value), "
                        + "expected \(want) (sum \(sums[i]))"
                    Issue.record("\(message)")
                    return
                }
            }
        }
    }
}

private extension Int32 {
    func clamped(_ lo: Int32, _ hi: Int32) -> Int32 { Swift.min(Swift.max(self, lo), hi) }
}
