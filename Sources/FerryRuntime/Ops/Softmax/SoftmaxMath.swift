#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The floating-point types Softmax computes in, with their row exponentials (vectorised for Float).
protocol SoftmaxFloat: RTFloat {
    /// y[i] = exp(x[i] - shift) for i in 0..<n; returns the sum of the y[i].
    static func softmaxExp(_ x: UnsafePointer<Self>, minus shift: Self, into y: UnsafeMutablePointer<Self>, _ n: Int) -> Self
    /// y[i] = exp(x[i] - shifts[i]) for i in 0..<n.
    static func softmaxExp(
        _ x: UnsafePointer<Self>, minus shifts: UnsafePointer<Self>, into y: UnsafeMutablePointer<Self>, _ n: Int)
    static func softmaxLog(_ x: Self) -> Self
    /// The largest of x[0..<n] (n > 0), or NaN when there is one.
    static func softmaxMax(_ x: UnsafePointer<Self>, _ n: Int) -> Self
    /// m[i] = max(m[i], x[i]) for i in 0..<n (a NaN sticks).
    static func softmaxColumnMax(_ m: UnsafeMutablePointer<Self>, _ x: UnsafePointer<Self>, _ n: Int)
}

extension SoftmaxFloat {
    /// `softmaxMax` one element at a time.
    @inline(__always) static func softmaxScalarMax(_ x: UnsafePointer<Self>, from start: Int, _ n: Int, _ initial: Self) -> Self {
        var m = initial
        for i in start..<n where x[i] > m || x[i] != x[i] {
            m = x[i]
            if m != m { break }
        }
        return m
    }
}

extension Float: SoftmaxFloat {
    static func softmaxExp(_ x: UnsafePointer<Float>, minus shift: Float, into y: UnsafeMutablePointer<Float>, _ n: Int) -> Float
    {
        var acc = SIMD8<Float>(repeating: 0)
        let s = SIMD8<Float>(repeating: shift)
        var i = 0
        while i + 8 <= n {
            let e = SoftmaxVector.exp(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - s)
            UnsafeMutableRawPointer(y + i).storeBytes(of: e, as: SIMD8<Float>.self)
            acc += e
            i += 8
        }
        var sum = acc.sum()
        while i < n {
            y[i] = expf(x[i] - shift)
            sum += y[i]
            i += 1
        }
        return sum
    }

    static func softmaxExp(
        _ x: UnsafePointer<Float>, minus shifts: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        var i = 0
        while i + 8 <= n {
            let v =
                UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                - UnsafeRawPointer(shifts + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: SoftmaxVector.exp(v), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            y[i] = expf(x[i] - shifts[i])
            i += 1
        }
    }

    static func softmaxLog(_ x: Float) -> Float { logf(x) }

    static func softmaxMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        guard n >= 8 else { return softmaxScalarMax(x, from: 0, n, -.infinity) }
        var acc = UnsafeRawPointer(x).loadUnaligned(as: SIMD8<Float>.self)
        var i = 8
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            acc.replace(with: v, where: (v .> acc) .| (v .!= v))
            i += 8
        }
        var m = acc[0]
        for lane in 1..<8 where acc[lane] > m || acc[lane] != acc[lane] {
            m = acc[lane]
            if m != m { break }
        }
        return m != m ? m : softmaxScalarMax(x, from: i, n, m)
    }

    static func softmaxColumnMax(_ m: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            var a = UnsafeRawPointer(m + i).loadUnaligned(as: SIMD8<Float>.self)
            a.replace(with: v, where: (v .> a) .| (v .!= v))
            UnsafeMutableRawPointer(m + i).storeBytes(of: a, as: SIMD8<Float>.self)
            i += 8
        }
        for k in i..<n where x[k] > m[k] || x[k] != x[k] { m[k] = x[k] }
    }
}

extension Double: SoftmaxFloat {
    static func softmaxExp(_ x: UnsafePointer<Double>, minus shift: Double, into y: UnsafeMutablePointer<Double>, _ n: Int)
        -> Double
    {
        var sum = 0.0
        for i in 0..<n {
            y[i] = exp(x[i] - shift)
            sum += y[i]
        }
        return sum
    }

    static func softmaxExp(
        _ x: UnsafePointer<Double>, minus shifts: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, _ n: Int
    ) {
        for i in 0..<n { y[i] = exp(x[i] - shifts[i]) }
    }

    static func softmaxLog(_ x: Double) -> Double { log(x) }

    static func softmaxMax(_ x: UnsafePointer<Double>, _ n: Int) -> Double { softmaxScalarMax(x, from: 0, n, -.infinity) }

    static func softmaxColumnMax(_ m: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, _ n: Int) {
        for k in 0..<n where x[k] > m[k] || x[k] != x[k] { m[k] = x[k] }
    }
}

/// exp of eight floats at once (Cephes' expf: range reduction by ln 2, degree-6 polynomial, about
/// 1 ulp over the float range); underflows to 0, overflows to +inf, keeps NaN. Only plain vector
/// arithmetic: the rounding to an integer multiple of ln 2 adds and subtracts 1.5 * 2^23.
private enum SoftmaxVector {
    @inline(__always)
    static func exp(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87.33654), hi = SIMD8<Float>(repeating: 88.72283)
        let magic = SIMD8<Float>(repeating: 12582912)
        var x = v.replacing(with: lo, where: v .< lo).replacing(with: hi, where: v .> hi)
        let t = x * 1.44269504088896341 + magic
        let fx = t - magic
        x = x - fx * 0.693359375
        x = x + fx * 2.12194440e-4
        let z = x * x
        var y = SIMD8<Float>(repeating: 1.9875691500e-4)
        y = y * x + 1.3981999507e-3
        y = y * x + 8.3334519073e-3
        y = y * x + 4.1665795894e-2
        y = y * x + 1.6666665459e-1
        y = y * x + 5.0000001201e-1
        y = y * z + x + 1
        let n = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
        var r = y * unsafeBitCast((n &+ 127) &<< 23, to: SIMD8<Float>.self)
        r.replace(with: 0, where: v .< lo)
        r.replace(with: .infinity, where: v .> hi)
        r.replace(with: v, where: v .!= v)
        return r
    }
}
