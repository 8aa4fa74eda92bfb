import FerryIR
import Foundation
import ZIPFoundation

/// Errors reading and writing NumPy files.
public enum NumPyError: Error, CustomStringConvertible {
    /// The file is not a valid `.npy` / `.npz`, or holds something other than plain numbers.
    case invalid(file: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let file, let reason): return "\(file): \(reason)"
        }
    }
}

/// NumPy `.npy` arrays and `.npz` archives of them, as tensors. Only plain numeric and bool arrays are
/// read: object arrays (which NumPy would unpickle) are refused, never executed.
public enum NumPyFile {
    /// The largest `.npy` header accepted.
    static let maxHeader = 1 << 20

    /// Reads one `.npy` file.
    public static func read(_ path: String) throws -> Tensor {
        guard fileExists(path) else { throw FileError.system(path: path, operation: "open", errno: ENOENT) }
        // Foundation's Data(contentsOf:) leaks a page reading an empty file; nothing to read anyway.
        if FerryIR.fileSize(path) == 0 { throw NumPyError.invalid(file: path, reason: "empty file (no .npy header)") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw NumPyError.invalid(file: path, reason: "cannot read: \((error as NSError).localizedDescription)")
        }
        return try decode(data, file: path)
    }

    /// Reads every array of an `.npz` archive, by name (without the `.npy` suffix), in archive order.
    public static func readArchive(_ path: String) throws -> [(name: String, tensor: Tensor)] {
        guard fileExists(path) else { throw FileError.system(path: path, operation: "open", errno: ENOENT) }
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw NumPyError.invalid(file: path, reason: "not a zip archive (.npz)")
        }
        let size = FerryIR.fileSize(path) ?? 0
        var out: [(String, Tensor)] = []
        for entry in archive where entry.type == .file {
            guard entry.path.hasSuffix(".npy") else { continue }
            // Deflate cannot expand more than ~1032x; anything claiming more is hostile.
            let cap = max(size, 1).multipliedReportingOverflow(by: 1032).partialValue
            guard entry.uncompressedSize <= UInt64(cap) else {
                throw NumPyError.invalid(
                    file: path, reason: "\(entry.path) claims \(entry.uncompressedSize) bytes, more than the archive can hold")
            }
            var bytes = Data()
            bytes.reserveCapacity(Int(entry.uncompressedSize))
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    guard bytes.count + chunk.count <= cap else { throw CocoaError(.fileReadTooLarge) }
                    bytes.append(chunk)
                }
            } catch {
                throw NumPyError.invalid(file: path, reason: "\(entry.path) cannot be extracted")
            }
            out.append((String(entry.path.dropLast(4)), try decode(bytes, file: "\(path)[\(entry.path)]")))
        }
        guard !out.isEmpty else { throw NumPyError.invalid(file: path, reason: "the archive holds no .npy arrays") }
        return out
    }

    /// The element types NumPy descriptors name (little-endian or byte-sized).
    private static let types: [String: ElementType] = [
        "f4": .float, "f8": .double, "f2": .float16, "i8": .int64, "i4": .int32, "i2": .int16, "i1": .int8,
        "u8": .uint64, "u4": .uint32, "u2": .uint16, "u1": .uint8, "b1": .bool
    ]

    static func decode(_ data: Data, file: String) throws -> Tensor {
        func bad(_ reason: String) -> NumPyError { .invalid(file: file, reason: reason) }
        let magic: [UInt8] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]
        guard data.count >= 10, Array(data.prefix(6)) == magic else { throw bad("not a .npy file (bad magic)") }
        let major = data[data.startIndex + 6]
        let headerLength: Int, start: Int
        switch major {
        case 1:
            headerLength = Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
            start = 10
        case 2, 3:
            guard data.count >= 12 else { throw bad("truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(data[data.startIndex + 8 + $1]) << (8 * $1) }
            start = 12
        default: throw bad("unsupported .npy version \(major)")
        }
        guard headerLength <= maxHeader, start + headerLength <= data.count else { throw bad("truncated header") }
        let header = String(decoding: data[(data.startIndex + start)..<(data.startIndex + start + headerLength)], as: UTF8.self)
        guard let descr = field(header, "descr").flatMap(quoted) else { throw bad("header has no 'descr'") }
        guard let fortranText = field(header, "fortran_order") else { throw bad("header has no 'fortran_order'") }
        guard let shapeText = field(header, "shape") else { throw bad("header has no 'shape'") }
        let fortran = fortranText.hasPrefix("True")
        guard fortran || fortranText.hasPrefix("False") else { throw bad("fortran_order is \(fortranText.prefix(10))") }
        guard shapeText.hasPrefix("("), let close = shapeText.firstIndex(of: ")") else { throw bad("shape is not a tuple") }
        var shape: [Int] = []
        for part in shapeText[shapeText.index(after: shapeText.startIndex)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let d = Int(t), d >= 0 else { throw bad("shape has '\(t)'") }
            shape.append(d)
        }
        if descr.contains("O") { throw bad("object arrays are refused (loading them would unpickle Python code)") }
        guard let order = descr.first else { throw bad("header has an empty 'descr'") }
        let code = String(descr.dropFirst())
        guard order == "<" || order == "|" || order == "=" else {
            throw bad("big-endian arrays ('\(descr)') are not supported; save with dtype '<\(code)'")
        }
        guard let type = types[code] else { throw bad("unsupported dtype '\(descr)'") }
        guard let count = Tensor.elementCount(of: shape), let bytes = type.byteCount(elements: count) else {
            throw bad("shape \(shape) is too large")
        }
        let offset = start + headerLength
        guard data.count - offset == bytes else {
            throw bad("shape \(shape) of \(type.name) needs \(bytes) data bytes, the file has \(data.count - offset)")
        }
        var tensor = Tensor(
            elementType: type, shape: shape,
            storage: .bytes(
                TensorBytes(count: bytes) { out in
                    data.withUnsafeBytes { raw in
                        if bytes > 0 { out.baseAddress!.copyMemory(from: raw.baseAddress! + offset, byteCount: bytes) }
                    }
                }))
        if fortran && shape.count > 1 { tensor = reorderFromFortran(tensor) }
        return tensor
    }

    /// The value of `key` in a Python dict literal, as the text after the colon.
    private static func field(_ header: String, _ key: String) -> Substring? {
        for q in ["'", "\""] {
            if let r = header.range(of: q + key + q) {
                var rest = header[r.upperBound...].drop { $0 == " " }
                guard rest.first == ":" else { return nil }
                rest = rest.dropFirst().drop { $0 == " " }
                return rest
            }
        }
        return nil
    }

    private static func quoted(_ s: Substring) -> String? {
        guard let q = s.first, q == "'" || q == "\"" else { return nil }
        let body = s.dropFirst()
        guard let end = body.firstIndex(of: q) else { return nil }
        return String(body[..<end])
    }

    /// Column-major element order to row-major.
    private static func reorderFromFortran(_ t: Tensor) -> Tensor {
        let size = t.elementType.bitWidth / 8
        let shape = t.shape, n = Tensor.elementCount(of: shape) ?? 0
        var fstride = [Int](repeating: 1, count: shape.count)
        for d in 1..<shape.count { fstride[d] = fstride[d - 1] * shape[d - 1] }
        let src = t.bytes!
        let out = TensorBytes(count: n * size) { dst in
            src.withUnsafeBytes { s in
                var idx = [Int](repeating: 0, count: shape.count)
                for i in 0..<n {
                    var off = 0
                    for d in 0..<shape.count { off += idx[d] * fstride[d] }
                    dst.baseAddress!.advanced(by: i * size).copyMemory(from: s.baseAddress! + off * size, byteCount: size)
                    var d = shape.count - 1
                    while d >= 0 {
                        idx[d] += 1
                        if idx[d] < shape[d] { break }
                        idx[d] = 0
                        d -= 1
                    }
                }
            }
        }
        return Tensor(name: t.name, elementType: t.elementType, shape: shape, storage: .bytes(out))
    }

    /// Writes `tensor` as a `.npy` file (version 1, little-endian, C order), atomically.
    public static func write(_ tensor: Tensor, to path: String, replace: Bool = true) throws {
        let prefix = try header(tensor, file: path)
        let file = try AtomicFile(path: path, replace: replace)
        try prefix.withUnsafeBytes { try file.write($0) }
        try tensor.bytes!.withUnsafeBytes { try file.write($0) }
        try file.commit()
    }

    /// Writes `tensors` as an `.npz` archive (each NAME.npy stored uncompressed, as np.savez
    /// writes them), atomically; `np.load` gives them back by name.
    public static func writeArchive(_ tensors: [Tensor], to path: String, replace: Bool, protectedFiles: [String] = []) throws {
        if let id = fileIdentity(path), protectedFiles.contains(where: { fileIdentity($0) == id }) {
            throw FileError.outputIsInput(path: path)
        }
        var names = Set<String>()
        let headers = try tensors.map { t -> [UInt8] in
            guard names.insert(t.name).inserted else {
                throw NumPyError.invalid(file: path, reason: "two tensors are named '\(t.name)'")
            }
            return try header(t, file: path)
        }
        let file = try AtomicFile(path: path, replace: replace)
        var archive = ZipWriter(file)
        try Progress.forEach(Array(zip(tensors, headers)), "writing tensors") { t, h in
            try h.withUnsafeBytes { head in
                try t.bytes!.withUnsafeBytes { try archive.add(t.name + ".npy", [head, $0], alignment: 1) }
            }
        }
        try archive.finish()
        try file.commit()
    }

    /// The `.npy` header (magic, version 1, the dictionary padded to 64 bytes) of `tensor`.
    private static func header(_ tensor: Tensor, file path: String) throws -> [UInt8] {
        let codes: [ElementType: String] = Dictionary(uniqueKeysWithValues: types.map { ($0.value, $0.key) })
        guard let code = codes[tensor.elementType], tensor.bytes != nil, tensor.segment == nil else {
            throw NumPyError.invalid(
                file: path, reason: "tensor '\(tensor.name)': \(tensor.elementType.name) tensors cannot be written as .npy")
        }
        let order = code == "u1" || code == "i1" || code == "b1" ? "|" : "<"
        let shapeText =
            tensor.shape.isEmpty
            ? "()"
            : tensor.shape.count == 1
                ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(order)\(code)', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        return [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
            + Array(header.utf8)
    }
}
