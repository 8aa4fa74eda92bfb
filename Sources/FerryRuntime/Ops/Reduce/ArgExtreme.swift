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
        guard outer > 0 && inner > 0 else { return [out] } // another axis is empty: so is the output
        try dispatchNumeric(
            x.type,
            ReduceArgRun(
                x: x, out: out, outer: outer, n: n, inner: inner,
                largest: largest, selectLast: selectLast, ctx: ctx))
        return [out]
    }
}

/// Which element wins ArgMax / ArgMin: `wins(v, best)` is true when `v` replaces the extreme so far.
private protocol ReduceArgOrder {
    static func wins<T: RTNumber>(_ v: T, _ best: T) -> Bool
    static func wins(_ v: SIMD8<Float>, _ best: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>>
}
/// Largest, first on ties; a NaN beats every number.
private enum ReduceArgMaxFirst: ReduceArgOrder {
    @inline(__always) static func wins<T: RTNumber>(_ v: T, _ b: T) -> Bool { (v > b) || (v != v && b == b) }
    @inline(__always) static func wins(_ v: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>> {
        (v .> b) .| ((v .!= v) .& (b .== b))
    }
}
/// Largest, last on ties; a later NaN beats an earlier one.
private enum ReduceArgMaxLast: ReduceArgOrder {
    @inline(__always) static func wins<T: RTNumber>(_ v: T, _ b: T) -> Bool { (v >= b && b == b) || v != v }
    @inline(__always) static func wins(_ v: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>> {
        ((v .>= b) .& (b .== b)) .| (v .!= v)
    }
}
/// Smallest, first on ties; a NaN beats every number.
private enum ReduceArgMinFirst: ReduceArgOrder {
    @inline(__always) static func wins<T: RTNumber>(_ v: T, _ b: T) -> Bool { (v < b) || (v != v && b == b) }
    @inline(__always) static func wins(_ v: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>> {
        (v .< b) .| ((v .!= v) .& (b .== b))
    }
}
/// Smallest, last on ties; a later NaN beats an earlier one.
private enum ReduceArgMinLast: ReduceArgOrder {
    @inline(__always) static func wins<T: RTNumber>(_ v: T, _ b: T) -> Bool { (v <= b && b == b) || v != v }
    @inline(__always) static func wins(_ v: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMDMask<SIMD8<Int32>> {
        ((v .<= b) .& (b .== b)) .| (v .!= v)
    }
}

/// The typed loops of ArgMax / ArgMin: a scan per row when the axis is innermost, else running
/// extremes over blocks of columns (eight lanes at a time for float32).
private struct ReduceArgRun: NumericVisitor {
    let x: Value, out: Value, outer: Int, n: Int, inner: Int, largest: Bool, selectLast: Bool, ctx: ExecutionContext

    func visit<T: RTNumber>(_: T.Type) throws {
        switch (largest, selectLast) {
        case (true, false): scan(T.self, ReduceArgMaxFirst.self)
        case (true, true): scan(T.self, ReduceArgMaxLast.self)
        case (false, false): scan(T.self, ReduceArgMinFirst.self)
        case (false, true): scan(T.self, ReduceArgMinLast.self)
        }
    }

    private func scan<T: RTNumber, O: ReduceArgOrder>(_: T.Type, _: O.Type) {
        let s = x.pointer(T.self), d = out.pointer(Int64.self)
        let (n, inner) = (self.n, self.inner)
        if inner == 1 {
            ctx.parallel(outer, itemElements: n) { range in
                for o in range {
                    let row = s + o * n
                    var b = row[0], at = 0
                    for r in 1..<n where O.wins(row[r], b) {
                        b = row[r]
                        at = r
                    }
                    d[o] = Int64(at)
                }
            }
            return
        }
        let block = min(inner, 512), blocks = (inner + block - 1) / block
        // Row numbers ride along as floats in the vector path, exact below 2^24.
        let vector = T.self == Float.self && n < 1 << 24
        ctx.parallel(outer * blocks, itemElements: n * block) { range in
            withUnsafeTemporaryAllocation(of: T.self, capacity: 2 * block) { buffer in
                guard let best = buffer.baseAddress else { return }
                for t in range {
                    let o = t / blocks, j0 = (t % blocks) * block, width = min(block, inner - j0)
                    let base = s + o * n * inner + j0, index = d + o * inner + j0
                    if vector {
                        let raw = UnsafeMutableRawPointer(best)
                        ReduceArgRun.columns(
                            O.self, UnsafeRawPointer(base).assumingMemoryBound(to: Float.self), index, width: width, n: n,
                            inner: inner, best: raw.assumingMemoryBound(to: Float.self),
                            at: (raw + block * 4).assumingMemoryBound(to: Float.self))
                        continue
                    }
                    best.update(from: base, count: width)
                    for j in 0..<width { index[j] = 0 }
                    for r in 1..<n {
                        let row = base + r * inner, rr = Int64(r)
                        for j in 0..<width where O.wins(row[j], best[j]) {
                            best[j] = row[j]
                            index[j] = rr
                        }
                    }
                }
            }
        }
    }

    /// Float32 columns: best values and their rows (as floats) in `best` and `at`, `width` each.
    private static func columns<O: ReduceArgOrder>(
        _: O.Type, _ base: UnsafePointer<Float>, _ index: UnsafeMutablePointer<Int64>,
        width: Int, n: Int, inner: Int,
        best: UnsafeMutablePointer<Float>, at: UnsafeMutablePointer<Float>
    ) {
        best.update(from: base, count: width)
        at.update(repeating: 0, count: width)
        let lanes = width / 8 * 8
        for r in 1..<n {
            let row = base + r * inner, rr = Float(r)
            var j = 0
            while j < lanes {
                let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
                var b = UnsafeRawPointer(best + j).loadUnaligned(as: SIMD8<Float>.self)
                var a = UnsafeRawPointer(at + j).loadUnaligned(as: SIMD8<Float>.self)
                let take = O.wins(v, b)
                b.replace(with: v, where: take)
                a.replace(with: rr, where: take)
                UnsafeMutableRawPointer(best + j).storeBytes(of: b, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(at + j).storeBytes(of: a, as: SIMD8<Float>.self)
                j += 8
            }
            for k in lanes..<width where O.wins(row[k], best[k]) {
                best[k] = row[k]
                at[k] = rr
            }
        }
        for j in 0..<width { index[j] = Int64(at[j]) }
    }
}
