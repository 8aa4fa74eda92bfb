/// A byte-level JSON reader for safetensors headers: fast enough for headers of hundreds of
/// megabytes (millions of tensors), and strict (duplicate keys, trailing bytes and bad escapes
/// are errors).
struct HeaderParser {
    /// One tensor entry of the header.
    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    struct Failure: Error {
        let part: String
        let reason: String
    }

    private let bytes: UnsafeRawBufferPointer
    private var i = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses the header: the tensor entries in header order and the `__metadata__` pairs.
    mutating func parse() throws -> (entries: [Entry], metadata: [(String, String)]) {
        var entries: [Entry] = []
        var metadata: [(String, String)] = []
        var seen = Set<[UInt8]>() // by bytes: Swift's String equality would merge canonically equivalent names
        try expect(UInt8(ascii: "{"), part: "header")
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                let key = try string(part: "header")
                guard seen.insert(Array(key.utf8)).inserted else {
                    throw Failure(part: "tensor '\(key)'", reason: "appears twice in the header")
                }
                try expect(UInt8(ascii: ":"), part: "'\(key)'")
                if key == "__metadata__" {
                    metadata = try stringMap(part: "__metadata__")
                } else {
                    entries.append(try entry(key))
                }
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                try expect(UInt8(ascii: "}"), part: "header")
                break
            }
        }
        skipSpace()
        guard i == bytes.count else {
            throw Failure(part: "header", reason: "unexpected bytes after the JSON object at byte \(i + 8)")
        }
        return (entries, metadata)
    }

    private mutating func entry(_ name: String) throws -> Entry {
        let part = "tensor '\(name)'"
        var dtype: String?, shape: [Int]?, offsets: [Int]?
        try expect(UInt8(ascii: "{"), part: part)
        skipSpace()
        if peek() != UInt8(ascii: "}") {
            while true {
                let key = try string(part: part)
                try expect(UInt8(ascii: ":"), part: part)
                switch key {
                case "dtype": dtype = try string(part: part)
                case "shape": shape = try intArray(part: part)
                case "data_offsets": offsets = try intArray(part: part)
                default: throw Failure(part: part, reason: "unknown field '\(key)'")
                }
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                break
            }
        }
        try expect(UInt8(ascii: "}"), part: part)
        guard let dtype, let shape, let offsets else {
            throw Failure(part: part, reason: "needs dtype, shape and data_offsets")
        }
        guard offsets.count == 2 else { throw Failure(part: part, reason: "data_offsets must hold two numbers") }
        return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    private mutating func stringMap(part: String) throws -> [(String, String)] {
        var out: [(String, String)] = []
        try expect(UInt8(ascii: "{"), part: part)
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            i += 1
            return out
        }
        while true {
            let k = try string(part: part)
            try expect(UInt8(ascii: ":"), part: part)
            let v = try string(part: "\(part) '\(k)'")
            out.append((k, v))
            skipSpace()
            if peek() == UInt8(ascii: ",") {
                i += 1
                continue
            }
            try expect(UInt8(ascii: "}"), part: part)
            return out
        }
    }

    private mutating func intArray(part: String) throws -> [Int] {
        var out: [Int] = []
        try expect(UInt8(ascii: "["), part: part)
        skipSpace()
        if peek() == UInt8(ascii: "]") {
            i += 1
            return out
        }
        while true {
            skipSpace()
            var v = 0
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(bytes[i] - 0x30))
                guard !o1, !o2 else { throw Failure(part: part, reason: "number too large") }
                v = a
                i += 1
            }
            guard i > start else { throw Failure(part: part, reason: "expected a non-negative integer at byte \(i + 8)") }
            out.append(v)
            skipSpace()
            if peek() == UInt8(ascii: ",") {
                i += 1
                continue
            }
            try expect(UInt8(ascii: "]"), part: part)
            return out
        }
    }

    private mutating func string(part: String) throws -> String {
        skipSpace()
        guard peek() == UInt8(ascii: "\"") else { throw Failure(part: part, reason: "expected a string at byte \(i + 8)") }
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            if c == UInt8(ascii: "\"") {
                guard !out.contains(0) else { throw Failure(part: part, reason: "string contains a NUL character") }
                guard let s = String(validatingUTF8: out.map { CChar(bitPattern: $0) } + [0]) else {
                    throw Failure(part: part, reason: "string is not valid UTF-8")
                }
                return s
            }
            if c < 0x20 { throw Failure(part: part, reason: "control character in a string at byte \(i + 7)") }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                continue
            }
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4(part: part)
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw Failure(part: part, reason: "unpaired surrogate escape")
                    }
                    i += 2
                    let low = try hex4(part: part)
                    guard (0xDC00..<0xE000).contains(low) else { throw Failure(part: part, reason: "unpaired surrogate escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw Failure(part: part, reason: "invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw Failure(part: part, reason: "invalid escape at byte \(i + 7)")
            }
        }
        throw Failure(part: part, reason: "unterminated string")
    }

    private mutating func hex4(part: String) throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw Failure(part: part, reason: "truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            i += 1
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw Failure(part: part, reason: "invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    private mutating func expect(_ c: UInt8, part: String) throws {
        skipSpace()
        guard peek() == c else {
            throw Failure(part: part, reason: "expected '\(Character(Unicode.Scalar(c)))' at byte \(i + 8)")
        }
        i += 1
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }
}
