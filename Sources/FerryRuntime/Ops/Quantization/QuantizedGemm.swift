import CKernels
import FerryIR

/// Quantized weight matrices packed for the int8 GEMM (one per group, each with one zero point per
/// row), kept for the life of the plan: in the byte layout of `ferry_qgemm_bytes_prepacked` when the
/// weights are int8 with zero points 0 and the CPU has AVX-512 VNNI, or AVX2 and the weights fit in
/// 7 bits ([-64, 64]: `ferry_qgemm_bytes_suits`), in the int16 layout of
/// `ferry_qgemm_prepacked` otherwise. The activations (B) are packed and multiplied through these
/// methods, in the matching layout.
final class PackedQuantizedMatrices {
    private let buffer: TensorBuffer
    private let stride: Int
    /// The byte layout (vpdpbusd, or vpmaddubsw for 7-bit weights) rather than the int16 one.
    let bytes: Bool

    /// Packs `groups` consecutive row-major `rows` x `columns` matrices of 1-byte elements starting at
    /// `source`; `zeroPoints` has one value per row of every group.
    init(_ source: UnsafeRawPointer, signed: Bool, groups: Int, rows: Int, columns: Int, zeroPoints: [Int32]) {
        let bytes =
            signed && zeroPoints.allSatisfy { $0 == 0 }
            && (0..<groups).allSatisfy {
                ferry_qgemm_bytes_suits((source + $0 * rows * columns).assumingMemoryBound(to: Int8.self), columns, rows, columns)
                    != 0
            }
        self.bytes = bytes
        stride =
            ((bytes ? ferry_qgemm_bytes_packed_a_size(rows, columns) : ferry_qgemm_packed_a_size(rows, columns)) + 63) / 64 * 64
        buffer = TensorBuffer(count: max(64, groups * stride)) { _ in }
        zeroPoints.withUnsafeBufferPointer { z in
            for g in 0..<groups {
                let matrix = source + g * rows * columns, packed = buffer.baseAddress + g * stride
                if bytes {
                    ferry_qgemm_bytes_pack_a(matrix.assumingMemoryBound(to: Int8.self), columns, rows, columns, packed)
                } else {
                    ferry_qgemm_pack_a(matrix, signed ? 1 : 0, columns, rows, columns, z.baseAddress! + g * rows, packed)
                }
            }
        }
    }

    /// Bytes of a packed B of `columns` columns and depth `depth`, rounded up to 64.
    func packedBSize(columns: Int, depth: Int) -> Int {
        ((bytes ? ferry_qgemm_bytes_packed_b_size(columns, depth) : ferry_qgemm_packed_b_size(columns, depth)) + 63) / 64 * 64
    }

    /// Packs B (k x n row-major bytes, leading dimension ldb, int8 when `signed` is 1) into `packed`.
    func packB(
        _ b: UnsafeRawPointer, signed: Int32, ldb: Int, k: Int, n: Int, zeroPoint: Int32, into packed: UnsafeMutableRawPointer
    ) {
        if bytes {
            ferry_qgemm_bytes_pack_b(b, signed, ldb, k, n, packed)
        } else {
            ferry_qgemm_pack_b(b, signed, ldb, k, n, zeroPoint, packed)
        }
    }

    /// im2col of columns [begin, end) of one image's group into a packed B (`row`: 4 * (end - begin)
    /// bytes of scratch).
    func im2col(
        _ x: UnsafeRawPointer, signed: Int32, zeroPoint: Int32, channels: Int, geometry g: WindowGeometry, inShape: [Int],
        padBegin: [Int], outShape: [Int], begin: Int, end: Int, into packed: UnsafeMutableRawPointer, row: UnsafeMutableRawPointer
    ) {
        if bytes {
            ferry_qim2col_bytes_packed(
                x, signed, zeroPoint, channels, g.rank, inShape, g.kernel, g.strides, g.dilations, padBegin,
                outShape, begin, end, packed, row)
        } else {
            ferry_qim2col_packed(
                x, signed, zeroPoint, channels, g.rank, inShape, g.kernel, g.strides, g.dilations, padBegin,
                outShape, begin, end, packed, row)
        }
    }

