#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One reduction: how elements fold into an accumulator, how partial accumulators merge, and how
/// the accumulator of output element `o` over `count` elements becomes that element.
protocol ReduceRule {
    associatedtype Element
    associatedtype Acc
    var initial: Acc { get }
    func step(_ acc: Acc, _ x: Element, _ o: Int) -> Acc
    func merge(_ a: Acc, _ b: Acc) -> Acc
    func finish(_ acc: Acc, _ count: Int, _ o: Int) -> Element
}

/// Largest element (a NaN wins); the empty set gives -inf or the type's minimum.
struct ReduceMaxRule<T: RTNumber>: ReduceRule {
    let initial = T(double: -.infinity)
    @inline(__always) func step(_ a: T, _ x: T, _: Int) -> T { x > a || x != x ? x : a }
    @inline(__always) func merge(_ a: T, _ b: T) -> T { step(a, b, 0) }
    @inline(__always) func finish(_ a: T, _: Int, _: Int) -> T { a }
}

/// Smallest element (a NaN wins); the empty set gives +inf or the type's maximum.
struct ReduceMinRule<T: RTNumber>: ReduceRule {
    let initial = T(double: .infinity)
    @inline(__always) func step(_ a: T, _ x: T, _: Int) -> T { x < a || x != x ? x : a }
    @inline(__always) func merge(_ a: T, _ b: T) -> T { step(a, b, 0) }
    @inline(__always) func finish(_ a: T, _: Int, _: Int) -> T { a }
}

/// A map applied to each element before it is summed in Double.
protocol ReduceDoubleMap { static func apply(_ x: Double) -> Double }
/// x.
enum ReduceIdentityMap: ReduceDoubleMap { @inline(__always) static func apply(_ x: Double) -> Double { x } }
/// |x|.
enum ReduceAbsMap: ReduceDoubleMap { @inline(__always) static func apply(_ x: Double) -> Double { abs(x) } }
/// x * x.
enum ReduceSquareMap: ReduceDoubleMap { @inline(__always) static func apply(_ x: Double) -> Double { x * x } }

/// What turns a sum into the output.
enum ReduceFinish {
    case identity, mean, sqrt, logarithm

    @inline(__always) func apply(_ s: Double, _ n: Int) -> Double {
        switch self {
        case .identity: return s
        case .mean: return s / Double(n)
        case .sqrt: return s.squareRoot()
        case .logarithm: return log(s)
        }
    }
}

/// Sum of mapped elements accumulated in Double (any element type), then finished.
struct ReduceDoubleSumRule<T: RTNumber, M: ReduceDoubleMap>: ReduceRule {
    let finishing: ReduceFinish
    var initial: Double { 0 }
    @inline(__always) func step(_ a: Double, _ x: T, _: Int) -> Double { a + M.apply(x.double) }
    @inline(__always) func merge(_ a: Double, _ b: Double) -> Double { a + b }
    @inline(__always) func finish(_ a: Double, _ n: Int, _: Int) -> T { T(double: finishing.apply(a, n)) }
}

/// log(sum(exp(x - shift[o]))) + shift[o], where `shift` holds each output's finite maximum (or 0).
struct ReduceExpSumRule<T: RTNumber>: ReduceRule {
    let shift: UnsafePointer<Double>
    var initial: Double { 0 }
    @inline(__always) func step(_ a: Double, _ x: T, _ o: Int) -> Double { a + exp(x.double - shift[o]) }
    @inline(__always) func merge(_ a: Double, _ b: Double) -> Double { a + b }
    @inline(__always) func finish(_ a: Double, _: Int, _ o: Int) -> T { T(double: log(a) + shift[o]) }
}

/// Product accumulated in Double (floating-point element types).
struct ReduceDoubleProdRule<T: RTNumber>: ReduceRule {
    var initial: Double { 1 }
    @inline(__always) func step(_ a: Double, _ x: T, _: Int) -> Double { a * x.double }
    @inline(__always) func merge(_ a: Double, _ b: Double) -> Double { a * b }
    @inline(__always) func finish(_ a: Double, _: Int, _: Int) -> T { T(double: a) }
}

/// A map applied to each integer element before it is summed in wrapping Int64.
protocol ReduceIntegerMap { static func apply<T: RTInteger>(_ x: T) -> Int64 }
/// x.
enum ReduceIntegerIdentityMap: ReduceIntegerMap {
    @inline(__always) static func apply<T: RTInteger>(_ x: T) -> Int64 { Int64(truncatingIfNeeded: x) }
}
/// |x|.
enum ReduceIntegerAbsMap: ReduceIntegerMap {
    @inline(__always) static func apply<T: RTInteger>(_ x: T) -> Int64 {
        let v = Int64(truncatingIfNeeded: x)
        return x < 0 ? 0 &- v : v
    }
}
/// x * x.
enum ReduceIntegerSquareMap: ReduceIntegerMap {
    @inline(__always) static func apply<T: RTInteger>(_ x: T) -> Int64 {
        let v = Int64(truncatingIfNeeded: x)
        return v &* v
    }
}

/// Exact (wrapping) integer sum of mapped elements; `mean` divides by the count, truncating.
struct ReduceIntegerSumRule<T: RTInteger, M: ReduceIntegerMap>: ReduceRule {
    let mean: Bool
    var initial: Int64 { 0 }
    @inline(__always) func step(_ a: Int64, _ x: T, _: Int) -> Int64 { a &+ M.apply(x) }
    @inline(__always) func merge(_ a: Int64, _ b: Int64) -> Int64 { a &+ b }
    @inline(__always) func finish(_ a: Int64, _ n: Int, _: Int) -> T {
        T(truncatingIfNeeded: mean ? (n == 0 ? 0 : a / Int64(n)) : a)
    }
}

/// Exact (wrapping) integer product.
struct ReduceIntegerProdRule<T: RTInteger>: ReduceRule {
    var initial: Int64 { 1 }
    @inline(__always) func step(_ a: Int64, _ x: T, _: Int) -> Int64 { a &* Int64(truncatingIfNeeded: x) }
    @inline(__always) func merge(_ a: Int64, _ b: Int64) -> Int64 { a &* b }
    @inline(__always) func finish(_ a: Int64, _: Int, _: Int) -> T { T(truncatingIfNeeded: a) }
}
