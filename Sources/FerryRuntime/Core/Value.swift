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
        if tensor.elementType.isSubByte {
            self.init(packed: bytes.buffer, type: tensor.elementType, shape: tensor.shape)
            return
        }
        guard tensor.elementType.bitWidth > 0 else {
            throw KernelError.unsupported("element type \(tensor.elementType.name) ('\(tensor.name)')")
        }
        var buffer = bytes.buffer
        if !buffer.isAligned(to: 64) { buffer = TensorBuffer(copying: buffer.bytes) }
        self.init(type: tensor.elementType, shape: tensor.shape, buffer: buffer)
    }

    /// Elements of fewer than 8 bits packed as ONNX stores them (element i in bits i * width ..<
    /// (i + 1) * width, least significant first), held one per byte: int4 and int2 sign-extended
    /// (read as Int8), the others as their unsigned code (UInt8).
    private init(packed: TensorBuffer, type: ElementType, shape: [Int]) {
        let n = shape.reduce(1, *), width = type.bitWidth, signed = type == .int4 || type == .int2
        let src = packed.baseAddress.assumingMemoryBound(to: UInt8.self), available = packed.count * 8 / width
        let buffer = TensorBuffer(count: max(n, 1)) { raw in
            for i in 0..<min(n, available) {
                let bit = i * width, byte = bit / 8
                var field = UInt16(src[byte]) >> (bit % 8)
                if bit % 8 + width > 8 { field |= UInt16(src[byte + 1]) << (8 - bit % 8) }
                let code = UInt8(field & (1 << width - 1))
                raw[i] = signed && code >> (width - 1) == 1 ? code | ~UInt8(1 << width - 1) : code
            }
        }
        self.init(type: type, shape: shape, buffer: buffer)
    }

    /// The value as an IR tensor named `name` (shares the storage; types of fewer than 8 bits are
    /// packed again).
    func tensor(name: String = "") -> Tensor {
        if type.isSubByte {
            let n = count, width = type.bitWidth, src = pointer(UInt8.self), mask = UInt8(1 << width - 1)
            let packed = TensorBuffer(count: max(1, type.byteCount(elements: n)!)) { raw in
                raw.initializeMemory(as: UInt8.self, repeating: 0)
                for i in 0..<n {
                    let bit = i * width, byte = bit / 8, field = UInt16(src[i] & mask) << (bit % 8)
                    raw[byte] |= UInt8(field & 0xff)
                    if field > 0xff { raw[byte + 1] |= UInt8(field >> 8) }
                }
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
        case .int8, .int4, .int2: return (0..<n).map { Int(pointer(Int8.self)[$0]) }
        case .uint8, .bool, .uint4, .uint2: return (0..<n).map { Int(pointer(UInt8.self)[$0]) }
        case .uint16: return (0..<n).map { Int(pointer(UInt16.self)[$0]) }
        case .uint32: return (0..<n).map { Int(pointer(UInt32.self)[$0]) }
        case .uint64: return (0..<n).map { Int(truncatingIfNeeded: pointer(UInt64.self)[$0]) }
        default: throw KernelError.invalid("expected an integer tensor, got \(type.name)")
        }
    }

    /// Elements converted to Double (any numeric type; Cast's element reader).
    func doubles() throws -> [Double] {
        let read = try doubleReader(self)
        return (0..<count).map(read)
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
