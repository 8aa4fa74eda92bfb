import FerryIR

/// CumSum: running sums along the axis given as input 1 (`exclusive` leaves each element out of its
/// own sum, `reverse` runs from the end), in the input's element type.
final class ReduceCumSumKernel: Kernel {
    private let exclusive: Bool
    private let reverse: Bool

    init(_ spec: NodeSpec) throws {
        exclusive = try spec.int("exclusive", 0) != 0
        reverse = try spec.int("reverse", 0) != 0
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0)
        let axisValues = try inputs.required(1, "axis").ints()
        guard axisValues.count == 1 else { throw KernelError.invalid("axis must be a scalar, got \(axisValues.count) values") }
        let a = try ReduceGeometry.normalize(axisValues, rank: x.rank)[0]
        if x.type == .float16 || x.type == .bfloat16 {
            return [try convert(try cumulate(try convert(x, to: .float, ctx: ctx), axis: a, ctx), to: x.type, ctx: ctx)]
        }
        return [try cumulate(x, axis: a, ctx)]
    }

    private func cumulate(_ x: Value, axis a: Int, _ ctx: ExecutionContext) throws -> Value {
        let out = try ctx.allocate(x.type, x.shape)
        let outer = x.shape[..<a].reduce(1, *), n = x.shape[a], inner = x.shape[(a + 1)...].reduce(1, *)
        try dispatchNumeric(
            x.type,
            ReduceCumSumRun(
                x: x, out: out, outer: outer, n: n, inner: inner,
                exclusive: exclusive, reverse: reverse, ctx: ctx))
        return out
    }
}

/// The typed loop of CumSum: each output row is the previous output row plus one input row.
private struct ReduceCumSumRun: NumericVisitor {
    let x: Value, out: Value, outer: Int, n: Int, inner: Int, exclusive: Bool, reverse: Bool, ctx: ExecutionContext

    func visit<T: RTNumber>(_: T.Type) throws {
        guard n > 0, inner > 0 else { return }
        let s = x.pointer(T.self), d = out.pointer(T.self)
        let (n, inner, exclusive, reverse) = (self.n, self.inner, self.exclusive, self.reverse)
        ctx.parallel(outer, itemElements: n * inner) { range in
            if inner == 1 {
                // One running sum per row.
                for o in range {
                    let xs = s + o * n, ys = d + o * n
                    var acc = T.zero
                    for step in 0..<n {
                        let r = reverse ? n - 1 - step : step
                        let v = xs[r]
                        if exclusive {
                            ys[r] = acc
                            acc = T.add(acc, v)
                        } else {
                            acc = T.add(acc, v)
                            ys[r] = acc
                        }
                    }
                }
                return
            }
            for o in range {
                let xs = s + o * n * inner, ys = d + o * n * inner
                for step in 0..<n {
                    let r = reverse ? n - 1 - step : step
                    let y = ys + r * inner
                    if step == 0 {
                        if exclusive {
                            for j in 0..<inner { y[j] = T.zero }
                        } else {
                            y.update(from: xs + r * inner, count: inner)
                        }
                        continue
                    }
                    let prev = reverse ? r + 1 : r - 1
                    let yp = ys + prev * inner, xp = xs + (exclusive ? prev : r) * inner
                    for j in 0..<inner { y[j] = T.add(yp[j], xp[j]) }
                }
            }
        }
    }
}
