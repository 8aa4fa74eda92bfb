import FerryIR

/// A tensor while the interpreter runs: element type, shape and 64-byte aligned storage that may be
/// shared with other values (reshapes are views) or with the model's initializers.
struct Value {
    var type: ElementType
    var shape: [Int]
    var buffer: TensorBuffer

    init(type: ElementType, shape: [Int], buffer: TensorBuffer) {
        self.type = type
        self.shape = shape
        self.buffer = buffer
    }

    /// Number of elements.
    var count: Int { shape.reduce(1, *) }
    var rank: Int { shape.count }

    /// The elements as `T` (which must match `type`'s storage: Float for float32, UInt8 for bool...).
    @inline(__always) func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        buffer.baseAddress.assumingMemoryBound(to: T.self)
    }

    @inline(__always) var floats: UnsafeMutablePointer<Float> { pointer(Float.self) }

    /// The same storage under another shape of equal element count.
    func reshaped(_ newShape: [Int]) -> Value {
        Value(type: type, shape: newShape, buffer: buffer)
    }

    /// A value owning (or viewing, without copying) a numeric IR tensor.
    init(_ tensor: Tensor) throws {
        guard tensor.segment == nil else { throw KernelError.unsupported("tensor '\(tensor.name)' is stored in segments") }
        guard case .bytes(let bytes) = tensor.storage else {
            throw KernelError.unsupported("string tensors ('\(tensor.name)')")
        }
        if tensor.elementType == .int4 || tensor.elementType == .uint4 {
            self.init(nibbles: bytes.buffer, type: tensor.elementType, shape: tensor.shape)
            return
        }
        guard !tensor.elementType.isSubByte, tensor.elementType.bitWidth > 0 else {
            throw KernelError.unsupported("element type \(tensor.elementType.name) ('\(tensor.name)')")
        }
        var buffer = bytes.buffer
        if !buffer.isAligned(to: 64) { buffer = TensorBuffer(copying: buffer.bytes) }
        self.init(type: tensor.elementType, shape: tensor.shape, buffer: buffer)
    }

    /// int4 / uint4 elements packed two per byte (low nibble first, as ONNX stores them), held one
    /// per byte: int4 sign-extended (read as Int8), uint4 as UInt8.
    private init(nibbles packed: TensorBuffer, type: ElementType, shape: [Int]) {
        let n = shape.reduce(1, *), signed = type == .int4
        let src = packed.baseAddress.assumingMemoryBound(to: UInt8.self)
        let buffer = TensorBuffer(count: max(n, 1)) { raw in
            for i in 0..<min(n, packed.count * 2) {
                let nibble = i % 2 == 0 ? src[i / 2] & 0x0f : src[i / 2] >> 4
                raw[i] = signed && nibble >= 8 ? nibble | 0xf0 : nibble
            }
        }
        self.init(type: type, shape: shape, buffer: buffer)
    }

    /// The value as an IR tensor named `name` (shares the storage; int4 / uint4 are packed again).
    func tensor(name: String = "") -> Tensor {
        if type == .int4 || type == .uint4 {
            let n = count, src = pointer(UInt8.self)
            let packed = TensorBuffer(count: max(1, (n + 1) / 2)) { raw in
                for j in 0..<(n + 1) / 2 { raw[j] = (src[2 * j] & 0x0f) | (2 * j + 1 < n ? src[2 * j + 1] << 4 : 0) }
            }
            return Tensor(name: name, elementType: type, shape: shape, storage: .bytes(TensorBytes(packed)))
        }
        let bytes = count * elementSize(type)
        let b =
            bytes == buffer.count
            ? buffer : TensorBuffer(copying: UnsafeRawBufferPointer(start: buffer.baseAddress, count: bytes))
        return Tensor(name: name, elementType: type, shape: shape, storage: .bytes(TensorBytes(b)))
    }

    /// Integer elements (int64, int32 and other integer types) widened to Int.
    func ints() throws -> [Int] {
        let n = count
        switch type {
        case .int64: return (0..<n).map { Int(pointer(Int64.self)[$0]) }
        case .int32: return (0..<n).map { Int(pointer(Int32.self)[$0]) }
        case .int16: return (0..<n).map { Int(pointer(Int16.self)[$0]) }
        case .int8, .int4: return (0..<n).map { Int(pointer(Int8.self)[$0]) }
        case .uint8, .bool, .uint4: return (0..<n).map { Int(pointer(UInt8.self)[$0]) }
        case .uint16: return (0..<n).map { Int(pointer(UInt16.self)[$0]) }
        case .uint32: return (0..<n).map { Int(pointer(UInt32.self)[$0]) }
        case .uint64: return (0..<n).map { Int(truncatingIfNeeded: pointer(UInt64.self)[$0]) }
        default: throw KernelError.invalid("expected an integer tensor, got \(type.name)")
        }
    }

    /// Elements converted to Double (any numeric type).
    func doubles() throws -> [Double] {
        let n = count
        switch type {
        case .float: return (0..<n).map { Double(floats[$0]) }
        case .double: return (0..<n).map { pointer(Double.self)[$0] }
        case .float16: return (0..<n).map { Double(Float(halfBits: pointer(UInt16.self)[$0])) }
        default: return try ints().map(Double.init)
        }
    }

    /// A fresh, owned int64 tensor.
    static func int64(_ values: [Int], shape: [Int]? = nil) -> Value {
        let t = values.map { Int64($0) }
        let buffer = t.withUnsafeBytes { TensorBuffer(copying: $0) }
        return Value(type: .int64, shape: shape ?? [values.count], buffer: buffer)
    }

    /// A fresh, owned float tensor.
    static func float(_ values: [Float], shape: [Int]) -> Value {
        Value(type: .float, shape: shape, buffer: values.withUnsafeBytes { TensorBuffer(copying: $0) })
    }
}

