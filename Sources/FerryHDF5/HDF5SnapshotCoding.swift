import FerryIR

/// The reader helper's reply on the wire: a snapshot (or why the file could not be opened) in a
/// little-endian binary form. Tensor bytes are aligned to `TensorBuffer.alignment` so the reader
/// views them in the received buffer without copying. Decoding checks every count, index, type
/// and size against the bytes received: the reply comes from a process that parsed a hostile file.
enum HDF5SnapshotCoding {
    /// The encoded reply.
    static func encode(_ reply: Result<HDF5Snapshot, HDF5Error>) -> [UInt8] {
        var w = Writer()
        w.result(reply) { w, s in
            w.int(s.nodes.count)
            for node in s.nodes { w.node(node) }
            w.strings(s.externalFiles)
        }
        return w.bytes
    }

    /// Decodes a reply held in `buffer`; `file` names the file in errors.
    static func decode(_ buffer: TensorBuffer, file: String) throws -> HDF5Snapshot {
        var r = Reader(buffer: buffer, file: file)
        let reply = try r.result { r in
            let count = try r.count()
            var nodes: [HDF5Snapshot.Node] = []
            for _ in 0..<count { nodes.append(try r.node()) }
            let snapshot = HDF5Snapshot(nodes: nodes, externalFiles: try r.strings())
            for node in nodes {
                guard case .group(.success(let members)) = node.body else { continue }
                for m in members {
                    if case .success(let i)? = m.target, !(0..<count).contains(i) { throw r.malformed("node index") }
                }
            }
            guard count > 0, case .group = nodes[0].body else { throw r.malformed("root") }
            return snapshot
        }
        guard r.offset == buffer.count else { throw r.malformed("trailing bytes") }
        return try reply.get()
    }

    private struct Writer {
        var bytes: [UInt8] = []

        mutating func int(_ v: Int) { withUnsafeBytes(of: UInt64(bitPattern: Int64(v)).littleEndian) { bytes += $0 } }
        mutating func byte(_ v: UInt8) { bytes.append(v) }
        mutating func string(_ s: String) {
            int(s.utf8.count)
            bytes += s.utf8
        }
        mutating func strings(_ list: [String]) {
            int(list.count)
            list.forEach { string($0) }
        }

        mutating func result<T>(_ r: Result<T, HDF5Error>, _ body: (inout Writer, T) -> Void) {
            switch r {
            case .success(let v):
                byte(0)
                body(&self, v)
            case .failure(let e):
                byte(1)
                error(e)
            }
        }

        /// The file an error names (for errors that are re-sent as `.invalid`).
        private func file(of e: HDF5Error) -> String {
            if case .readerFailed(let f, _) = e { return f }
            if case .readerUnavailable(let f, _) = e { return f }
            return ""
        }

        mutating func error(_ e: HDF5Error) {
            switch e {
            case .library(let f, let o, let op, let d):
                byte(0)
                strings([f, o, op, d])
            case .refusedExternal(let f, let o, let k):
                byte(1)
                strings([f, o, k])
            case .unsupportedType(let f, let o, let t):
                byte(2)
                strings([f, o, t])
            case .notHDF5(let f):
                byte(3)
                strings([f])
            case .invalid(let f, let o, let r):
                byte(4)
                strings([f, o, r])
            case .io(.system(let path, let op, let code)):
                byte(5)
                strings([path, op, String(code)])
            default:
                byte(4)
                strings([file(of: e), "/", e.description])
            }
        }

        mutating func tensor(_ t: Tensor) {
            int(Int(t.elementType.rawValue))
            int(t.shape.count)
            t.shape.forEach { int($0) }
            switch t.storage {
            case .bytes(let b):
                byte(0)
                int(b.count)
                while bytes.count % TensorBuffer.alignment != 0 { bytes.append(0) }
                b.withUnsafeBytes { bytes += $0 }
            case .strings(let list):
                byte(1)
                int(list.count)
                for s in list {
                    int(s.count)
                    bytes += s
                }
            }
        }

