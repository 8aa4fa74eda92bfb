import FerryIR

/// The tensors of a PyTorch checkpoint (`torch.save`'s zip format, as `.pt`, `.pth` or HF's
/// `pytorch_model.bin`; its legacy format; a TorchScript archive; a sharded `.index.json`), read
/// without running its pickle: only the allow-list in `TorchRebuild`
/// builds anything, and nothing is ever called. Storages are views of the mapped file.
public struct TorchCheckpoint {
    /// The tensors of the chosen dict, named by their keys (nested dicts joined with ".").
    public var tensors: [Tensor]
    /// Everything else in the checkpoint's top-level dict, described (`epoch` -> `3`,
    /// `args` -> `argparse.Namespace (not loaded)`), and where the tensors came from.
    public var entries: [KeyValue]
    /// The files read besides the one given (a sharded checkpoint's shards).
    public var files: [String] = []
    /// Where the tensors came from ("key 'state_dict'"), also the `ferry.tensors_from` entry.
    public var source: String { entries.first { $0.key == Self.sourceEntry }?.value ?? "" }
    /// The entry naming where the tensors came from.
    public static let sourceEntry = "ferry.tensors_from"

    /// Reads `path`; `key` picks the top-level entry holding the tensors (default: the first dict
    /// of tensors, breadth first).
    public static func read(_ path: String, key: String? = nil) throws -> TorchCheckpoint {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as FileError { throw TorchError.io(e) }
        let bytes = file.bytes
        if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B { return try readZip(file, path: path, key: key) }
        if path.hasSuffix(".index.json") { return try ShardedCheckpoint.read(path, key: key) }
        if LegacyCheckpoint.matches(bytes) { return try LegacyCheckpoint.read(file, path: path, key: key) }
        throw TorchError.malformed(file: path, part: "format", reason: "not a PyTorch checkpoint (neither zip nor legacy)")
    }

    /// torch.save's zip format: data.pkl, its storages as data/KEY, byteorder.
    private static func readZip(_ file: MappedFile, path: String, key: String?) throws -> TorchCheckpoint {
        let bytes = file.bytes
        let zip: ZipDirectory
        do { zip = try ZipDirectory(bytes) } catch let f as ZipDirectory.Failure {
            throw TorchError.malformed(file: path, part: f.part, reason: f.reason)
        }
        guard
            let pickleName = zip.names.filter({ $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }).min(by: { $0.count < $1.count })
        else { throw TorchError.malformed(file: path, part: "archive", reason: "no data.pkl: not a torch.save checkpoint") }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if let order = zip.members[prefix + "byteorder"] {
            let text = String(decoding: bytes[order.offset..<(order.offset + order.size)], as: UTF8.self)
            guard text == "little" else {
                throw TorchError.refused(
                    file: path, part: "byteorder", reason: "'\(text.prefix(20))' data; Ferry reads little-endian")
            }
        }
        guard let pickle = zip.members[pickleName] else {
            throw TorchError.refused(file: path, part: pickleName, reason: "compressed; torch stores it uncompressed")
        }
        let region = UnsafeRawBufferPointer(rebasing: bytes[pickle.offset..<(pickle.offset + pickle.size)])
        let machine = try unpickle(region, part: pickleName, path: path) { key, type, count in
            let name = prefix + "data/" + key
            guard let member = zip.members[name] else {
                throw RebuildError(
                    reason: zip.compressed.contains(name) ? "storage '\(key)' is compressed" : "storage '\(key)' is missing")
            }
            let (needed, overflow) = count.multipliedReportingOverflow(by: type.bitWidth / 8)
            guard !overflow, needed <= member.size else {
                throw RebuildError(reason: "storage '\(key)' holds \(member.size) bytes, fewer than its \(count) elements need")
            }
            return TensorBuffer(viewing: file, offset: member.offset, count: needed)
        }
        defer { machine.machine.arena.tearDown() }
        return try TensorCollector(file: path).collect(machine.root, key: key)
    }

    /// Runs a checkpoint pickle, its persistent ids made storages: `storage(key, type, count)`
    /// gives a storage's bytes (once per key).
    static func unpickle(
        _ region: UnsafeRawBufferPointer, part: String, path: String,
        storage: @escaping (String, ElementType, Int) throws -> TensorBuffer
    ) throws -> (root: PickleValue, machine: PickleMachine, storages: [String: TorchStorage]) {
        var storages: [String: TorchStorage] = [:]
        var machine = PickleMachine(
            region, build: TorchRebuild.build,
            persistentLoad: { id in
                guard case .tuple(let t) = id, t.items.count >= 5, case .string("storage") = t.items[0],
                    case .global(_, let typeName) = t.items[1], case .string(let key) = t.items[2],
                    case .int(let numel) = t.items[4], let count = Int(exactly: numel), count >= 0
                else { throw RebuildError(reason: "not a torch storage") }
                if t.items.count > 5, case .none = t.items[5] {
                } else if t.items.count > 5 {
                    throw RebuildError(reason: "storage '\(key)' is a view of another (a legacy form Ferry does not read)")
                }
                guard let type = TorchRebuild.storageTypes[typeName] else {
                    throw RebuildError(reason: "storage type torch.\(typeName) is not supported")
                }
                if let known = storages[key] { return .external(known) }
                let s = TorchStorage(key: key, elementType: type, elementCount: count, bytes: try storage(key, type, count))
                storages[key] = s
                return .external(s)
            })
        do {
            let root = try machine.run()
            return (root, machine, storages)
        } catch let f as PickleMachine.Failure {
            throw TorchError.malformed(file: path, part: "\(part) at byte \(f.position)", reason: f.reason)
        }
    }
}