/// Bytes per element for the types the interpreter stores one per byte or more.
@inline(__always) func elementSize(_ type: ElementType) -> Int { max(type.bitWidth / 8, 1) }

extension Float {
    /// The float an IEEE half-precision bit pattern encodes.
    init(halfBits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int(h >> 10) & 0x1f
        let mant = UInt32(h & 0x3ff)
        if exp == 0 {
            // zero or subnormal
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            self = sign != 0 ? -v : v
        } else if exp == 31 {
            self = Float(bitPattern: sign | 0x7f80_0000 | (mant << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exp + 112) << 23 | (mant << 13))
        }
    }

    /// This float rounded to IEEE half precision (round to nearest even), as bits.
    var halfBits: UInt16 {
        let x = bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exp = Int((x >> 23) & 0xff)
        var mant = x & 0x7f_ffff
        if exp == 255 { return sign | 0x7c00 | (mant != 0 ? 0x200 : 0) }
        var e = exp - 127 + 15
        if e >= 31 { return sign | 0x7c00 }
        if e <= 0 {
            if e < -10 { return sign }
            mant |= 0x80_0000
            let shift = UInt32(14 - e)
            var h = mant >> shift
            let rem = mant & ((1 << shift) - 1)
            let half = UInt32(1) << (shift - 1)
            if rem > half || (rem == half && (h & 1) == 1) { h += 1 }
            return sign | UInt16(h)
        }
        var h = mant >> 13
        let rem = mant & 0x1fff
        if rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1) {
            h += 1
            if h == 0x400 {
                h = 0
                e += 1
                if e >= 31 { return sign | 0x7c00 }
            }
        }
        return sign | UInt16(e) << 10 | UInt16(h)
    }

    /// The float a bfloat16 bit pattern encodes.
    init(bfloat16Bits b: UInt16) { self = Float(bitPattern: UInt32(b) << 16) }

    /// This float rounded to bfloat16 (round to nearest even), as bits.
    var bfloat16Bits: UInt16 {
        if isNaN { return 0x7fc0 }
        let x = bitPattern
        let rounded = x &+ 0x7fff &+ ((x >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