        mutating func value(_ v: HDF5Value) {
            switch v {
            case .tensor(let t):
                byte(0)
                tensor(t)
            case .string(let s):
                byte(1)
                string(s)
            case .strings(let l):
                byte(2)
                strings(l)
            }
        }

        mutating func node(_ n: HDF5Snapshot.Node) {
            string(n.path)
            result(n.attributes) { w, list in
                w.int(list.count)
                for a in list {
                    w.string(a.name)
                    w.result(a.value) { w, v in w.value(v) }
                }
            }
            switch n.body {
            case .group(let members):
                byte(0)
                result(members) { w, list in
                    w.int(list.count)
                    for m in list {
                        w.string(m.name)
                        w.byte(HDF5Snapshot.kindCodes.firstIndex(of: m.kind).map(UInt8.init) ?? 0)
                        switch m.target {
                        case nil: w.byte(0)
                        case .success(let i)?:
                            w.byte(1)
                            w.int(i)
                        case .failure(let e)?:
                            w.byte(2)
                            w.error(e)
                        }
                    }
                }
            case .dataset(let data, let filtered):
                byte(1)
                byte(filtered ? 1 : 0)
                result(data) { w, d in
                    switch d {
                    case .tensor(let t):
                        w.byte(0)
                        w.tensor(t)
                    case .placed(let offset, let type, let shape):
                        w.byte(1)
                        w.int(offset)
                        w.int(Int(type.rawValue))
                        w.int(shape.count)
                        shape.forEach { w.int($0) }
                    }
                }
            }
        }
    }

    private struct Reader {
        let buffer: TensorBuffer
        let file: String
        var offset = 0

        func malformed(_ what: String) -> HDF5Error {
            .readerUnavailable(file: file, reason: "the reader helper sent a malformed reply (\(what))")
        }

        mutating func byte() throws -> UInt8 {
            guard offset < buffer.count else { throw malformed("truncated") }
            defer { offset += 1 }
            return buffer.baseAddress.load(fromByteOffset: offset, as: UInt8.self)
        }