/// Picks the dict of tensors out of an unpickled checkpoint and describes the rest.
struct TensorCollector {
    let file: String
    /// How deep dicts of tensors are looked for and flattened.
    let maxDepth = 16

    func collect(_ root: PickleValue, key: String?) throws -> TorchCheckpoint {
        var entries: [KeyValue] = []
        var chosen: PickleValue = root, source = "the top-level value"
        if let key {
            guard case .dict(let d) = root, let v = d[key] else {
                throw TorchError.refused(file: file, part: "key '\(key)'", reason: "the checkpoint's top level has no such key")
            }
            chosen = v
            source = "key '\(key)'"
        } else if case .object(let o) = root, case .dict? = o.state {
            // A TorchScript module: its attributes, submodules' joined with ".", as state_dict() names them.
            source = "the \(o.type) module's attributes"
        } else if let (path, v) = firstDictOfTensors(root) {
            chosen = v
            source = path.isEmpty ? "the top-level dict" : "key '\(path)'"
        } else if case .external = root {
            source = "the top-level tensor"
        }
        var tensors: [Tensor] = []
        var views: [String: String] = [:]
        flatten(chosen, name: "", depth: 0, into: &tensors, views: &views, entries: &entries)
        if case .dict(let d) = root {
            for e in d.entries {
                let k = name(of: e.key)
                if case .dict(let sub) = chosen, case .dict(let same) = e.value, sub === same { continue }
                if case .external = e.value { continue } // a tensor of the chosen (top-level) dict
                entries.append(KeyValue(k, describe(e.value)))
            }
        }
        guard !tensors.isEmpty else {
            throw TorchError.refused(file: file, part: source, reason: "holds no tensors (\(chosen.kind))")
        }
        entries.insert(KeyValue(TorchCheckpoint.sourceEntry, source), at: 0)
        return TorchCheckpoint(tensors: tensors, entries: entries)
    }

    /// The first dict (breadth first) with a tensor among its values, and its key path.
    private func firstDictOfTensors(_ root: PickleValue) -> (String, PickleValue)? {
        var queue: [(String, PickleValue, Int)] = [("", root, 0)]
        var seen = Set<ObjectIdentifier>()
        var k = 0
        while k < queue.count {
            let (path, v, depth) = queue[k]
            k += 1
            guard case .dict(let d) = v, seen.insert(ObjectIdentifier(d)).inserted else { continue }
            if d.entries.contains(where: { if case .external = $0.value { return true } else { return false } }) {
                return (path, v)
            }
            guard depth < maxDepth else { continue }
            for e in d.entries {
                queue.append((path.isEmpty ? name(of: e.key) : path + "." + name(of: e.key), e.value, depth + 1))
            }
        }
        return nil
    }

    /// Collects the tensors under `v`; a tensor viewing the same elements as an earlier one (tied
    /// weights) is recorded as `ferry.alias.NAME` -> the earlier name.
    private func flatten(
        _ v: PickleValue, name prefix: String, depth: Int, into tensors: inout [Tensor], views: inout [String: String],
        entries: inout [KeyValue]
    ) {
        switch v {
        case .external(let t as TorchTensor):
            let view = "\(t.storage.key)@\(t.offset):\(t.shape):\(t.strides)"
            if let first = views[view] {
                entries.append(KeyValue(TiedTensors.aliasPrefix + prefix, first))
            } else {
                views[view] = prefix
            }
            tensors.append(t.tensor(named: prefix))
        case .object(let o) where depth < maxDepth:
            if case .dict(let d)? = o.state {
                flatten(.dict(d), name: prefix, depth: depth + 1, into: &tensors, views: &views, entries: &entries)
            }
        case .dict(let d) where depth < maxDepth:
            for e in d.entries {
                let n = name(of: e.key)
                flatten(
                    e.value, name: prefix.isEmpty ? n : prefix + "." + n, depth: depth + 1, into: &tensors, views: &views,
                    entries: &entries)
            }
        default:
            break
        }
    }

    private func name(of key: PickleValue) -> String {
        switch key {
        case .string(let s): return s
        case .int(let i): return String(i)
        default: return key.kind
        }
    }

    /// One line about a non-tensor value.
    private func describe(_ v: PickleValue) -> String {
        switch v {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .bigInt(let s): return s
        case .float(let f): return String(f)
        case .string(let s): return s.count > 200 ? String(s.prefix(200)) + "..." : s
        case .bytes(let b): return "bytes (\(b.count))"
        case .tuple(let c), .list(let c), .set(let c): return "\(v.kind) of \(c.items.count)"
        case .dict(let d): return "dict of \(d.entries.count)"
        case .global(let m, let n): return "\(m).\(n) (a name, not loaded)"
        case .object(let o): return "\(o.type) (not loaded)"
        case .external: return "tensor"
        }
    }
}
