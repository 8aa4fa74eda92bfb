import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The element types arithmetic kernels are written for, with the operations ONNX needs that
/// Swift's protocols do not share between integers and floats.
protocol RTNumber: Comparable {
    static var elementType: ElementType { get }
    static var zero: Self { get }
    static var one: Self { get }
    static func add(_ a: Self, _ b: Self) -> Self
    static func sub(_ a: Self, _ b: Self) -> Self
    static func mul(_ a: Self, _ b: Self) -> Self
    /// ONNX Div: truncating for integers (a zero divisor gives 0 rather than a trap).
    static func div(_ a: Self, _ b: Self) -> Self
    static func pow(_ a: Self, _ b: Self) -> Self
    /// ONNX Mod with fmod = 0 (sign of the divisor) for integers, fmod semantics for floats.
    static func mod(_ a: Self, _ b: Self, fmod: Bool) -> Self
    init(double: Double)
    var double: Double { get }
}

protocol RTFloat: RTNumber, BinaryFloatingPoint {}

extension RTFloat {
    static var zero: Self { 0 }
    static var one: Self { 1 }
    @inline(__always) static func add(_ a: Self, _ b: Self) -> Self { a + b }
    @inline(__always) static func sub(_ a: Self, _ b: Self) -> Self { a - b }
    @inline(__always) static func mul(_ a: Self, _ b: Self) -> Self { a * b }
    @inline(__always) static func div(_ a: Self, _ b: Self) -> Self { a / b }
    /// C's fmod (exact, the sign of `a`), moved to the divisor's sign unless `fmod`.
    @inline(__always) static func mod(_ a: Self, _ b: Self, fmod: Bool) -> Self {
        let r = a.truncatingRemainder(dividingBy: b)
        return fmod || r == 0 || (r < 0) == (b < 0) ? r : r + b
    }
}

extension Float: RTFloat {
    static var elementType: ElementType { .float }
    @inline(__always) static func pow(_ a: Float, _ b: Float) -> Float { powf(a, b) }
    init(double: Double) { self = Float(double) }
    var double: Double { Double(self) }
}

extension Double: RTFloat {
    static var elementType: ElementType { .double }
    @inline(__always) static func pow(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
    init(double: Double) { self = double }
    var double: Double { self }
}

protocol RTInteger: RTNumber, FixedWidthInteger {}

extension RTInteger {
    static var zero: Self { 0 }
    static var one: Self { 1 }
    @inline(__always) static func add(_ a: Self, _ b: Self) -> Self { a &+ b }
    @inline(__always) static func sub(_ a: Self, _ b: Self) -> Self { a &- b }
    @inline(__always) static func mul(_ a: Self, _ b: Self) -> Self { a &* b }
    @inline(__always) static func div(_ a: Self, _ b: Self) -> Self {
        if b == 0 { return 0 }
        if Self.isSigned && b == -1 { return 0 &- a }
        return a / b
    }
    static func pow(_ a: Self, _ b: Self) -> Self {
        if b < 0 { return a == 1 ? 1 : 0 }
        var result: Self = 1, base = a, e = b
        while e > 0 {
            if e & 1 == 1 { result = result &* base }
            base = base &* base
            e >>= 1
        }
        return result
    }
    @inline(__always) static func mod(_ a: Self, _ b: Self, fmod: Bool) -> Self {
        if b == 0 { return 0 }
        if Self.isSigned && b == -1 { return 0 }
        let r = a % b
        return fmod || r == 0 || (r < 0) == (b < 0) ? r : r &+ b
    }
    init(double: Double) {
        if double.isNaN {
            self = 0
        } else if double >= Double(Self.max) {
            self = .max
        } else if double <= Double(Self.min) {
            self = .min
        } else {
            self = Self(double)
        }
    }
    var double: Double { Double(self) }
}

extension Int64: RTInteger { static var elementType: ElementType { .int64 } }
extension Int32: RTInteger { static var elementType: ElementType { .int32 } }
extension Int16: RTInteger { static var elementType: ElementType { .int16 } }
extension Int8: RTInteger { static var elementType: ElementType { .int8 } }
extension UInt64: RTInteger { static var elementType: ElementType { .uint64 } }
extension UInt32: RTInteger { static var elementType: ElementType { .uint32 } }
extension UInt16: RTInteger { static var elementType: ElementType { .uint16 } }
extension UInt8: RTInteger { static var elementType: ElementType { .uint8 } }

/// Code that runs for one element type, chosen at run time (Swift has no generic closures).
protocol NumericVisitor {
    associatedtype Result
    func visit<T: RTNumber>(_ type: T.Type) throws -> Result
}

/// Code for floating-point element types only.
protocol FloatVisitor {
    associatedtype Result
    func visit<T: RTFloat>(_ type: T.Type) throws -> Result
}

/// Calls `v` with the Swift type of `type`; bool counts as uint8.
func dispatchNumeric<V: NumericVisitor>(_ type: ElementType, _ v: V) throws -> V.Result {
    switch type {
    case .float: return try v.visit(Float.self)
    case .double: return try v.visit(Double.self)
    case .int64: return try v.visit(Int64.self)
    case .int32: return try v.visit(Int32.self)
    case .int16: return try v.visit(Int16.self)
    case .int8: return try v.visit(Int8.self)
    case .uint64: return try v.visit(UInt64.self)
    case .uint32: return try v.visit(UInt32.self)
    case .uint16: return try v.visit(UInt16.self)
    case .uint8, .bool: return try v.visit(UInt8.self)
    default: throw KernelError.unsupported("element type \(type.name)")
    }
}

/// Calls `v` with Float or Double.
func dispatchFloat<V: FloatVisitor>(_ type: ElementType, _ v: V) throws -> V.Result {
    switch type {
    case .float: return try v.visit(Float.self)
    case .double: return try v.visit(Double.self)
    default: throw KernelError.unsupported("element type \(type.name) (expected float32 or float64)")
    }
}
