import FerryIR

/// The members of a zip archive, read from its central directory (with ZIP64 sizes and offsets),
/// as torch writes checkpoints: members stored uncompressed, so each is a range of the mapped file.
struct ZipDirectory {
    /// One member: where its bytes are in the file.
    struct Member {
        let name: String
        let offset: Int
        let size: Int
    }

    /// A structural problem; `part` names the record or member.
    struct Failure: Error {
        let part: String
        let reason: String
    }

    private(set) var members: [String: Member] = [:]
    /// Member names in directory order.
    private(set) var names: [String] = []
    /// Members stored compressed (torch never writes them; Ferry reads only stored members).
    private(set) var compressed: Set<String> = []

    /// Reads the directory of the archive in `bytes`. Compressed members are refused when read,
    /// not here (a checkpoint may hold files Ferry never needs).
    init(_ bytes: UnsafeRawBufferPointer) throws {
        let (count, start) = try Self.centralDirectory(bytes)
        var p = start
        for k in 0..<count {
            let part = "central directory entry \(k)"
            guard p + 46 <= bytes.count, Self.le(bytes, p, 4) == 0x0201_4b50 else {
                throw Failure(part: part, reason: "missing or cut short")
            }
            let method = Self.le(bytes, p + 10, 2)
            var compressed = Self.le(bytes, p + 20, 4), size = Self.le(bytes, p + 24, 4)
            let nameLength = Int(Self.le(bytes, p + 28, 2)), extraLength = Int(Self.le(bytes, p + 30, 2))
            let commentLength = Int(Self.le(bytes, p + 32, 2))
            var local = Self.le(bytes, p + 42, 4)
            guard p + 46 + nameLength + extraLength + commentLength <= bytes.count else {
                throw Failure(part: part, reason: "its name or extra field runs past the end of the file")
            }
            let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            // ZIP64 extended information: the fields that overflowed 32 bits, in this order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = Self.le(bytes, e, 2), length = Int(Self.le(bytes, e + 2, 2))
                guard e + 4 + length <= extraEnd else { break }
                if id == 1 {
                    var q = e + 4
                    for field in [0, 1, 2] {
                        let wide: Bool = [size, compressed, local][field] == 0xFFFF_FFFF
                        guard wide else { continue }
                        guard q + 8 <= e + 4 + length else {
                            throw Failure(part: "member '\(name)'", reason: "ZIP64 field cut short")
                        }
                        let v = Self.le(bytes, q, 8)
                        if field == 0 { size = v } else if field == 1 { compressed = v } else { local = v }
                        q += 8
                    }
                }
                e += 4 + length
            }
            p = extraEnd + commentLength
            names.append(name)
            guard method == 0, compressed == size else {
                self.compressed.insert(name)
                continue
            }
            // The local header repeats the name and has an extra field of its own.
            let l = Int(clamping: local)
            guard l <= bytes.count - 30, Self.le(bytes, l, 4) == 0x0403_4b50 else {
                throw Failure(part: "member '\(name)'", reason: "its local header is missing")
            }
            let dataStart = l + 30 + Int(Self.le(bytes, l + 26, 2)) + Int(Self.le(bytes, l + 28, 2))
            guard size <= UInt64(bytes.count), dataStart <= bytes.count - Int(size) else {
                throw Failure(part: "member '\(name)'", reason: "its \(size) bytes run past the end of the file")
            }
            members[name] = Member(name: name, offset: dataStart, size: Int(size))
        }
    }

    /// Entry count and offset of the central directory, from the end records (ZIP64 when present).
    private static func centralDirectory(_ b: UnsafeRawBufferPointer) throws -> (Int, Int) {
        guard b.count >= 22 else {
            throw Failure(part: "end of central directory", reason: "the file is too short for a zip archive")
        }
        var eocd = -1
        var p = b.count - 22
        let lowest = max(0, b.count - 22 - 65535)
        while p >= lowest {
            if le(b, p, 4) == 0x0605_4b50 {
                eocd = p
                break
            }
            p -= 1
        }
        guard eocd >= 0 else { throw Failure(part: "end of central directory", reason: "not found: not a zip archive") }
        var count = le(b, eocd + 10, 2), offset = le(b, eocd + 16, 4)
        if count == 0xFFFF || offset == 0xFFFF_FFFF {
            // ZIP64 end of central directory locator, just before.
            let locator = eocd - 20
            guard locator >= 0, le(b, locator, 4) == 0x0706_4b50 else {
                throw Failure(part: "ZIP64 end of central directory locator", reason: "missing")
            }
            let record = le(b, locator + 8, 8)
            guard record <= UInt64(b.count - 56), le(b, Int(record), 4) == 0x0606_4b50 else {
                throw Failure(part: "ZIP64 end of central directory", reason: "missing or cut short")
            }
            count = le(b, Int(record) + 32, 8)
            offset = le(b, Int(record) + 48, 8)
        }
        guard offset <= UInt64(b.count), count <= UInt64(b.count / 46) else {
            throw Failure(part: "end of central directory", reason: "\(count) entries at offset \(offset) do not fit in the file")
        }
        return (Int(count), Int(offset))
    }

    private static func le(_ b: UnsafeRawBufferPointer, _ at: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<n { v |= UInt64(b[at + k]) << (8 * k) }
        return v
    }
}
