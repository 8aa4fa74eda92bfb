import CKernels
import FerryIR

/// A quantized 2-D convolution run by the direct channels-last kernel (`ferry_qconv_direct`: no
/// im2col, output channels along the vector lanes, requantized in registers): int8 weights with zero
/// points 0 and one group, packed once at plan time. Used where the CPU has AVX-512 VNNI, for filters
/// of 2 to FERRY_QCONV_DIRECT_MAX_TAPS (49) taps over at least 16 input channels, when the output is
/// requantized to 8 bits.
final class DirectQuantizedConv {
    private let packed: TensorBuffer
    private let outputs: Int, channels: Int, kernelHeight: Int, kernelWidth: Int

    /// Packed weights for `w` ([m, c, kh, kw]), or nil where the direct kernel does not apply.
    init?(_ w: Value, groups: Int, zeroPoints: [Int32]) {
        guard ferry_qconv_direct_available() != 0, w.type == .int8, w.rank == 4, groups == 1,
            zeroPoints.allSatisfy({ $0 == 0 })
        else { return nil }
        let taps = w.shape[2] * w.shape[3]
        guard taps >= 2 && taps <= Int(FERRY_QCONV_DIRECT_MAX_TAPS), w.shape[1] >= 16, w.shape[0] > 0 else { return nil }
        outputs = w.shape[0]
        channels = w.shape[1]
        kernelHeight = w.shape[2]
        kernelWidth = w.shape[3]
        let size = ferry_qconv_direct_packed_w_size(outputs, channels, taps)
        packed = TensorBuffer(count: size) { _ in }
        ferry_qconv_direct_pack_w(
            w.buffer.baseAddress.assumingMemoryBound(to: Int8.self), outputs, channels, taps,
            packed.baseAddress)
    }

    /// Convolves every image of `x` into `y` when the direct kernel can (2-D, requantized output, the
    /// CPU still allows it); false when the caller must take the GEMM path.
    func run(
        x: Value, xZero: Int32, geometry g: WindowGeometry, outSpatial: [Int], padBegin: [Int], output: QuantizedOutput,
        scale: UnsafePointer<Float>, bias: UnsafePointer<Int32>?, y: Value, _ ctx: ExecutionContext
    ) throws -> Bool {
        guard case .requantize(_, let zero, let lo, let hi) = output, g.rank == 2, ferry_qconv_direct_available() != 0,
            x.rank == 4, x.shape[1] == channels, x.shape[2] * x.shape[3] > 0, g.kernel == [kernelHeight, kernelWidth]
        else { return false }
        let n = x.shape[0], h = x.shape[2], w = x.shape[3], plane = h * w
        let oh = outSpatial[0], ow = outSpatial[1], p = oh * ow
        let ys = elementSize(y.type)
        let xSigned: Int32 = x.type == .int8 ? 1 : 0
        let channelsLast = try ctx.allocate(.uint8, [ferry_qconv_direct_input_size(channels, plane)])
        defer { withExtendedLifetime(channelsLast) {} }
        let cl = channelsLast.buffer.baseAddress
        let tiles = (p + 7) / 8
        let work = outputs * channels * g.kernel.reduce(1, *)
        for img in 0..<n {
            let xi = UnsafeRawPointer(x.buffer.baseAddress + img * channels * plane)
            let yi = y.buffer.baseAddress + img * outputs * p * ys
            ctx.parallel(plane, grain: max(1024, elementGrain / max(1, channels))) { r in
                ferry_qconv_direct_channels_last(xi, xSigned, xZero, channels, plane, r.lowerBound, r.upperBound, cl)
            }
            ctx.parallel(tiles, grain: max(1, minimumParallelWork / max(1, 8 * work))) { r in
                ferry_qconv_direct(
                    packed.baseAddress, outputs, channels, cl, xSigned, xZero, h, w, kernelHeight, kernelWidth,
                    g.strides[0], g.strides[1], g.dilations[0], g.dilations[1], padBegin[0], padBegin[1],
                    oh, ow, r.lowerBound * 8, min(p, r.upperBound * 8), bias, scale, zero, lo, hi, yi)
            }
        }
        return true
    }
}
