/// The element type of a tensor, numbered as ONNX's `TensorProto.DataType`.
public enum ElementType: Int32, CaseIterable, Sendable, Hashable {
    case undefined = 0
    case float = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case double = 11
    case uint32 = 12
    case uint64 = 13
    case complex64 = 14
    case complex128 = 15
    case bfloat16 = 16
    case float8e4m3fn = 17
    case float8e4m3fnuz = 18
    case float8e5m2 = 19
    case float8e5m2fnuz = 20
    case uint4 = 21
    case int4 = 22
    case float4e2m1 = 23
    case float8e8m0 = 24
    case uint2 = 25
    case int2 = 26
    case float6e2m3 = 27
    case float6e3m2 = 28

    /// Bits one element occupies in packed storage; 0 for `string` and `undefined`.
    public var bitWidth: Int {
        switch self {
        case .undefined, .string: return 0
        case .uint2, .int2: return 2
        case .uint4, .int4, .float4e2m1: return 4
        case .float6e2m3, .float6e3m2: return 6
        case .uint8, .int8, .bool, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0: return 8
        case .uint16, .int16, .float16, .bfloat16: return 16
        case .float, .int32, .uint32: return 32
        case .int64, .uint64, .double, .complex64: return 64
        case .complex128: return 128
        }
    }

    /// True for types whose elements are stored as packed bits (fewer than 8 per element).
    public var isSubByte: Bool { bitWidth > 0 && bitWidth < 8 }

    /// Bytes needed for `elements` packed elements, or nil for strings, undefined or overflow.
    public func byteCount(elements: Int) -> Int? {
        guard bitWidth > 0, elements >= 0 else { return nil }
        let (bits, overflow) = elements.multipliedReportingOverflow(by: bitWidth)
        guard !overflow else { return nil }
        return bits / 8 + (bits % 8 == 0 ? 0 : 1)
    }

    /// The numpy-style name users know (`float32`, `int64`, ...).
    public var name: String {
        switch self {
        case .undefined: return "undefined"
        case .float: return "float32"
        case .double: return "float64"
        case .float16: return "float16"
        default: return String(describing: self)
        }
    }
}
