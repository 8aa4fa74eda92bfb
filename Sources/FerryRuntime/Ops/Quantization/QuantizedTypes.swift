import FerryIR

/// Code that runs for one integer storage type of quantized tensors.
protocol QuantizedVisitor {
    associatedtype Result
    func visit<T: RTInteger>(_ type: T.Type) throws -> Result
}

/// The integer types quantized tensors are stored in: their ranges, and dispatch on them.
enum QuantizedType {
    /// Integer types QuantizeLinear writes (and DequantizeLinear reads, with int32).
    static let quantizeTargets: Set<ElementType> = [.uint8, .int8, .uint16, .int16, .uint4, .int4, .uint2, .int2]

    /// Float types QuantizeLinear writes and DequantizeLinear reads (zero points must be 0).
    static let floatTargets: Set<ElementType> = [
        .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float4e2m1, .float6e2m3, .float6e3m2
    ]

    /// Every type QuantizeLinear writes.
    static var allTargets: Set<ElementType> { quantizeTargets.union(floatTargets) }

    /// The smallest and largest value of an integer storage type.
    static func range(_ type: ElementType) throws -> (lo: Int32, hi: Int32) {
        switch type {
        case .uint8: return (0, 255)
        case .int8: return (-128, 127)
        case .uint16: return (0, 65535)
        case .int16: return (-32768, 32767)
        case .int32: return (.min, .max)
        case .uint4: return (0, 15)
        case .int4: return (-8, 7)
        case .uint2: return (0, 3)
        case .int2: return (-2, 1)
        default: throw unsupported(type)
        }
    }

    /// Calls `v` with the Swift storage type of a quantized type (uint8, int8, uint16, int16, int32;
    /// uint4, int4, uint2 and int2 are held one per byte, as UInt8 and Int8).
    static func dispatch<V: QuantizedVisitor>(_ type: ElementType, _ v: V) throws -> V.Result {
        switch type {
        case .uint8, .uint4, .uint2: return try v.visit(UInt8.self)
        case .int8, .int4, .int2: return try v.visit(Int8.self)
        case .uint16: return try v.visit(UInt16.self)
        case .int16: return try v.visit(Int16.self)
        case .int32: return try v.visit(Int32.self)
        default: throw unsupported(type)
        }
    }

    /// The refusal for a type without quantization support.
    static func unsupported(_ type: ElementType) -> KernelError {
        .unsupported(
            "quantized type \(type.name) (8-, 16- and 32-bit integers, int4, uint4, int2, uint2, float8, float6 and float4 only)")
    }

    /// True for the 1-byte types the int8 kernels take.
    static func isByte(_ type: ElementType) -> Bool { type == .uint8 || type == .int8 }
}

extension Value {
    /// The elements of a scale tensor (float32, float16, bfloat16 or float64) as Float.
    func scaleValues() throws -> [Float] {
        let n = count
        switch type {
        case .float: return Array(UnsafeBufferPointer(start: floats, count: n))
        case .float16: return (0..<n).map { Float(halfBits: pointer(UInt16.self)[$0]) }
        case .bfloat16: return (0..<n).map { Float(bfloat16Bits: pointer(UInt16.self)[$0]) }
        case .double: return (0..<n).map { Float(pointer(Double.self)[$0]) }
        default: throw KernelError.invalid("a scale must be a float tensor, got \(type.name)")
        }
    }

    /// The elements of a zero-point tensor of a quantized storage type, as Int32 (of a float type:
    /// zeros, the only zero point they take).
    func zeroPointValues() throws -> [Int32] {
        if QuantizedType.floatTargets.contains(type) {
            guard try doubles().allSatisfy({ $0 == 0 }) else {
                throw KernelError.unsupported("a \(type.name) zero point other than 0")
            }
            return [Int32](repeating: 0, count: count)
        }
        guard type == .int32 || QuantizedType.quantizeTargets.contains(type) else { throw QuantizedType.unsupported(type) }
        return try ints().map { Int32($0) }
    }
}

/// The one scale and zero point of a per-tensor quantized value, read from a kernel's inputs.
struct TensorQuantization {
    var scale: Float
    var zeroPoint: Int32

    /// Reads `inputs[scaleIndex]` (one value) and the optional `inputs[zeroIndex]` (one value, else 0).
    init(_ inputs: [Value?], scale scaleIndex: Int, zeroPoint zeroIndex: Int, _ what: String) throws {
        let s = try inputs.required(scaleIndex, "\(what) scale")
        guard s.count == 1 else { throw KernelError.unsupported("\(what) scale of shape \(s.shape) (one value only)") }
        scale = try s.scaleValues()[0]
        zeroPoint = 0
        if let z = inputs.optional(zeroIndex) {
            guard z.count == 1 else { throw KernelError.unsupported("\(what) zero point of shape \(z.shape) (one value only)") }
            zeroPoint = try z.zeroPointValues()[0]
        }
    }

    init(scale: Float, zeroPoint: Int32) {
        self.scale = scale
        self.zeroPoint = zeroPoint
    }

    /// `x` quantized: round half to even, plus the zero point, saturated to `range`.
    @inline(__always) func quantize(_ x: Float, _ range: (lo: Int32, hi: Int32)) -> Int32 {
        var x = x, q: Int32 = 0
        quantizeFloats(&x, &q, 1, scale: scale, zero: zeroPoint, range)
        return q
    }
}
