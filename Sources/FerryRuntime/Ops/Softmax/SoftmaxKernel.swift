import CKernels
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

/// The typed loops: contiguous rows when the axis is innermost (float32's by `ferry_softmax_rows`), else
/// columns `inner` wide.
private struct SoftmaxRun<T: SoftmaxFloat> {
    let kind: SoftmaxKind, outer: Int, n: Int, inner: Int

    func run(_ x: Value, _ out: Value, _ ctx: ExecutionContext) {
        let s = UnsafePointer(x.pointer(T.self)), d = out.pointer(T.self)
        let (n, inner) = (self.n, self.inner)
        if inner == 1, T.self == Float.self, kind != .hardmax {
            let x = UnsafeRawPointer(s).assumingMemoryBound(to: Float.self)
            let y = UnsafeMutableRawPointer(d).assumingMemoryBound(to: Float.self)
            let log: Int32 = kind == .logSoftmax ? 1 : 0
            ctx.parallel(outer, itemElements: n) { range in
                ferry_softmax_rows(x + range.lowerBound * n, y + range.lowerBound * n, range.count, n, log)
            }
            return
        }
        if inner == 1 {
            ctx.parallel(outer, itemElements: n) { range in
                for o in range { row(s + o * n, d + o * n) }
            }
            return
        }
        // Columns in blocks that stay in cache, each block one task.
        let block = min(inner, 512), blocks = (inner + block - 1) / block
        ctx.parallel(outer * blocks, itemElements: n * block) { range in
            withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * block) { buffer in
                guard let scratch = buffer.baseAddress else { return }
                for t in range {
                    let o = t / blocks, j0 = (t % blocks) * block
                    let offset = o * n * inner + j0
                    columns(s + offset, d + offset, min(block, inner - j0), scratch)
                }
            }
        }
    }

    /// One contiguous row of `n` elements.
    @inline(__always)
    private func row(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>) {
        if kind == .hardmax {
            var m = -T.infinity, at = 0
            for i in 0..<n where x[i] > m || (x[i] != x[i] && m == m) {
                m = x[i]
                at = i
            }
            for i in 0..<n { y[i] = 0 }
            y[at] = 1
            return
        }
        let m = T.softmaxMax(x, n)
        if kind == .softmax {
            let scale = 1 / T.softmaxExp(x, minus: m, into: y, n)
            for i in 0..<n { y[i] *= scale }
        } else {
            let logSum = T.softmaxLog(T.softmaxExp(x, minus: m, into: y, n))
            for i in 0..<n { y[i] = (x[i] - m) - logSum }
        }
    }

    /// `width` columns of `n` rows `inner` apart, normalised per column; `scratch` holds 2 * width elements.
    @inline(__always)
    private func columns(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ width: Int, _ scratch: UnsafeMutablePointer<T>) {
        let m = scratch, sum = scratch + width
        m.update(from: x, count: width)
        if kind == .hardmax {
            withUnsafeTemporaryAllocation(of: Int.self, capacity: width) { buffer in
                guard let winner = buffer.baseAddress else { return }
                winner.initialize(repeating: 0, count: width)
                for r in 1..<n {
                    let xr = x + r * inner
                    for j in 0..<width where xr[j] > m[j] || (xr[j] != xr[j] && m[j] == m[j]) {
                        m[j] = xr[j]
                        winner[j] = r
                    }
                }
                for r in 0..<n {
                    let yr = y + r * inner
                    for j in 0..<width { yr[j] = winner[j] == r ? 1 : 0 }
                }
            }
            return
        }
        for r in 1..<n { T.softmaxColumnMax(m, x + r * inner, width) }
        for j in 0..<width { sum[j] = 0 }
        for r in 0..<n {
            let yr = y + r * inner
            T.softmaxExp(x + r * inner, minus: UnsafePointer(m), into: yr, width)
            for j in 0..<width { sum[j] += yr[j] }
        }
        if kind == .softmax {
            for j in 0..<width { sum[j] = 1 / sum[j] }
            for r in 0..<n {
                let yr = y + r * inner
                for j in 0..<width { yr[j] *= sum[j] }
            }
        } else {
            for j in 0..<width { sum[j] = T.softmaxLog(sum[j]) }
            for r in 0..<n {
                let yr = y + r * inner, xr = x + r * inner
                for j in 0..<width { yr[j] = (xr[j] - m[j]) - sum[j] }
            }
        }
    }
}
