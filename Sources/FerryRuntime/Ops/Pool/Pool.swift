import CKernels
import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a pooling window computes.
enum PoolKind {
    case max
    case average(countIncludePad: Bool)
    case lp(p: Int)
}

/// For one spatial axis and every output coordinate: the input indices the window reads, and the
/// window size counted over the padded extent (AveragePool's divisor with count_include_pad).
struct PoolAxisTaps {
    var taps: [[Int]] = []
    var paddedCount: [Int] = []

    init(input: Int, output: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int) {
        for o in 0..<output {
            let start = o * stride - padBegin
            var t: [Int] = [], padded = 0
            for k in 0..<kernel {
                let i = start + k * dilation
                if i < input + padEnd { padded += 1 }
                if i >= 0 && i < input { t.append(i) }
            }
            taps.append(t)
            paddedCount.append(padded)
        }
    }
}

/// MaxPool, AveragePool and LpPool over any number of spatial axes, one (N, C) plane per task.
final class PoolKernel: Kernel {
    private let kind: PoolKind
    private let geometry: WindowGeometry
    private let storageOrder: Int
    /// MaxPool's optional Indices output is wired.
    private let wantsIndices: Bool

    init(_ spec: NodeSpec, kind: PoolKind) throws {
        self.kind = kind
        geometry = try WindowGeometry(spec, kernel: nil)
        storageOrder = try spec.int("storage_order", 0)
        wantsIndices = spec.hasOutput(1)
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0, "X")
        guard x.rank == geometry.rank + 2 else {
            throw KernelError.invalid("input \(x.shape) does not have \(geometry.rank) spatial axes")
        }
        let spatial = Array(x.shape.dropFirst(2))
        let (outSpatial, pb, pe) = try geometry.forward(spatial)
        let axes = (0..<geometry.rank).map {
            PoolAxisTaps(
                input: spatial[$0], output: outSpatial[$0], kernel: geometry.kernel[$0], stride: geometry.strides[$0],
                dilation: geometry.dilations[$0], padBegin: pb[$0], padEnd: pe[$0])
        }
        let shape = Array(x.shape.prefix(2)) + outSpatial
        if x.type == .float && geometry.rank == 2 && !wantsIndices, let fast = try pool2D(x, shape, pb, pe, ctx) { return [fast] }
        // Quantized (1-byte) 2-D max pooling by its C kernel (a window outside the input gives 0, as
        // the float kernel does).
        if case .max = kind, QuantizedType.isByte(x.type) && geometry.rank == 2 && !wantsIndices {
            let y = try ctx.allocate(x.type, shape)
            let g = geometry, h = x.shape[2], w = x.shape[3], oh = shape[2], ow = shape[3],
                signed: Int32 = x.type == .int8 ? 1 : 0
            let px = UnsafeRawPointer(x.buffer.baseAddress), py = y.buffer.baseAddress
            ctx.parallel(shape[0] * shape[1], itemElements: oh * ow * g.kernel[0] * g.kernel[1]) { r in
                ferry_max_pool_2d_bytes(
                    px, py, signed, 0, r.lowerBound, r.upperBound, h, w, g.kernel[0], g.kernel[1], g.strides[0],
                    g.strides[1], g.dilations[0], g.dilations[1], pb[0], pb[1], oh, ow)
            }
            return [y]
        }
        switch kind {
        case .max:
            guard x.type != .float16 else { throw KernelError.unsupported("float16") }
            return try dispatchNumeric(
                x.type, PoolMaxVisitor(x: x, shape: shape, axes: axes, spatial: spatial, storageOrder: storageOrder, ctx: ctx))
        case .average(let include):
            return [
                try dispatchFloat(
                    x.type, PoolSumVisitor(x: x, shape: shape, axes: axes, average: include ? 2 : 1, p: 1, ctx: ctx))
            ]
        case .lp(let p):
            return [try dispatchFloat(x.type, PoolSumVisitor(x: x, shape: shape, axes: axes, average: 0, p: p, ctx: ctx))]
        }
    }
}

