import FerryIR

/// com.microsoft QLinearGlobalAveragePool (X, x_scale, x_zero_point, y_scale, y_zero_point;
/// channels_last): exact integer sums per channel, requantized once as
/// round((sum - count * x_zero) * x_scale / (y_scale * count)) + y_zero.
final class QLinearGlobalAveragePoolKernel: Kernel {
    private let channelsLast: Bool

    init(_ spec: NodeSpec) throws { channelsLast = try spec.int("channels_last", 0) != 0 }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0, "X")
        guard x.rank >= 3 else { throw KernelError.invalid("input must have rank >= 3, got \(x.shape)") }
        let from = try TensorQuantization(inputs, scale: 1, zeroPoint: 2, "x"),
            to = try TensorQuantization(inputs, scale: 3, zeroPoint: 4, "y")
        let n = x.shape[0], c = channelsLast ? x.shape[x.rank - 1] : x.shape[1]
        let plane = x.count / max(1, n * c)
        let ones = [Int](repeating: 1, count: x.rank - 2)
        let y = try ctx.allocate(x.type, channelsLast ? [n] + ones + [c] : [n, c] + ones)
        try QuantizedType.dispatch(
            x.type,
            GlobalAverageBody(x: x, y: y, n: n, c: c, plane: plane, channelsLast: channelsLast, from: from, to: to, ctx: ctx))
        return [y]
    }
}

/// The summing loop of QLinearGlobalAveragePool for one storage type.
private struct GlobalAverageBody: QuantizedVisitor {
    let x: Value, y: Value, n: Int, c: Int, plane: Int, channelsLast: Bool
    let from: TensorQuantization, to: TensorQuantization, ctx: ExecutionContext

    func visit<T: RTInteger>(_: T.Type) throws {
        guard QuantizedType.isByte(x.type) else { throw QuantizedType.unsupported(x.type) }
        let range = try QuantizedType.range(x.type)
        let src = x.pointer(T.self), dst = y.pointer(T.self)
        let n = self.n, c = self.c, plane = self.plane, channelsLast = self.channelsLast
        let scale = from.scale / (to.scale * Float(plane)), bias = -from.zeroPoint * Int32(plane), zero = Float(to.zeroPoint)
        let lo = Float(range.lo), hi = Float(range.hi)
        ctx.parallel(n * c, grain: max(1, elementGrain / max(plane, 1))) { r in
            for i in r {
                let img = i / c, ch = i % c
                var sum: Int32 = 0
                if channelsLast {
                    let base = src + img * plane * c + ch
                    for k in 0..<plane { sum &+= Int32(base[k * c]) }
                } else {
                    let base = src + i * plane
                    for k in 0..<plane { sum &+= Int32(base[k]) }
                }
                let q = (Float(sum &+ bias) * scale).rounded(.toNearestOrEven) + zero
                let v = q > lo ? q : lo
                dst[i] = T(v < hi ? v : hi)
            }
        }
    }
}

/// com.microsoft QLinearAveragePool (X, x_scale, x_zero_point, y_scale, y_zero_point; AveragePool's
/// window attributes): the float AveragePool of the dequantized input, quantized back.
final class QLinearAveragePoolKernel: Kernel {
    private let pool: PoolKernel

    init(_ spec: NodeSpec) throws {
        guard try spec.int("channels_last", 0) == 0 else { throw KernelError.unsupported("channels_last QLinearAveragePool") }
        pool = try PoolKernel(spec, kind: .average(countIncludePad: try spec.int("count_include_pad", 0) != 0))
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0, "X")
        guard QuantizedType.isByte(x.type) else { throw QuantizedType.unsupported(x.type) }
        let from = try TensorQuantization(inputs, scale: 1, zeroPoint: 2, "x"),
            to = try TensorQuantization(inputs, scale: 3, zeroPoint: 4, "y")
        let xf = try dequantize(x, from, ctx)
        guard let yf = try pool.run([xf], ctx).first ?? nil else { throw KernelError.invalid("pooling produced no output") }
        return [try quantize(yf, to, as: inputs.optional(4)?.type ?? x.type, ctx)]
    }
}
