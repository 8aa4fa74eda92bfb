import CProtobufONNX
import FerryIR

/// Decodes one TensorProto in any storage form: raw_data, a typed field, or external data.
/// Large payloads decoded by libprotobuf-c are adopted without copying.
struct TensorDecoder {
    let file: String
    let external: ExternalDataReader

    func decode(_ t: UnsafeMutablePointer<Onnx__TensorProto>) throws -> Tensor {
        let p = t.pointee
        let name = text(p.name)
        let label = name.isEmpty ? "(unnamed tensor)" : name
        let code = p.has_data_type != 0 ? p.data_type : 0
        guard let type = ElementType(rawValue: code) else {
            throw ONNXError.unknownElementType(file: file, part: "tensor '\(label)'", code: code)
        }
        guard type != .undefined else {
            throw ONNXError.invalidTensor(file: file, tensor: label, reason: "has no element type")
        }
        let shape = try dims(values(p.n_dims, p.dims), file: file, tensor: label)
        var segment: Tensor.Segment?
        if let s = p.segment {
            segment = Tensor.Segment(begin: s.pointee.begin, end: s.pointee.end)
        }
        let count = try storedCount(shape: shape, segment: segment, label: label)
        guard type == .string || type.byteCount(elements: count) != nil, count <= Int.max / 2 else {
            throw ONNXError.invalidTensor(file: file, tensor: label, reason: "shape \(shape) is too large to store")
        }

        let typedFields = typedFieldsPresent(p)
        let storage: TensorStorage
        if p.has_data_location != 0 && p.data_location.rawValue != 0 {
            guard p.data_location.rawValue == 1 else {
                throw ONNXError.invalidField(
                    file: file, part: "tensor '\(label)'", reason: "unknown data_location \(p.data_location.rawValue)")
            }
            guard p.has_raw_data == 0, typedFields.isEmpty else {
                throw ONNXError.invalidTensor(file: file, tensor: label, reason: "has both external data and inline data")
            }
            guard type != .string else {
                throw ONNXError.invalidTensor(file: file, tensor: label, reason: "string tensors cannot use external data")
            }
            let need = type.byteCount(elements: count)!
            storage = .bytes(
                try external.read(entries: keyValues(p.n_external_data, p.external_data), tensor: label, byteCount: need))
        } else if p.has_raw_data != 0 {
            guard typedFields.isEmpty else {
                throw ONNXError.invalidTensor(
                    file: file, tensor: label, reason: "stores data in both raw_data and \(typedFields[0])")
            }
            guard type != .string else {
                throw ONNXError.invalidTensor(file: file, tensor: label, reason: "string tensors cannot use raw_data")
            }
            storage = .bytes(adopt(&t.pointee.raw_data.data, count: p.raw_data.len))
        } else {
            guard typedFields.count <= 1 else {
                throw ONNXError.invalidTensor(
                    file: file, tensor: label, reason: "stores data in both \(typedFields[0]) and \(typedFields[1])")
            }
            storage = try typed(t, type: type, count: count, label: label, field: typedFields.first)
        }
        let tensor = Tensor(
            name: name, elementType: type, shape: shape, storage: storage,
            docString: text(p.doc_string), metadata: keyValues(p.n_metadata_props, p.metadata_props),
            segment: segment)
        do { try tensor.validate() } catch let IRError.invalidTensor(_, reason) {
            throw ONNXError.invalidTensor(file: file, tensor: label, reason: reason)
        }
        return tensor
    }

    private func storedCount(shape: [Int], segment: Tensor.Segment?, label: String) throws -> Int {
        let total = Tensor.elementCount(of: shape)!
        guard let segment else { return total }
        guard segment.begin >= 0, segment.begin <= segment.end, segment.end <= Int64(total) else {
            throw ONNXError.invalidTensor(
                file: file, tensor: label, reason: "segment [\(segment.begin), \(segment.end)) is outside the \(total) elements")
        }
        return Int(segment.end - segment.begin)
    }

    private func typedFieldsPresent(_ p: Onnx__TensorProto) -> [String] {
        var fields: [String] = []
        if p.n_float_data > 0 { fields.append("float_data") }
        if p.n_int32_data > 0 { fields.append("int32_data") }
        if p.n_string_data > 0 { fields.append("string_data") }
        if p.n_int64_data > 0 { fields.append("int64_data") }
        if p.n_double_data > 0 { fields.append("double_data") }
        if p.n_uint64_data > 0 { fields.append("uint64_data") }
        return fields
    }

    /// The field ONNX stores each element type in, and how many entries `count` elements take.
    private func expectedField(_ type: ElementType, count: Int) -> (String, Int) {
        switch type {
        case .float: return ("float_data", count)
        case .complex64: return ("float_data", count * 2)
        case .double: return ("double_data", count)
        case .complex128: return ("double_data", count * 2)
        case .int64: return ("int64_data", count)
        case .uint32, .uint64: return ("uint64_data", count)
        case .string: return ("string_data", count)
        case .uint4, .int4, .float4e2m1, .uint2, .int2:
            return ("int32_data", type.byteCount(elements: count)!)
        default: return ("int32_data", count)
        }
    }