extension PoolKernel {
    /// Float32 2-D max and average pooling by the C kernel; nil for Lp pooling.
    private func pool2D(_ x: Value, _ shape: [Int], _ pb: [Int], _ pe: [Int], _ ctx: ExecutionContext) throws -> Value? {
        let average: Bool, includePad: Bool
        switch kind {
        case .max:
            average = false
            includePad = false
        case .average(let include):
            average = true
            includePad = include
        case .lp: return nil
        }
        let y = try ctx.allocate(.float, shape)
        let g = geometry, h = x.shape[2], w = x.shape[3], oh = shape[2], ow = shape[3]
        let px = x.floats, py = y.floats
        ctx.parallel(shape[0] * shape[1], itemElements: oh * ow * g.kernel[0] * g.kernel[1]) { r in
            ferry_pool_2d(
                px, py, r.lowerBound, r.upperBound, h, w, g.kernel[0], g.kernel[1], g.strides[0], g.strides[1],
                g.dilations[0], g.dilations[1], pb[0], pb[1], pe[0], pe[1], oh, ow, average ? 1 : 0, includePad ? 1 : 0)
        }
        return y
    }
}

/// Walks every output position of one plane with its window's input offsets.
@inline(__always)
private func forEachWindow(
    _ axes: [PoolAxisTaps], _ spatial: [Int], _ body: (_ out: Int, _ offsets: [Int], _ padded: Int) -> Void
) {
    let rank = axes.count
    var inStride = [Int](repeating: 1, count: rank)
    for d in stride(from: rank - 2, through: 0, by: -1) { inStride[d] = inStride[d + 1] * spatial[d + 1] }
    let outShape = axes.map { $0.taps.count }
    let total = outShape.reduce(1, *)
    var idx = [Int](repeating: 0, count: rank)
    var offsets: [Int] = []
    for o in 0..<total {
        offsets.removeAll(keepingCapacity: true)
        var padded = 1
        for d in 0..<rank { padded *= axes[d].paddedCount[idx[d]] }
        switch rank {
        case 1:
            offsets.append(contentsOf: axes[0].taps[idx[0]])
        case 2:
            let t1 = axes[1].taps[idx[1]]
            for i in axes[0].taps[idx[0]] {
                let base = i * inStride[0]
                for j in t1 { offsets.append(base + j) }
            }
        case 3:
            let t1 = axes[1].taps[idx[1]], t2 = axes[2].taps[idx[2]]
            for i in axes[0].taps[idx[0]] {
                for j in t1 {
                    let base = i * inStride[0] + j * inStride[1]
                    for k in t2 { offsets.append(base + k) }
                }
            }
        default:
            offsets.append(0)
            for d in 0..<rank {
                let t = axes[d].taps[idx[d]]
                offsets = offsets.flatMap { base in t.map { base + $0 * inStride[d] } }
            }
        }
        body(o, offsets, padded)
        stepIndex(&idx, within: outShape, axes: rank)
    }
}

private struct PoolMaxVisitor: NumericVisitor {
    let x: Value, shape: [Int], axes: [PoolAxisTaps], spatial: [Int], storageOrder: Int, ctx: ExecutionContext

    func visit<T: RTNumber>(_: T.Type) throws -> [Value?] {
        let y = try ctx.allocate(x.type, shape)
        let indices = try ctx.allocate(.int64, shape)
        let planes = shape[0] * shape[1]
        let inPlane = spatial.reduce(1, *), outPlane = shape.dropFirst(2).reduce(1, *)
        let px = x.pointer(T.self), py = y.pointer(T.self), pi = indices.pointer(Int64.self)
        let axes = self.axes, spatial = self.spatial, columnMajor = storageOrder == 1
        ctx.parallel(planes) { r in
            for plane in r {
                let src = px + plane * inPlane
                forEachWindow(axes, spatial) { o, offsets, _ in
                    var best: T? = nil, at = 0
                    for off in offsets where best == nil || src[off] > best! || src[off] != src[off] {
                        best = src[off]
                        at = off
                        if src[off] != src[off] { break }
                    }
                    py[plane * outPlane + o] = best ?? T.zero
                    var flat = at
                    if columnMajor && spatial.count == 2 { flat = (at % spatial[1]) * spatial[0] + at / spatial[1] }
                    pi[plane * outPlane + o] = Int64(plane * inPlane + flat)
                }
            }
        }
        return [y, indices]
    }
}

