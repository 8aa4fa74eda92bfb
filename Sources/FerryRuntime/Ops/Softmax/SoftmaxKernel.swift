import FerryIR

/// The ops of this family.
enum SoftmaxKind { case softmax, logSoftmax, hardmax }

/// Softmax, LogSoftmax, Hardmax. Before opset 13 the input is read as 2-D, split at `axis` (default 1),
/// and normalised over the second dimension; from 13 on over the single axis `axis` (default -1).
final class SoftmaxKernel: Kernel {
    private let kind: SoftmaxKind
    private let axis: Int
    private let coerce2D: Bool

    init(_ kind: SoftmaxKind, _ spec: NodeSpec) throws {
        self.kind = kind
        coerce2D = spec.opset < 13
        axis = try spec.int("axis", coerce2D ? 1 : -1)
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0)
        let rank = x.rank
        guard axis >= -rank, axis < rank || (coerce2D && axis == rank) else {
            throw KernelError.invalid("axis \(axis) is out of range for rank \(rank)")
        }
        let a = axis < 0 ? axis + rank : axis
        let outer = x.shape[..<a].reduce(1, *)
        let n = coerce2D ? x.shape[a...].reduce(1, *) : x.shape[a]
        let inner = coerce2D ? 1 : x.shape[(a + 1)...].reduce(1, *)
        if x.type == .float16 || x.type == .bfloat16 {
            let r = try compute(try convert(x, to: .float, ctx: ctx), outer, n, inner, ctx)
            return [try convert(r, to: x.type, ctx: ctx)]
        }
        return [try compute(x, outer, n, inner, ctx)]
    }

    private func compute(_ x: Value, _ outer: Int, _ n: Int, _ inner: Int, _ ctx: ExecutionContext) throws -> Value {
        let out = try ctx.allocate(x.type, x.shape)
        guard out.count > 0 else { return out }
        switch x.type {
        case .float: SoftmaxRun<Float>(kind: kind, outer: outer, n: n, inner: inner).run(x, out, ctx)
        case .double: SoftmaxRun<Double>(kind: kind, outer: outer, n: n, inner: inner).run(x, out, ctx)
        default: throw KernelError.unsupported("element type \(x.type.name) (expected a floating-point type)")
        }
        return out
    }
}

/// The typed loops: contiguous rows when the axis is innermost, else columns `inner` wide.
private struct SoftmaxRun<T: SoftmaxFloat> {
    let kind: SoftmaxKind, outer: Int, n: Int, inner: Int

    func run(_ x: Value, _ out: Value, _ ctx: ExecutionContext) {
        let s = UnsafePointer(x.pointer(T.self)), d = out.pointer(T.self)
        let rowLength = n * inner
        ctx.parallel(outer, grain: max(1, 16384 / max(rowLength, 1))) { range in
            if inner == 1 {
                for o in range { row(s + o * n, d + o * n) }
            } else {
                withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * inner) { buffer in
                    guard let scratch = buffer.baseAddress else { return }
                    for o in range { columns(s + o * rowLength, d + o * rowLength, scratch) }
                }
            }
        }
    }

    /// One contiguous row of `n` elements.
    @inline(__always)
    private func row(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>) {
        var m = -T.infinity, at = 0
        for i in 0..<n where x[i] > m || (x[i] != x[i] && m == m) {
            m = x[i]
            at = i
        }
        switch kind {
        case .hardmax:
            for i in 0..<n { y[i] = 0 }
            y[at] = 1
        case .softmax:
            let sum = T.softmaxExp(x, minus: m, into: y, n)
            let scale = 1 / sum
            for i in 0..<n { y[i] *= scale }
        case .logSoftmax:
            let logSum = T.softmaxLog(T.softmaxExp(x, minus: m, into: y, n))
            for i in 0..<n { y[i] = (x[i] - m) - logSum }
        }
    }

    /// `n` rows of `inner` elements, normalised per column; `scratch` holds 2 * inner elements.
    @inline(__always)
    private func columns(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ scratch: UnsafeMutablePointer<T>) {
        let m = scratch, sum = scratch + inner
        m.update(from: x, count: inner)
        if kind == .hardmax {
            let winner = UnsafeMutablePointer<Int>.allocate(capacity: inner)
            defer { winner.deallocate() }
            winner.initialize(repeating: 0, count: inner)
            for r in 1..<n {
                let xr = x + r * inner
                for j in 0..<inner where xr[j] > m[j] || (xr[j] != xr[j] && m[j] == m[j]) {
                    m[j] = xr[j]
                    winner[j] = r
                }
            }
            for i in 0..<n * inner { y[i] = 0 }
            for j in 0..<inner { y[winner[j] * inner + j] = 1 }
            return
        }
        for r in 1..<n {
            let xr = x + r * inner
            for j in 0..<inner where xr[j] > m[j] || xr[j] != xr[j] { m[j] = xr[j] }
        }
        for j in 0..<inner { sum[j] = 0 }
        for r in 0..<n {
            let yr = y + r * inner
            T.softmaxExp(x + r * inner, minus: UnsafePointer(m), into: yr, inner)
            for j in 0..<inner { sum[j] += yr[j] }
        }
        if kind == .softmax {
            for j in 0..<inner { sum[j] = 1 / sum[j] }
            for r in 0..<n {
                let yr = y + r * inner
                for j in 0..<inner { yr[j] *= sum[j] }
            }
        } else {
            for j in 0..<inner { sum[j] = T.softmaxLog(sum[j]) }
            for r in 0..<n {
                let yr = y + r * inner, xr = x + r * inner
                for j in 0..<inner { yr[j] = (xr[j] - m[j]) - sum[j] }
            }
        }
    }
}
