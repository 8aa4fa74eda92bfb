import CKernels
import FerryIR

/// QuantizeLinear (opsets 10, 13 per axis, 19 float8 and saturate, 21 blocked and output_dtype):
/// y = saturate(round(x / scale) + zero_point), rounding half to even, into an integer type of 2 to
/// 16 bits; into float8, float6 or float4, x / scale rounded as Cast rounds (zero point 0).
final class QuantizeLinearKernel: Kernel {
    private let placement: QuantizationAxis
    private let outputType: ElementType?
    private let saturate: Bool

    init(_ spec: NodeSpec) throws {
        placement = try QuantizationAxis(spec)
        outputType = try spec.outputType(allowed: QuantizedType.allTargets, refusing: QuantizedType.unsupported)
        if let z = spec.constant(2), !QuantizedType.allTargets.contains(z.type) { throw QuantizedType.unsupported(z.type) }
        saturate = try spec.int("saturate", 1) != 0
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0, "x"), s = try inputs.required(1, "y_scale"), z = inputs.optional(2)
        if let z, let outputType, z.type != outputType {
            throw KernelError.invalid("y_zero_point is \(z.type.name) but output_dtype is \(outputType.name)")
        }
        let target = z?.type ?? outputType ?? .uint8
        guard QuantizedType.allTargets.contains(target) else { throw QuantizedType.unsupported(target) }
        guard [.float, .float16, .bfloat16, .double, .int32].contains(x.type) else {
            throw KernelError.invalid("x must be float or int32, got \(x.type.name)")
        }
        let (layout, scales, zeros) = try placement.parameters(of: x, scale: s, zeroPoint: z, prefix: "y")
        let xf = try convert(x, to: .float, ctx: ctx)
        let y = try ctx.allocate(target, x.shape)
        if let format = NarrowFloatFormat(target) {
            // The spec's x / scale + zero_point with the zero point 0 it must be: adding it turns -0 into +0.
            let src = xf.floats, out = y.pointer(UInt8.self), saturate = self.saturate, addsZero = z != nil
            layout.forEachElement(scales: scales, ctx) { j, scale in
                let q = src[j] / scale
                out[j] = format.encode(addsZero ? q + 0 : q, saturate: saturate)
            }
            return [y]
        }
        try QuantizedType.dispatch(
            target, QuantizeBody(x: xf.floats, y: y, layout: layout, scales: scales, zeros: zeros, ctx: ctx))
        return [y]
    }
}

/// The quantization loop for one output type (per tensor, per axis or blocked).
struct QuantizeBody: QuantizedVisitor {
    let x: UnsafeMutablePointer<Float>, y: Value, layout: QuantizationLayout, scales: [Float], zeros: [Int32],
        ctx: ExecutionContext