    /// c[i] for the rows `rows` (from a multiple of FERRY_QGEMM_PANEL_ROWS) of group `g` (m x k) times
    /// the vector x (k bytes, int8 when `signed` is 1, zero point `zeroPoint`); `scratch` holds
    /// 2 * k + 4 bytes.
    func multiplyVector(
        group g: Int, m: Int, k: Int, x: UnsafeRawPointer, signed: Int32, zeroPoint: Int32, rows: Range<Int>,
        c: UnsafeMutablePointer<Int32>, scratch: UnsafeMutableRawPointer
    ) {
        let a = UnsafeRawPointer(buffer.baseAddress + g * stride)
        if bytes {
            ferry_qgemv_bytes_prepacked(m, k, a, x, signed, zeroPoint, rows.lowerBound, rows.upperBound, c, scratch)
        } else {
            ferry_qgemv_prepacked(m, k, a, x, signed, zeroPoint, rows.lowerBound, rows.upperBound, c, scratch)
        }
    }

    /// C (m x n, leading dimension ldc) = group `g` times packed B, whose values are `bSigned` with
    /// zero point `bZeroPoint` (as given to packB / im2col).
    func multiply(
        group g: Int, m: Int, n: Int, k: Int, packedB: UnsafeRawPointer, bSigned: Int32, bZeroPoint: Int32,
        c: UnsafeMutablePointer<Int32>, ldc: Int
    ) {
        let a = UnsafeRawPointer(buffer.baseAddress + g * stride)
        if bytes {
            ferry_qgemm_bytes_prepacked(m, n, k, a, packedB, bSigned, bZeroPoint, c, ldc)
        } else {
            ferry_qgemm_prepacked(m, n, k, a, packedB, c, ldc)
        }
    }
}

/// What an int8 kernel writes from its int32 sums: requantized integers (a fused Relu or Clip
/// narrows their range), dequantized floats with a fused activation, or the sums themselves.
enum QuantizedOutput {
    case requantize(type: ElementType, zeroPoint: Int32, lo: Int32, hi: Int32)
    /// Dequantized, passed through an activation that is not a clamp (hard swish, sigmoid, ...),
    /// then quantized with `outputScale` as QuantizeLinear would.
    case activateThenQuantize(FusedActivation, type: ElementType, zeroPoint: Int32, outputScale: Float)
    case float(FusedActivation)
    case int32

    /// The element type written.
    var elementType: ElementType {
        switch self {
        case .requantize(let type, _, _, _): return type
        case .activateThenQuantize(_, let type, _, _): return type
        case .float: return .float
        case .int32: return .int32
        }
    }

    /// The quantized output for `zeroPoint` (uint8 or int8) after `activation`: requantized straight
    /// from the sums and clamped as a Relu or Clip would (they commute with rounding, so they become
    /// a narrower integer range); other activations are applied to the dequantized values first.
    static func requantize(_ zeroPoint: Value, scale: Float, activation: FusedActivation) throws -> QuantizedOutput {
        guard QuantizedType.isByte(zeroPoint.type), zeroPoint.count == 1 else {
            throw KernelError.unsupported(
                "output zero point of type \(zeroPoint.type.name) and shape \(zeroPoint.shape) (one uint8 or int8 value only)")
        }
        let z = try zeroPoint.zeroPointValues()[0]
        if activation.kind != FERRY_ACT_NONE && activation.kind != FERRY_ACT_RELU && activation.kind != FERRY_ACT_CLIP {
            return .activateThenQuantize(activation, type: zeroPoint.type, zeroPoint: z, outputScale: scale)
        }
        let range = try activationRange(zeroPoint.type, TensorQuantization(scale: scale, zeroPoint: z), activation)
        return .requantize(type: zeroPoint.type, zeroPoint: z, lo: range.lo, hi: range.hi)
    }

