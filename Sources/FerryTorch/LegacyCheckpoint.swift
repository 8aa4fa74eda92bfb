import FerryIR

/// torch.save's format before 1.6 (still written with `_use_new_zipfile_serialization=False`):
/// five pickles in a row (the magic number, the protocol version 1001, system information, the
/// checkpoint with storages as persistent ids, the sorted storage keys), then each storage in key
/// order as an int64 element count and its bytes.
enum LegacyCheckpoint {
    /// The magic number 0x1950a86a20f9469cfc6c as LONG1 (after PROTO) and STOP.
    private static let magic: [UInt8] = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]

    static func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 + magic.count && bytes[0] == 0x80 && Array(bytes[2..<(2 + magic.count)]) == magic
    }

    static func read(_ file: MappedFile, path: String, key: String?) throws -> TorchCheckpoint {
        let bytes = file.bytes
        var position = 2 + magic.count
        /// The next pickle of the file (its storages refused: only the checkpoint has any).
        func next(
            _ part: String,
            storage: @escaping (String, ElementType, Int) throws -> TensorBuffer = { key, _, _ in
                throw RebuildError(reason: "storage '\(key)' outside the checkpoint's pickle")
            }
        ) throws -> (root: PickleValue, machine: PickleMachine, storages: [String: TorchStorage]) {
            let result = try TorchCheckpoint.unpickle(
                UnsafeRawBufferPointer(rebasing: bytes[position...]), part: "\(part) pickle (at byte \(position))", path: path,
                storage: storage)
            position += result.machine.consumed
            return result
        }
        let version = try next("protocol version")
        defer { version.machine.arena.tearDown() }
        guard case .int(1001) = version.root else {
            throw TorchError.refused(file: path, part: "protocol version", reason: "\(version.root.kind), not 1001")
        }
        let info = try next("system information")
        defer { info.machine.arena.tearDown() }
        if case .dict(let d) = info.root, case .bool(false)? = d["little_endian"] {
            throw TorchError.refused(file: path, part: "system information", reason: "big-endian data; Ferry reads little-endian")
        }
        // Storages are placed after the pickles: each gets its bytes once the keys are read.
        let checkpoint = try next("checkpoint") { _, _, _ in TensorBuffer(zeroed: 0) }
        defer { checkpoint.machine.arena.tearDown() }
        let keys = try next("storage keys")
        defer { keys.machine.arena.tearDown() }
        guard case .list(let list) = keys.root else {
            throw TorchError.malformed(file: path, part: "storage keys", reason: "a \(keys.root.kind), not a list")
        }
        for item in list.items {
            guard case .string(let k) = item else {
                throw TorchError.malformed(file: path, part: "storage keys", reason: "a key is a \(item.kind)")
            }
            let part = "storage '\(k)' (at byte \(position))"
            guard position <= bytes.count - 8 else { throw TorchError.malformed(file: path, part: part, reason: "cut short") }
            var count: UInt64 = 0
            for b in 0..<8 { count |= UInt64(bytes[position + b]) << (8 * b) }
            position += 8
            guard let storage = checkpoint.storages[k] else {
                throw TorchError.malformed(file: path, part: part, reason: "the checkpoint never names it")
            }
            let width = storage.elementType.bitWidth / 8
            guard count == UInt64(storage.elementCount), count <= UInt64((bytes.count - position) / width) else {
                throw TorchError.malformed(
                    file: path, part: part,
                    reason: "\(count) elements stored, \(storage.elementCount) named, \(bytes.count - position) bytes left")
            }
            storage.bytes = TensorBuffer(viewing: file, offset: position, count: Int(count) * width)
            position += Int(count) * width
        }
        if let missing = checkpoint.storages.values.first(where: {
            $0.bytes.count != $0.elementCount * ($0.elementType.bitWidth / 8)
        }) {
            throw TorchError.malformed(
                file: path, part: "storage '\(missing.key)'", reason: "named by the checkpoint but not stored")
        }
        return try TensorCollector(file: path).collect(checkpoint.root, key: key)
    }
}
