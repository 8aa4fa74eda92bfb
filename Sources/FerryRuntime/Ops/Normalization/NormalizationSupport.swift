import FerryIR

/// Helpers the normalization kernels share: precision handling, parameter vectors, statistics.
enum NormalizationMath {
    /// `x` in a type the kernels compute in: float32 and float64 as they are, float16 and bfloat16
    /// widened to float32.
    static func widened(_ x: Value, _ ctx: ExecutionContext) throws -> Value {
        switch x.type {
        case .float, .double: return x
        case .float16, .bfloat16: return try convert(x, to: .float, ctx: ctx)
        default: throw KernelError.unsupported("element type \(x.type.name) (expected a floating-point type)")
        }
    }

    /// `y` converted back to `type` (a no-op when it already has it).
    static func narrowed(_ y: Value, to type: ElementType, _ ctx: ExecutionContext) throws -> Value {
        y.type == type ? y : try convert(y, to: type, ctx: ctx)
    }

    /// The elements of a float parameter tensor as doubles; `count` (when given) is the number the op needs.
    static func parameters(_ v: Value, _ what: String, count: Int?, _ ctx: ExecutionContext) throws -> [Double] {
        switch v.type {
        case .float, .double, .float16, .bfloat16: break
        default: throw KernelError.invalid("\(what) must be a floating-point tensor, got \(v.type.name)")
        }
        if let count, v.count != count {
            throw KernelError.invalid("\(what) has \(v.count) elements (shape \(v.shape)), expected \(count)")
        }
        let d = try convert(v, to: .double, ctx: ctx)
        return Array(UnsafeBufferPointer(start: d.pointer(Double.self), count: d.count))
    }

    /// A new tensor of `type` and `shape` holding `values`.
    static func tensor(_ values: [Double], type: ElementType, shape: [Int], _ ctx: ExecutionContext) throws -> Value {
        let d = try ctx.allocate(.double, shape)
        let p = d.pointer(Double.self)
        for (i, v) in values.enumerated() { p[i] = v }
        return try convert(d, to: type, ctx: ctx)
    }

    /// `axis` made non-negative for a tensor of rank `rank`.
    static func axis(_ axis: Int, rank: Int, _ what: String = "axis") throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else {
            throw KernelError.invalid("\(what) \(axis) is out of range for rank \(rank)")
        }
        return a
    }

    /// Sum of `n` contiguous elements, accumulated in double.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func sum<T: RTFloat>(_ p: UnsafePointer<T>, _ n: Int) -> Double {
        // Four independent accumulators, so the additions pipeline.
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= n {
            s0 += Double(p[i])
            s1 += Double(p[i + 1])
            s2 += Double(p[i + 2])
            s3 += Double(p[i + 3])
            i += 4
        }
        while i < n {
            s0 += Double(p[i])
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// Sum of the squared differences between `n` contiguous elements and `mean`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func squaredDeviations<T: RTFloat>(_ p: UnsafePointer<T>, _ n: Int, from mean: Double) -> Double {
        var q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0
        var i = 0
        while i + 4 <= n {
            let d0 = Double(p[i]) - mean, d1 = Double(p[i + 1]) - mean
            let d2 = Double(p[i + 2]) - mean, d3 = Double(p[i + 3]) - mean
            q0 += d0 * d0
            q1 += d1 * d1
            q2 += d2 * d2
            q3 += d3 * d3
            i += 4
        }
        while i < n {
            let d = Double(p[i]) - mean
            q0 += d * d
            i += 1
        }
        return (q0 + q1) + (q2 + q3)
    }

    /// `dst[i] = src[i] * a + b` over `n` contiguous elements.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func affine<T: RTFloat>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, _ n: Int, _ a: T, _ b: T) {
        for i in 0..<n { dst[i] = src[i] * a + b }
    }

    /// Mean and population variance of each contiguous run of `inner` elements of `x` (float32 or float64).
    static func segmentMoments(_ x: Value, inner: Int, _ ctx: ExecutionContext) throws -> (mean: [Double], variance: [Double]) {
        try dispatchFloat(x.type, NormalizationMomentsVisitor(x: x, inner: inner, ctx: ctx))
    }

    /// A new tensor like `x` where run `s` of `inner` elements is `x * a[s % a.count] + b[s % a.count]`.
    static func applyAffine(_ x: Value, inner: Int, a: [Double], b: [Double], _ ctx: ExecutionContext) throws -> Value {
        let y = try ctx.allocate(x.type, x.shape)
        try dispatchFloat(x.type, NormalizationAffineVisitor(x: x, y: y, inner: inner, a: a, b: b, ctx: ctx))
        return y
    }
}

/// Computes `NormalizationMath.segmentMoments` for one element type.
private struct NormalizationMomentsVisitor: FloatVisitor {
    let x: Value, inner: Int, ctx: ExecutionContext

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func visit<T: RTFloat>(_: T.Type) throws -> (mean: [Double], variance: [Double]) {
        let segments = inner == 0 ? 0 : x.count / inner
        var mean = [Double](repeating: 0, count: segments)
        var variance = [Double](repeating: 0, count: segments)
        let src = x.pointer(T.self), n = inner
        mean.withUnsafeMutableBufferPointer { mp in
            variance.withUnsafeMutableBufferPointer { vp in
                let m = mp, v = vp
                ctx.parallel(segments, itemElements: n) { r in
                    for s in r {
                        let p = UnsafePointer(src + s * n)
                        let mu = NormalizationMath.sum(p, n) / Double(n)
                        m[s] = mu
                        v[s] = NormalizationMath.squaredDeviations(p, n, from: mu) / Double(n)
                    }
                }
            }
        }
        return (mean, variance)
    }
}

/// Computes `NormalizationMath.applyAffine` for one element type.
private struct NormalizationAffineVisitor: FloatVisitor {
    let x: Value, y: Value, inner: Int, a: [Double], b: [Double], ctx: ExecutionContext

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func visit<T: RTFloat>(_: T.Type) throws {
        guard inner > 0, !a.isEmpty else { return }
        let segments = x.count / inner, params = a.count, n = inner
        let at = a.map { T($0) }, bt = b.map { T($0) }
        let src = x.pointer(T.self), dst = y.pointer(T.self)
        at.withUnsafeBufferPointer { ap in
            bt.withUnsafeBufferPointer { bp in
                ctx.parallel(segments, itemElements: n) { r in
                    for s in r {
                        let k = s % params
                        NormalizationMath.affine(src + s * n, dst + s * n, n, ap[k], bp[k])
                    }
                }
            }
        }
    }
}
