/// The elements of a tensor: packed little-endian bytes for numeric types, a list of byte strings
/// for `string` tensors.
public enum TensorStorage: Equatable, Sendable {
    case bytes(TensorBytes)
    case strings([[UInt8]])
}

/// A dense tensor: an initializer, a constant or an attribute value.
public struct Tensor: Equatable, Sendable {
    /// The value name ("" for anonymous tensors such as most attribute values).
    public var name: String
    public var elementType: ElementType
    /// Axis sizes; empty for a scalar.
    public var shape: [Int]
    public var storage: TensorStorage
    public var docString: String
    public var metadata: [KeyValue]
    /// When set, the tensor holds only elements [begin, end) of the flattened whole.
    public var segment: Segment?

    /// A slice of a larger tensor, by flat element index.
    public struct Segment: Equatable, Sendable {
        public var begin: Int64
        public var end: Int64
        public init(begin: Int64, end: Int64) {
            self.begin = begin
            self.end = end
        }
    }

    /// A tensor after its storage has been checked against `elementType` and `shape`
    /// (see `Tensor.validated`).
    public init(
        name: String = "", elementType: ElementType, shape: [Int], storage: TensorStorage,
        docString: String = "", metadata: [KeyValue] = [], segment: Segment? = nil
    ) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
        self.storage = storage
        self.docString = docString
        self.metadata = metadata
        self.segment = segment
    }

    /// A numeric tensor holding a copy of `values`, which must be of the Swift type matching
    /// `elementType` (e.g. `Float` for `.float`).
    public init<T>(name: String = "", elementType: ElementType, shape: [Int], values: [T]) {
        self.init(name: name, elementType: elementType, shape: shape, storage: .bytes(TensorBytes(copying: values)))
    }

    /// Number of elements the shape describes, or nil on overflow or a negative axis.
    public static func elementCount(of shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else { return nil }
            n = p
        }
        return n
    }

    /// Number of elements actually stored (the segment's length when there is a segment).
    public var storedElementCount: Int {
        if let segment { return Int(segment.end - segment.begin) }
        return Tensor.elementCount(of: shape) ?? 0
    }

    /// Bytes of element data (0 for string tensors).
    public var byteCount: Int {
        if case .bytes(let b) = storage { return b.count }
        return 0
    }

    /// The numeric bytes; nil for string tensors.
    public var bytes: TensorBytes? {
        if case .bytes(let b) = storage { return b }
        return nil
    }

    /// Checks that storage, element type and shape agree; the error names the tensor.
    public func validate() throws {
        let label = name.isEmpty ? "(unnamed tensor)" : name
        if elementType == .undefined { throw IRError.invalidTensor(tensor: label, reason: "element type is undefined") }
        guard let total = Tensor.elementCount(of: shape) else {
            if shape.contains(where: { $0 < 0 }) {
                throw IRError.invalidTensor(tensor: label, reason: "negative dimension in shape \(shape)")
            }
            throw IRError.invalidTensor(tensor: label, reason: "element count of shape \(shape) overflows")
        }
        var expected = total
        if let segment {
            guard segment.begin >= 0, segment.begin <= segment.end, segment.end <= Int64(total) else {
                throw IRError.invalidTensor(
                    tensor: label, reason: "segment [\(segment.begin), \(segment.end)) is outside the \(total) elements")
            }
            expected = Int(segment.end - segment.begin)
        }
        switch storage {
        case .strings(let s):
            guard elementType == .string else {
                throw IRError.invalidTensor(tensor: label, reason: "string data for element type \(elementType.name)")
            }
            guard s.count == expected else {
                throw IRError.invalidTensor(tensor: label, reason: "shape \(shape) needs \(expected) strings, found \(s.count)")
            }
        case .bytes(let b):
            guard let need = elementType.byteCount(elements: expected) else {
                throw IRError.invalidTensor(tensor: label, reason: "element type \(elementType.name) cannot be stored as bytes")
            }
            guard b.count == need else {
                throw IRError.invalidTensor(
                    tensor: label, reason: "shape \(shape) of \(elementType.name) needs \(need) bytes, found \(b.count)")
            }
        }
    }
}

/// A sparse tensor in coordinate form (ONNX `SparseTensorProto`).
public struct SparseTensor: Equatable, Sendable {
    /// The non-default values, a 1-D tensor; its name names the sparse tensor.
    public var values: Tensor
    /// int64 indices: [NNZ] linear indices or [NNZ, rank] coordinates.
    public var indices: Tensor
    /// Shape of the dense tensor.
    public var shape: [Int]

    public init(values: Tensor, indices: Tensor, shape: [Int]) {
        self.values = values
        self.indices = indices
        self.shape = shape
    }

    /// The name of the sparse tensor (its values' name).
    public var name: String { values.name }
}
