import FerryIR

/// A storage a checkpoint's pickle names by persistent id: bytes of one archive member (or, in a
/// legacy checkpoint, of the file after the pickles, set once they are read).
final class TorchStorage {
    let key: String
    let elementType: ElementType
    let elementCount: Int
    var bytes: TensorBuffer

    init(key: String, elementType: ElementType, elementCount: Int, bytes: TensorBuffer) {
        self.key = key
        self.elementType = elementType
        self.elementCount = elementCount
        self.bytes = bytes
    }
}

/// A tensor `_rebuild_tensor_v2` describes: a strided view of a storage.
final class TorchTensor {
    let storage: TorchStorage
    let offset: Int
    let shape: [Int]
    let strides: [Int]

    init(storage: TorchStorage, offset: Int, shape: [Int], strides: [Int]) {
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.strides = strides
    }

    /// Whether the view is the row-major layout of its shape.
    var isContiguous: Bool {
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            if stride != expected { return false }
            expected *= size
        }
        return true
    }

    /// The tensor's elements, viewed in place when contiguous and aligned, else copied out in
    /// row-major order.
    func tensor(named name: String) -> Tensor {
        let width = storage.elementType.bitWidth / 8, count = Tensor.elementCount(of: shape) ?? 0
        let bytes: TensorBytes
        if count == 0 {
            bytes = TensorBytes(zeroed: 0)
        } else if isContiguous {
            // Viewed in place when aligned for its elements (torch aligns storages to 64 bytes;
            // other zip writers need not), else copied.
            let start = storage.bytes.baseAddress + offset * width
            bytes =
                Int(bitPattern: start) % min(width, 16) == 0
                ? TensorBytes(TensorBuffer(viewing: storage.bytes, offset: offset * width, count: count * width))
                : TensorBytes(copying: UnsafeRawBufferPointer(start: start, count: count * width))
        } else {
            bytes = TensorBytes(count: count * width) { out in
                let source = storage.bytes.baseAddress
                var walk = StridedWalk(shape: shape, strides: strides)
                for k in 0..<count {
                    out.baseAddress!.advanced(by: k * width).copyMemory(
                        from: source.advanced(by: (offset + walk.offset) * width), byteCount: width)
                    walk.advance()
                }
            }
        }
        return Tensor(name: name, elementType: storage.elementType, shape: shape, storage: .bytes(bytes))
    }
}

/// The callables a checkpoint's pickle may have built that Ferry builds too: tensors, parameters,
/// OrderedDict, torch.Size, torch.device. Everything else stays an inert `PickleObject`.
enum TorchRebuild {
    /// torch's storage classes and the element types they hold.
    static let storageTypes: [String: ElementType] = [
        "FloatStorage": .float, "DoubleStorage": .double, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
        "ByteStorage": .uint8, "BoolStorage": .bool, "ComplexFloatStorage": .complex64,
        "ComplexDoubleStorage": .complex128
    ]

    static func build(_ module: String, _ name: String, _ args: [PickleValue], _ arena: PickleArena) throws -> PickleValue? {
        switch (module, name) {
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"):
            return .external(try tensor(args))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let data = args.first, case .external = data else {
                throw RebuildError(reason: "the parameter holds no tensor")
            }
            return data
        case ("collections", "OrderedDict"):
            let d = arena.dict()
            if case .list(let pairs)? = args.first {
                for p in pairs.items {
                    guard case .tuple(let kv) = p, kv.items.count == 2 else {
                        throw RebuildError(reason: "an item is not a pair")
                    }
                    d.entries.append((kv.items[0], kv.items[1]))
                }
            }
            return .dict(d)
        case ("torch", "Size"):
            guard case .tuple(let t)? = args.first else { return .tuple(arena.container([])) }
            return .tuple(t)
        case ("torch", "device"):
            return .string(
                args.compactMap {
                    if case .string(let s) = $0 {
                        return s
                    } else if case .int(let i) = $0 {
                        return String(i)
                    } else {
                        return nil
                    }
                }.joined(separator: ":"))
        default:
            return nil
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`, checked against the storage.
    private static func tensor(_ args: [PickleValue]) throws -> TorchTensor {
        guard args.count >= 4, case .external(let s) = args[0], let storage = s as? TorchStorage else {
            throw RebuildError(reason: "the first argument is not a storage")
        }
        guard case .int(let offset) = args[1], offset >= 0 else {
            throw RebuildError(reason: "the storage offset is not a count")
        }
        let shape = try ints(args[2], "size"), strides = try ints(args[3], "stride")
        guard shape.count == strides.count else {
            throw RebuildError(reason: "size \(shape) and stride \(strides) differ in rank")
        }
        guard Tensor.elementCount(of: shape) != nil, strides.allSatisfy({ $0 >= 0 }) else {
            throw RebuildError(reason: "size \(shape) or stride \(strides) is negative or overflows")
        }
        if shape.allSatisfy({ $0 > 0 }) {
            // The last element the view reaches must lie inside the storage.
            var last = Int(offset)
            for (size, stride) in zip(shape, strides) {
                let (step, o1) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, o2) = last.addingReportingOverflow(step)
                guard !o1, !o2 else { throw RebuildError(reason: "size \(shape) with stride \(strides) overflows") }
                last = sum
            }
            guard last < storage.elementCount else {
                throw RebuildError(
                    reason:
                        "a tensor of size \(shape), stride \(strides) at offset \(offset) reaches element \(last) of storage '\(storage.key)', which holds \(storage.elementCount)"
                )
            }
        }
        return TorchTensor(storage: storage, offset: Int(offset), shape: shape, strides: strides)
    }

    private static func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
        guard case .tuple(let t) = v else { throw RebuildError(reason: "\(what) is a \(v.kind), not a tuple") }
        return try t.items.map {
            guard case .int(let i) = $0, let n = Int(exactly: i) else { throw RebuildError(reason: "\(what) holds a \($0.kind)") }
            return n
        }
    }
}