    private func typed(_ t: UnsafeMutablePointer<Onnx__TensorProto>, type: ElementType, count: Int, label: String, field: String?)
        throws -> TensorStorage
    {
        let (want, entries) = expectedField(type, count: count)
        guard let field else {
            guard count == 0 else {
                throw ONNXError.invalidTensor(
                    file: file, tensor: label, reason: "shape needs \(count) elements but the tensor has no data")
            }
            return type == .string ? .strings([]) : .bytes(TensorBytes(zeroed: 0))
        }
        guard field == want else {
            throw ONNXError.invalidTensor(
                file: file, tensor: label, reason: "element type \(type.name) is stored in \(want), not \(field)")
        }
        let p = t.pointee
        let have: Int
        switch field {
        case "float_data": have = p.n_float_data
        case "double_data": have = p.n_double_data
        case "int64_data": have = p.n_int64_data
        case "uint64_data": have = p.n_uint64_data
        case "string_data": have = p.n_string_data
        default: have = p.n_int32_data
        }
        guard have == entries else {
            throw ONNXError.invalidTensor(
                file: file, tensor: label, reason: "shape needs \(entries) entries in \(field), found \(have)")
        }
        switch type {
        case .string:
            return .strings(values(p.n_string_data, p.string_data).map(byteArray))
        case .float, .complex64:
            return .bytes(adopt(&t.pointee.float_data, count: have * 4))
        case .double, .complex128:
            return .bytes(adopt(&t.pointee.double_data, count: have * 8))
        case .int64:
            return .bytes(adopt(&t.pointee.int64_data, count: have * 8))
        case .uint64:
            return .bytes(adopt(&t.pointee.uint64_data, count: have * 8))
        case .uint32:
            return .bytes(narrow(UnsafeBufferPointer(start: p.uint64_data, count: have), to: UInt32.self))
        case .int32:
            return .bytes(adopt(&t.pointee.int32_data, count: have * 4))
        case .float6e2m3, .float6e3m2:
            return .bytes(packBits(UnsafeBufferPointer(start: p.int32_data, count: have), width: 6, count: count))
        default:
            // 8- and 16-bit types hold one element per entry; sub-byte types hold packed bytes.
            let source = UnsafeBufferPointer(start: p.int32_data, count: have)
            if type == .bool {
                // Any non-zero entry is true; stored booleans are exactly 0 or 1.
                return .bytes(TensorBytes(copying: source.map { UInt8($0 != 0 ? 1 : 0) }))
            }
            return type.bitWidth == 16 ? .bytes(narrow(source, to: UInt16.self)) : .bytes(narrow(source, to: UInt8.self))
        }
    }

    /// Takes over a block libprotobuf-c allocated (with Ferry's aligned allocator) when it is
    /// suitably aligned, clearing the message's pointer so freeing the message leaves it alone;
    /// copies small or unaligned blocks.
    private func adopt<T>(_ field: inout UnsafeMutablePointer<T>?, count: Int) -> TensorBytes {
        guard count > 0, let p = field else { return TensorBytes(zeroed: 0) }
        let raw = UnsafeMutableRawPointer(p)
        if Int(bitPattern: raw) % TensorBuffer.alignment == 0 {
            field = nil
            return TensorBytes(TensorBuffer(adoptingMallocBlock: raw, count: count))
        }
        return TensorBytes(copying: UnsafeRawBufferPointer(start: raw, count: count))
    }

    private func narrow<S: BinaryInteger, D: FixedWidthInteger>(_ source: UnsafeBufferPointer<S>, to: D.Type) -> TensorBytes {
        var out = TensorBytes(zeroed: source.count * MemoryLayout<D>.stride)
        out.withUnsafeMutableBufferPointer(as: D.self) { dst in
            for i in source.indices { dst[i] = D(truncatingIfNeeded: source[i]) }
        }
        return out
    }

    /// Packs `count` values of `width` bits, least significant bits first.
    private func packBits(_ source: UnsafeBufferPointer<Int32>, width: Int, count: Int) -> TensorBytes {
        var out = TensorBytes(zeroed: (count * width + 7) / 8)
        out.withUnsafeMutableBytes { dst in
            let mask = UInt32((1 << width) - 1)
            for i in 0..<count {
                let v = UInt32(bitPattern: source[i]) & mask
                for b in 0..<width where (v >> b) & 1 == 1 {
                    let bit = i * width + b
                    dst[bit / 8] |= UInt8(1 << (bit % 8))
                }
            }
        }
        return out
    }
}