    /// The range of `type` narrowed by a Relu or Clip applied before quantizing with `q`.
    static func activationRange(_ type: ElementType, _ q: TensorQuantization, _ activation: FusedActivation) throws -> (
        lo: Int32, hi: Int32
    ) {
        let range = try QuantizedType.range(type)
        var lo = range.lo, hi = range.hi
        switch activation.kind {
        case FERRY_ACT_NONE: break
        case FERRY_ACT_RELU: lo = max(lo, q.zeroPoint)
        case FERRY_ACT_CLIP:
            lo = max(lo, q.quantize(activation.alpha, range))
            hi = min(hi, q.quantize(activation.beta, range))
        default: throw KernelError.unsupported("activation \(activation.kind.rawValue) before a quantized output")
        }
        return (lo, max(hi, lo))
    }

    /// The y_scale the per-row scales of this output divide by (nil when they only dequantize).
    func rowScaleDivisor(_ yScale: Float) -> Float? {
        if case .requantize = self { return yScale }
        return nil
    }

    /// Writes rows x cols sums `c` (leading dimension ldc) to `y` (leading dimension ldy, in elements),
    /// row r using bias[r] and scale[r]; float outputs add floatBias[r] to the scaled sums before
    /// their activation.
    func write(
        _ c: UnsafePointer<Int32>, ldc: Int, rows: Int, cols: Int, bias: UnsafePointer<Int32>?, scale: UnsafePointer<Float>,
        floatBias: UnsafePointer<Float>? = nil, to y: UnsafeMutableRawPointer, ldy: Int
    ) {
        switch self {
        case .requantize(let type, let zero, let lo, let hi):
            ferry_requantize(c, ldc, rows, cols, bias, scale, zero, lo, hi, type == .int8 ? 1 : 0, y, ldy)
        case .activateThenQuantize(let act, let type, let zero, let outputScale):
            let range = (try? QuantizedType.range(type)) ?? (lo: 0, hi: 255)
            ferry_activate_quantize(
                c, ldc, rows, cols, bias, scale, act.code, act.alpha, act.beta, outputScale, zero, range.lo, range.hi,
                type == .int8 ? 1 : 0, y, ldy)
        case .float(let act):
            ferry_dequantize_output(
                c, ldc, rows, cols, bias, scale, floatBias, act.code, act.alpha, act.beta, y.assumingMemoryBound(to: Float.self),
                ldy)
        case .int32:
            let d = y.assumingMemoryBound(to: Int32.self)
            for r in 0..<rows {
                let b = bias?[r] ?? 0
                for j in 0..<cols { d[r * ldy + j] = c[r * ldc + j] &+ b }
            }
        }
    }
}

/// The per-output-row factors of an int8 product: scale[r] = a_scale * w_scale[r] / y_scale (or
/// without y_scale for float outputs).
func quantizedRowScales(_ rows: Int, inputScale: Float, weightScales: [Float], outputScale: Float?) throws -> [Float] {
    guard weightScales.count == 1 || weightScales.count == rows else {
        throw KernelError.invalid("\(weightScales.count) weight scales for \(rows) output channels")
    }
    return (0..<rows).map { inputScale * weightScales[weightScales.count == 1 ? 0 : $0] / (outputScale ?? 1) }
}

/// One zero point per row from a scalar or per-row zero-point value (absent: 0).
func quantizedRowZeros(_ rows: Int, _ z: Value?, _ what: String) throws -> [Int32] {
    guard let z else { return [Int32](repeating: 0, count: rows) }
    let v = try z.zeroPointValues()
    guard v.count == 1 || v.count == rows else { throw KernelError.invalid("\(v.count) \(what) zero points for \(rows) rows") }
    return v.count == 1 ? [Int32](repeating: v[0], count: rows) : v
}
