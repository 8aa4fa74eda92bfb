import FerryIR

/// The tensors and metadata of a safetensors file.
public struct SafetensorsContent {
    public var tensors: [Tensor]
    /// The `__metadata__` string pairs.
    public var metadata: [KeyValue]

    public init(tensors: [Tensor], metadata: [KeyValue]) {
        self.tensors = tensors
        self.metadata = metadata
    }
}

/// Reads and writes safetensors files. Reading maps the file and views each tensor in place when
/// it is aligned for its element type (copying only misaligned ones); the header is validated in
/// full and may be of any size (the reference library stops at 100 MB).
public enum SafetensorsFile {
    public static func read(_ path: String) throws -> SafetensorsContent {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as FileError { throw SafetensorsError.io(e) }
        let bytes = file.bytes
        guard bytes.count >= 8 else {
            throw SafetensorsError.malformed(
                file: path, part: "header", reason: "file of \(bytes.count) bytes is too short for the 8-byte header length")
        }
        var n: UInt64 = 0
        for k in 0..<8 { n |= UInt64(bytes[k]) << (8 * k) }
        guard n <= UInt64(bytes.count - 8) else {
            throw SafetensorsError.malformed(
                file: path, part: "header", reason: "header length \(n) runs past the end of the \(bytes.count)-byte file")
        }
        let headerEnd = 8 + Int(n)
        var parser = HeaderParser(UnsafeRawBufferPointer(rebasing: bytes[8..<headerEnd]))
        let parsed: (entries: [HeaderParser.Entry], metadata: [(String, String)])
        do { parsed = try parser.parse() } catch let f as HeaderParser.Failure {
            throw SafetensorsError.malformed(file: path, part: f.part, reason: f.reason)
        }
        let dataSize = bytes.count - headerEnd

        // Offsets in order, inside the data section, not overlapping, sizes matching the shapes.
        let ordered = parsed.entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var previousEnd = 0, previousName = ""
        for e in ordered {
            let part = "tensor '\(e.name)'"
            guard let type = SafetensorsDType.byName[e.dtype] else {
                throw SafetensorsError.malformed(file: path, part: part, reason: "unknown dtype '\(e.dtype)'")
            }
            guard let count = Tensor.elementCount(of: e.shape), let size = type.byteCount(elements: count) else {
                throw SafetensorsError.malformed(file: path, part: part, reason: "element count of shape \(e.shape) overflows")
            }
            guard e.begin <= e.end, e.end <= dataSize else {
                throw SafetensorsError.malformed(
                    file: path, part: part,
                    reason: "data_offsets [\(e.begin), \(e.end)] are outside the \(dataSize)-byte data section")
            }
            guard e.end - e.begin == size else {
                throw SafetensorsError.malformed(
                    file: path, part: part,
                    reason: "shape \(e.shape) of \(e.dtype) needs \(size) bytes, data_offsets span \(e.end - e.begin)")
            }
            guard e.begin >= previousEnd || size == 0 else {
                throw SafetensorsError.malformed(file: path, part: part, reason: "data overlaps tensor '\(previousName)'")
            }
            if size > 0 {
                previousEnd = e.end
                previousName = e.name
            }
        }

        let tensors = parsed.entries.map { e -> Tensor in
            let type = SafetensorsDType.byName[e.dtype]!
            let offset = headerEnd + e.begin, count = e.end - e.begin
            let alignment = max(1, min(16, type.bitWidth / 8))
            let data =
                offset % alignment == 0
                ? TensorBytes(TensorBuffer(viewing: file, offset: offset, count: count))
                : TensorBytes(copying: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
            return Tensor(name: e.name, elementType: type, shape: e.shape, storage: .bytes(data))
        }
        return SafetensorsContent(tensors: tensors, metadata: parsed.metadata.map { KeyValue($0.0, $0.1) })
    }

    /// Writes `content` atomically: header entries and data in name order, the header padded with
    /// spaces so the data starts on a 64-byte boundary.
    public static func write(_ content: SafetensorsContent, to path: String, replace: Bool, protectedFiles: [String] = []) throws
    {
        let tensors = content.tensors.sorted { $0.name < $1.name }
        var names = Set<[UInt8]>() // by bytes, as the header compares them
        var header = "{"
        if !content.metadata.isEmpty {
            header +=
                "\"__metadata__\":{"
                + content.metadata.map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",") + "}"
        }
        var offset = 0
        for t in tensors {
            guard names.insert(Array(t.name.utf8)).inserted else {
                throw SafetensorsError.malformed(file: path, part: "tensor '\(t.name)'", reason: "two tensors have this name")
            }
            guard t.name != "__metadata__" else {
                throw SafetensorsError.malformed(file: path, part: "tensor '__metadata__'", reason: "the name is reserved")
            }
            guard let dtype = SafetensorsDType.nameOf[t.elementType], let b = t.bytes, t.segment == nil else {
                throw SafetensorsError.unsupportedType(file: path, tensor: t.name, type: t.elementType.name)
            }
            if header.count > 1 { header += "," }
            header +=
                "\(jsonString(t.name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + b.count)]}"
            offset += b.count
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % 64 != 0 { headerBytes.append(0x20) }

        if let id = fileIdentity(path), protectedFiles.contains(where: { fileIdentity($0) == id }) {
            throw SafetensorsError.io(.outputIsInput(path: path))
        }
        do {
            let out = try AtomicFile(path: path, replace: replace)
            var length = UInt64(headerBytes.count).littleEndian
            try withUnsafeBytes(of: &length) { try out.write($0) }
            try headerBytes.withUnsafeBytes { try out.write($0) }
            try Progress.forEach(tensors, "writing tensors") { t in try t.bytes!.withUnsafeBytes { try out.write($0) } }
            try out.commit()
        } catch let e as FileError {
            throw SafetensorsError.io(e)
        }
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