private struct PoolSumVisitor: FloatVisitor {
    let x: Value, shape: [Int], axes: [PoolAxisTaps]
    /// 0: Lp norm, 1: average over valid taps, 2: average over the padded window.
    let average: Int
    let p: Int
    let ctx: ExecutionContext

    func visit<T: RTFloat>(_: T.Type) throws -> Value {
        let y = try ctx.allocate(x.type, shape)
        let planes = shape[0] * shape[1]
        let spatial = Array(x.shape.dropFirst(2))
        let inPlane = spatial.reduce(1, *), outPlane = shape.dropFirst(2).reduce(1, *)
        let px = x.pointer(T.self), py = y.pointer(T.self)
        let axes = self.axes, average = self.average, p = self.p
        ctx.parallel(planes) { r in
            for plane in r {
                let src = px + plane * inPlane
                forEachWindow(axes, spatial) { o, offsets, padded in
                    var s = T.zero
                    if average > 0 {
                        for off in offsets { s += src[off] }
                        let n = average == 2 ? padded : offsets.count
                        py[plane * outPlane + o] = n > 0 ? s / T(n) : 0
                    } else {
                        for off in offsets {
                            let v = abs(src[off])
                            s += p == 1 ? v : (p == 2 ? v * v : T.pow(v, T(p)))
                        }
                        py[plane * outPlane + o] = p == 1 ? s : (p == 2 ? s.squareRoot() : T.pow(s, 1 / T(p)))
                    }
                }
            }
        }
        return y
    }
}

/// GlobalAveragePool, GlobalMaxPool and GlobalLpPool: one value per (N, C) plane.
private func globalPool(_ x: Value, _ ctx: ExecutionContext, _ reduce: @escaping (UnsafeMutablePointer<Float>, Int) -> Float)
    throws -> Value
{
    guard x.rank >= 2 else { throw KernelError.invalid("input must have rank >= 2, got \(x.shape)") }
    let xf = try convert(x, to: .float, ctx: ctx)
    let planes = x.shape[0] * x.shape[1], plane = x.shape.dropFirst(2).reduce(1, *)
    let y = try ctx.allocate(.float, Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.rank - 2))
    let px = xf.floats, py = y.floats
    ctx.parallel(planes, grain: max(1, elementGrain / max(plane, 1))) { r in
        for i in r { py[i] = reduce(px + i * plane, plane) }
    }
    return try convert(y, to: x.type, ctx: ctx)
}

/// The pooling ops.
enum PoolOps {
    static func register(into r: inout KernelRegistry) {
        r.register("MaxPool") { spec in try PoolKernel(spec, kind: .max) }
        r.register("AveragePool") { spec in
            try PoolKernel(spec, kind: .average(countIncludePad: try spec.int("count_include_pad", 0) != 0))
        }
        r.register("LpPool") { spec in try PoolKernel(spec, kind: .lp(p: try spec.int("p", 2))) }
        r.register("GlobalAveragePool") { _ in
            FunctionKernel { inputs, ctx in
                [try globalPool(try inputs.required(0), ctx) { p, n in n > 0 ? laneSum(UnsafePointer(p), n) / Float(n) : 0 }]
            }
        }
        r.register("GlobalMaxPool") { _ in
            FunctionKernel { inputs, ctx in
                [
                    try globalPool(try inputs.required(0), ctx) { p, n in
                        var m = -Float.infinity
                        for i in 0..<n where p[i] > m || p[i].isNaN { m = p[i] }
                        return m
                    }
                ]
            }
        }
        r.register("GlobalLpPool") { spec in
            let p = Float(try spec.int("p", 2))
            return FunctionKernel { inputs, ctx in
                [
                    try globalPool(try inputs.required(0), ctx) { x, n in
                        var s: Float = 0
                        for i in 0..<n { s += powf(abs(x[i]), p) }
                        return powf(s, 1 / p)
                    }
                ]
            }
        }
    }
}
