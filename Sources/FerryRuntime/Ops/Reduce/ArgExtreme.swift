import FerryIR

/// ArgMax / ArgMin: int64 index of the extreme element along `axis` (first one on ties, or last with
/// `select_last_index`; a NaN counts as the extreme, like NumPy).
final class ReduceArgKernel: Kernel {
    private let largest: Bool
    private let axis: Int
    private let keepdims: Bool
    private let selectLast: Bool

    init(largest: Bool, _ spec: NodeSpec) throws {
        self.largest = largest
        axis = try spec.int("axis", 0)
        keepdims = try spec.int("keepdims", 1) != 0
        selectLast = try spec.int("select_last_index", 0) != 0
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        var x = try inputs.required(0)
        if x.type == .float16 || x.type == .bfloat16 { x = try convert(x, to: .float, ctx: ctx) }
        let a = try ReduceGeometry.normalize([axis], rank: x.rank)[0]
        guard x.shape[a] > 0 else { throw KernelError.invalid("cannot take the arg extreme of an empty axis") }
        let outer = x.shape[..<a].reduce(1, *), n = x.shape[a], inner = x.shape[(a + 1)...].reduce(1, *)
        var shape = x.shape
        if keepdims { shape[a] = 1 } else { shape.remove(at: a) }
        let out = try ctx.allocate(.int64, shape)
        try dispatchNumeric(x.type, ReduceArgRun(x: x, out: out, outer: outer, n: n, inner: inner,
                                                 largest: largest, selectLast: selectLast, ctx: ctx))
        return [out]
    }
}

/// The typed loop of ArgMax / ArgMin.
private struct ReduceArgRun: NumericVisitor {
    let x: Value, out: Value, outer: Int, n: Int, inner: Int, largest: Bool, selectLast: Bool, ctx: ExecutionContext

    func visit<T: RTNumber>(_: T.Type) throws {
        let s = x.pointer(T.self), d = out.pointer(Int64.self)
        let (n, inner, largest, selectLast) = (self.n, self.inner, self.largest, self.selectLast)
        /// True when `v` should replace `best` as the extreme seen so far.
        @inline(__always) func replaces(_ v: T, _ best: T) -> Bool {
            if best != best { return selectLast && v != v }
            if v != v { return true }
            if selectLast { return largest ? v >= best : v <= best }
            return largest ? v > best : v < best
        }
        ctx.parallel(outer, grain: max(1, 16384 / max(n * inner, 1))) { range in
            withUnsafeTemporaryAllocation(of: T.self, capacity: inner) { bestBuffer in
                guard let best = bestBuffer.baseAddress else { return }
                for o in range {
                    let base = s + o * n * inner, index = d + o * inner
                    best.initialize(from: base, count: inner)
                    for j in 0..<inner { index[j] = 0 }
                    for r in 1..<n {
                        let row = base + r * inner
                        for j in 0..<inner where replaces(row[j], best[j]) {
                            best[j] = row[j]
                            index[j] = Int64(r)
                        }
                    }
                }
            }
        }
    }
}