        mutating func int() throws -> Int {
            guard buffer.count - offset >= 8 else { throw malformed("truncated") }
            defer { offset += 8 }
            return Int(Int64(littleEndian: buffer.baseAddress.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
        }

        /// A count of items that each take at least one byte of what remains.
        mutating func count() throws -> Int {
            let n = try int()
            guard n >= 0, n <= buffer.count - offset else { throw malformed("count \(n)") }
            return n
        }

        mutating func raw(_ n: Int) throws -> UnsafeRawBufferPointer {
            guard n >= 0, n <= buffer.count - offset else { throw malformed("length \(n)") }
            defer { offset += n }
            return UnsafeRawBufferPointer(start: buffer.baseAddress + offset, count: n)
        }

        mutating func string() throws -> String { String(decoding: try raw(try int()), as: UTF8.self) }
        mutating func strings() throws -> [String] { try (0..<(try count())).map { _ in try string() } }

        mutating func result<T>(_ body: (inout Reader) throws -> T) throws -> Result<T, HDF5Error> {
            switch try byte() {
            case 0: return .success(try body(&self))
            case 1: return .failure(try error())
            default: throw malformed("result tag")
            }
        }

        mutating func error() throws -> HDF5Error {
            let tag = try byte()
            let s = try strings()
            switch (tag, s.count) {
            case (0, 4): return .library(file: s[0], object: s[1], operation: s[2], detail: s[3])
            case (1, 3): return .refusedExternal(file: s[0], object: s[1], kind: s[2])
            case (2, 3): return .unsupportedType(file: s[0], object: s[1], type: s[2])
            case (3, 1): return .notHDF5(file: s[0])
            case (4, 3): return .invalid(file: s[0], object: s[1], reason: s[2])
            case (5, 3): return .io(.system(path: s[0], operation: s[1], errno: Int32(s[2]) ?? 0))
            default: throw malformed("error tag")
            }
        }

        mutating func elementType() throws -> ElementType {
            let raw = try int()
            guard let t = Int32(exactly: raw).flatMap(ElementType.init(rawValue:)), t != .undefined else {
                throw malformed("element type \(raw)")
            }
            return t
        }

        mutating func shape() throws -> [Int] {
            let shape = try (0..<(try count())).map { _ in try int() }
            guard shape.allSatisfy({ $0 >= 0 }), Tensor.elementCount(of: shape) != nil else { throw malformed("shape \(shape)") }
            return shape
        }

        mutating func tensor() throws -> Tensor {
            let type = try elementType()
            let shape = try self.shape()
            let count = Tensor.elementCount(of: shape)!
            switch try byte() {
            case 0:
                let n = try int()
                while offset % TensorBuffer.alignment != 0 { guard try byte() == 0 else { throw malformed("padding") } }
                guard type != .string, type.byteCount(elements: count) == n else { throw malformed("tensor size") }
                let start = offset
                _ = try raw(n)
                return Tensor(
                    name: "", elementType: type, shape: shape,
                    storage: .bytes(TensorBytes(TensorBuffer(viewing: buffer, offset: start, count: n))))
            case 1:
                let n = try self.count()
                guard type == .string, n == count else { throw malformed("string count") }
                let list = try (0..<n).map { _ in Array(try raw(try int())) }
                return Tensor(name: "", elementType: .string, shape: shape, storage: .strings(list))
            default:
                throw malformed("storage tag")
            }
        }

        mutating func value() throws -> HDF5Value {
            switch try byte() {
            case 0: return .tensor(try tensor())
            case 1: return .string(try string())
            case 2: return .strings(try strings())
            default: throw malformed("value tag")
            }
        }

        mutating func node() throws -> HDF5Snapshot.Node {
            let path = try string()
            let attributes = try result { r in
                try (0..<(try r.count())).map { _ in
                    HDF5Snapshot.Attribute(name: try r.string(), value: try r.result { r in try r.value() })
                }
            }
            switch try byte() {
            case 0:
                let members = try result { r in
                    try (0..<(try r.count())).map { _ in
                        let name = try r.string()
                        let code = Int(try r.byte())
                        guard code < HDF5Snapshot.kindCodes.count else { throw r.malformed("member kind") }
                        let target: Result<Int, HDF5Error>?
                        switch try r.byte() {
                        case 0: target = nil
                        case 1: target = .success(try r.int())
                        case 2: target = .failure(try r.error())
                        default: throw r.malformed("member target")
                        }
                        return HDF5Snapshot.Member(name: name, kind: HDF5Snapshot.kindCodes[code], target: target)
                    }
                }
                return HDF5Snapshot.Node(path: path, attributes: attributes, body: .group(members))
            case 1:
                let filtered = try byte() != 0
                let data = try result { r -> HDF5Snapshot.DatasetData in
                    switch try r.byte() {
                    case 0: return .tensor(try r.tensor())
                    case 1:
                        let offset = try r.int()
                        let type = try r.elementType()
                        let shape = try r.shape()
                        guard offset >= 0, type != .string, type.byteCount(elements: Tensor.elementCount(of: shape)!) != nil
                        else {
                            throw r.malformed("placed data")
                        }
                        return .placed(offset: offset, elementType: type, shape: shape)
                    default: throw r.malformed("data tag")
                    }
                }
                return HDF5Snapshot.Node(path: path, attributes: attributes, body: .dataset(data, filtered: filtered))
            default:
                throw malformed("node tag")
            }
        }
    }
}

extension HDF5Snapshot {
    /// Member kinds by their code on the wire.
    static let kindCodes: [HDF5MemberKind] = [.group, .dataset, .softLink, .externalLink, .other]
}
