import CKernels

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The floating-point types Softmax computes in, with their row exponentials (Float's by the vector
/// math kernel).
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
        for i in 0..<n { y[i] = x[i] - shift }
        ferry_vmath(Int32(FERRY_VM_EXP.rawValue), y, y, n, 1)
        return laneSum(y, n)
    }

    static func softmaxExp(
        _ x: UnsafePointer<Float>, minus shifts: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        for i in 0..<n { y[i] = x[i] - shifts[i] }
        ferry_vmath(Int32(FERRY_VM_EXP.rawValue), y, y, n, 1)
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