    func visit<T: RTInteger>(_: T.Type) throws {
        let range = try QuantizedType.range(y.type)
        let out = y.pointer(T.self), inner = layout.inner, step = layout.innerStride, layout = self.layout, x = self.x
        scales.withUnsafeBufferPointer { sp in
            zeros.withUnsafeBufferPointer { zp in
                ctx.parallel(layout.runs * inner, grain: elementGrain) { r in
                    // Runs sharing one scale and zero point go through the vectorisable loop.
                    layout.forEachStretch(of: r) { i, end, p in
                        if step == 0 {
                            quantizeFloats(x + i, out + i, end - i, scale: sp[p], zero: zp[p], range)
                        } else {
                            for j in i..<end {
                                let e = p + (j - i) * step
                                quantizeFloats(x + j, out + j, 1, scale: sp[e], zero: zp[e], range)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// y[i] = saturate(round_half_even(x[i] / scale) + zero) for i < n, into an integer type of `range`
/// (at most 16 bits).
/// 8-bit outputs go through the C kernel (AVX2 when the CPU has it).
@inline(__always)
func quantizeFloats<T: FixedWidthInteger>(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<T>, _ n: Int, scale: Float, zero: Int32,
    _ range: (lo: Int32, hi: Int32)
) {
    if T.bitWidth == 8 {
        ferry_quantize_floats(x, n, scale, zero, range.lo, range.hi, T.isSigned ? 1 : 0, y)
    } else {
        storeQuantized(y, n, zero: zero, range) { x[$0] / scale }
    }
}

/// y[i] = saturate(round_half_even(value(i)) + zero) for i < n (value(i) in quantization steps).
/// Clamping before rounding gives the same result (the bounds are integers) and keeps NaN at the
/// low bound; adding 1.5 * 2^23 rounds half to even into the low mantissa bits. Inlined with its
/// closure, the loop vectorises.
@inline(__always)
func storeQuantized<T: FixedWidthInteger>(
    _ y: UnsafeMutablePointer<T>, _ n: Int, zero: Int32, _ range: (lo: Int32, hi: Int32),
    _ value: (Int) -> Float
) {
    let a = Float(range.lo - zero), b = Float(range.hi - zero)
    for i in 0..<n {
        var r = value(i)
        r = r > a ? r : a
        r = r < b ? r : b
        let q = Int32(bitPattern: (r + 12_582_912).bitPattern) &- 0x4B40_0000
        y[i] = T(truncatingIfNeeded: q &+ zero)
    }
}

/// DequantizeLinear (opsets 10, 13 per axis, 19 float8, 21 blocked and output_dtype): y = (x -
/// zero_point) * scale from an integer type of 2 to 32 bits, or x * scale from float8, float6 or
/// float4 (zero point 0), into the scale's float type (or output_dtype).
final class DequantizeLinearKernel: Kernel {
    private let placement: QuantizationAxis
    private let outputType: ElementType?

    init(_ spec: NodeSpec) throws {
        placement = try QuantizationAxis(spec)
        outputType = try spec.outputType(allowed: [.float, .float16, .bfloat16]) {
            KernelError.invalid("output_dtype \($0.name) is not float32, float16 or bfloat16")
        }
        for i in [0, 2] {
            if let v = spec.constant(i), v.type != .int32, !QuantizedType.allTargets.contains(v.type) {
                throw QuantizedType.unsupported(v.type)
            }
        }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0, "x"), s = try inputs.required(1, "x_scale"), z = inputs.optional(2)
        if let z, z.type != x.type { throw KernelError.invalid("x is \(x.type.name) but x_zero_point is \(z.type.name)") }
        let (layout, scales, zeros) = try placement.parameters(of: x, scale: s, zeroPoint: z, prefix: "x")
        let y = try ctx.allocate(.float, x.shape)
        if let format = NarrowFloatFormat(x.type) {
            let src = x.pointer(UInt8.self), out = y.floats
            layout.forEachElement(scales: scales, ctx) { j, scale in out[j] = format.decode(src[j]) * scale }
        } else {
            try QuantizedType.dispatch(
                x.type, DequantizeBody(x: x, y: y.floats, layout: layout, scales: scales, zeros: zeros, ctx: ctx))
        }
        return [try convert(y, to: outputType ?? s.type, ctx: ctx)]
    }
}

/// The dequantization loop for one input type.
struct DequantizeBody: QuantizedVisitor {
    let x: Value, y: UnsafeMutablePointer<Float>, layout: QuantizationLayout, scales: [Float], zeros: [Int32],
        ctx: ExecutionContext

    func visit<T: RTInteger>(_: T.Type) throws {
        let src = x.pointer(T.self), inner = layout.inner, step = layout.innerStride, layout = self.layout, y = self.y
        scales.withUnsafeBufferPointer { sp in
            zeros.withUnsafeBufferPointer { zp in
                ctx.parallel(layout.runs * inner, grain: elementGrain) { r in
                    layout.forEachStretch(of: r) { i, end, p in
                        if step == 0 && T.bitWidth <= 16 {
                            // Narrow types subtract exactly in Int32 (a loop the compiler vectorises).
                            let s = sp[p], z = zp[p]
                            for j in i..<end { y[j] = Float(Int32(src[j]) - z) * s }
                        } else if step == 0 {
                            let s = sp[p], z = Int64(zp[p])
                            for j in i..<end { y[j] = Float(Int64(src[j]) - z) * s }
                        } else {
                            for j in i..<end {
                                let e = p + (j - i) * step
                                y[j] = Float(Int64(src[j]) - Int64(zp[e])) * sp[e]
                            }
                        }
                    }
                }
            }
        }
    }
}

/// DynamicQuantizeLinear: uint8 quantization of a float tensor with the scale and zero point its
/// range (widened to include 0) gives; returns y, y_scale and y_zero_point.
func dynamicQuantizeLinear(_ x: Value, _ ctx: ExecutionContext) throws -> (y: Value, params: TensorQuantization) {
    guard x.type == .float else { throw KernelError.invalid("x must be float32, got \(x.type.name)") }
    let p = x.floats, n = x.count
    let params = dynamicQuantization(of: p, n, ctx)
    let y = try ctx.allocate(.uint8, x.shape)
    let out = y.pointer(UInt8.self)
    ctx.parallel(n, grain: elementGrain) { r in
        quantizeFloats(p + r.lowerBound, out + r.lowerBound, r.count, scale: params.scale, zero: params.zeroPoint, (0, 255))
    }
    return (y, params)
}

/// The uint8 scale and zero point of DynamicQuantizeLinear (and of onnxruntime's dynamic
/// quantization of activations) for n floats: their range widened to include 0 spread over 0...255,
/// the zero point rounded half to even and saturated. With `ctx`, large tensors find their range
/// in chunks on its threads (each chunk folded from 0 as the whole would be: a NaN never wins and
/// of equal values the first stays, so the range is the same).
func dynamicQuantization(of p: UnsafePointer<Float>, _ n: Int, _ ctx: ExecutionContext? = nil) -> TensorQuantization {
    func range(_ r: Range<Int>) -> (lo: Float, hi: Float) {
        var lo: Float = 0, hi: Float = 0
        for i in r {
            let v = p[i]
            lo = v < lo ? v : lo
            hi = v > hi ? v : hi
        }
        return (lo, hi)
    }
    var (lo, hi) = (Float(0), Float(0))
    if let ctx, ctx.threads > 1, n >= 4 * elementGrain {
        let chunks = 4 * ctx.threads
        var parts = [(lo: Float, hi: Float)](repeating: (0, 0), count: chunks)
        parts.withUnsafeMutableBufferPointer { part in
            ctx.parallel(chunks) { r in
                for c in r { part[c] = range(n * c / chunks..<n * (c + 1) / chunks) }
            }
        }
        for part in parts {
            lo = part.lo < lo ? part.lo : lo
            hi = part.hi > hi ? part.hi : hi
        }
    } else {
        (lo, hi) = range(0..<n)
    }
    let scale = hi == lo ? 1 : (hi - lo) / 255
    let zero = (0 - lo / scale)
    return TensorQuantization(scale: scale, zeroPoint: Int32(min(max(zero, 0), 255).rounded(.toNearestOrEven)))
}

/// A per-tensor quantized value as float32.
func dequantize(_ x: Value, _ p: TensorQuantization, _ ctx: ExecutionContext) throws -> Value {
    let layout = try QuantizationLayout.perTensor(x.shape)
    let y = try ctx.allocate(.float, x.shape)
    try QuantizedType.dispatch(
        x.type, DequantizeBody(x: x, y: y.floats, layout: layout, scales: [p.scale], zeros: [p.zeroPoint], ctx: ctx))
    return y
}

/// A float32 value quantized per tensor into `type`.
func quantize(_ x: Value, _ p: TensorQuantization, as type: ElementType, _ ctx: ExecutionContext) throws -> Value {
    let y = try ctx.allocate(type, x.shape)
    try QuantizedType.dispatch(
        type,
        QuantizeBody(
            x: x.floats, y: y, layout: try QuantizationLayout.perTensor(x.shape),
            scales: [p.scale], zeros: [p.zeroPoint], ctx: ctx))
    return y
}
