/// The row loops every reduction rule runs through (`outer x reduced x inner`, see `ReduceGeometry`).
enum ReduceDriver {
    /// Writes `outer * inner` outputs to `dst`, each folding `reduced` elements of `src`.
    static func run<R: ReduceRule>(
        _ rule: R, _ src: UnsafePointer<R.Element>, _ dst: UnsafeMutablePointer<R.Element>,
        outer: Int, reduced: Int, inner: Int, ctx: ExecutionContext
    ) {
        guard outer > 0, inner > 0 else { return }
        if inner == 1 {
            if outer < ctx.threads && reduced >= 1 << 16 {
                splitRows(rule, src, dst, outer: outer, reduced: reduced, ctx: ctx)
            } else {
                ctx.parallel(outer, grain: max(1, 32768 / max(reduced, 1))) { range in
                    for o in range { dst[o] = rule.finish(fold(rule, src + o * reduced, reduced, o), reduced, o) }
                }
            }
            return
        }
        // Columns: an accumulator per inner element, rows of `inner` added in turn (vectorisable).
        let block = min(inner, 1024)
        let blocks = (inner + block - 1) / block
        ctx.parallel(outer * blocks, grain: max(1, 32768 / max(reduced * block, 1))) { range in
            withUnsafeTemporaryAllocation(of: R.Acc.self, capacity: block) { buffer in
                guard let acc = buffer.baseAddress else { return }
                for t in range {
                    let o = t / blocks, j0 = (t % blocks) * block, width = min(block, inner - j0)
                    let first = o * inner + j0
                    acc.initialize(repeating: rule.initial, count: width)
                    for r in 0..<reduced {
                        let row = src + (o * reduced + r) * inner + j0
                        for j in 0..<width { acc[j] = rule.step(acc[j], row[j], first + j) }
                    }
                    for j in 0..<width { dst[first + j] = rule.finish(acc[j], reduced, first + j) }
                }
            }
        }
    }

    /// Folds `n` contiguous elements with four independent accumulators (shorter dependency chains,
    /// and blocked summation for floating-point sums).
    @inline(__always)
    private static func fold<R: ReduceRule>(_ rule: R, _ p: UnsafePointer<R.Element>, _ n: Int, _ o: Int) -> R.Acc {
        var a0 = rule.initial, a1 = rule.initial, a2 = rule.initial, a3 = rule.initial
        var i = 0
        while i + 4 <= n {
            a0 = rule.step(a0, p[i], o)
            a1 = rule.step(a1, p[i + 1], o)
            a2 = rule.step(a2, p[i + 2], o)
            a3 = rule.step(a3, p[i + 3], o)
            i += 4
        }
        while i < n {
            a0 = rule.step(a0, p[i], o)
            i += 1
        }
        return rule.merge(rule.merge(a0, a1), rule.merge(a2, a3))
    }

    /// Few long rows: every thread folds one slice of each row, then the slices merge.
    private static func splitRows<R: ReduceRule>(
        _ rule: R, _ src: UnsafePointer<R.Element>, _ dst: UnsafeMutablePointer<R.Element>,
        outer: Int, reduced: Int, ctx: ExecutionContext
    ) {
        let slices = ctx.threads
        let partial = UnsafeMutablePointer<R.Acc>.allocate(capacity: outer * slices)
        defer { partial.deallocate() }
        partial.initialize(repeating: rule.initial, count: outer * slices)
        ctx.parallel(slices) { range in
            for c in range {
                let lo = reduced * c / slices, hi = reduced * (c + 1) / slices
                for o in 0..<outer { partial[o * slices + c] = fold(rule, src + o * reduced + lo, hi - lo, o) }
            }
        }
        for o in 0..<outer {
            var acc = partial[o * slices]
            for c in 1..<slices { acc = rule.merge(acc, partial[o * slices + c]) }
            dst[o] = rule.finish(acc, reduced, o)
        }
    }
}
