/// Writes a zip archive of stored (uncompressed) members into an `AtomicFile`, with ZIP64 records
/// where a size or offset needs them: PyTorch checkpoints and NumPy `.npz` archives.
public struct ZipWriter {
    private let out: AtomicFile
    private var offset = 0
    private var directory: [UInt8] = []
    private var count = 0

    public init(_ out: AtomicFile) { self.out = out }

    /// A stored member holding `bytes`.
    public mutating func add(_ name: String, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try add(name, [$0], alignment: 1) }
    }

    /// A stored member holding `parts` one after another, its data starting at a multiple of
    /// `alignment` in the file (padding goes in the local header's extra field, as torch pads).
    public mutating func add(_ name: String, _ parts: [UnsafeRawBufferPointer], alignment: Int) throws {
        let n = Array(name.utf8), size = parts.reduce(0) { $0 + $1.count }
        var checksum: UInt32 = 0
        for p in parts { checksum = CRC32.checksum(p, continuing: checksum) }
        let crc = Int(checksum)
        let wide = size >= 0xFFFF_FFFF || offset >= 0xFFFF_FFFF
        var extra: [UInt8] = wide ? le(1, 2) + le(16, 2) + le(size, 8) + le(size, 8) : []
        let unpadded = offset + 30 + n.count + extra.count
        if alignment > 1 && unpadded % alignment != 0 {
            var pad = alignment - unpadded % alignment
            if pad < 4 { pad += alignment }
            extra += le(0x4246, 2) + le(pad - 4, 2) + [UInt8](repeating: 0, count: pad - 4)
        }
        let small = wide ? 0xFFFF_FFFF : size
        let header =
            le(0x0403_4b50, 4) + le(wide ? 45 : 20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(small, 4)
            + le(small, 4) + le(n.count, 2) + le(extra.count, 2) + n + extra
        try header.withUnsafeBytes { try out.write($0) }
        for p in parts { try out.write(p) }
        let central: [UInt8] = wide ? le(1, 2) + le(24, 2) + le(size, 8) + le(size, 8) + le(offset, 8) : []
        directory +=
            le(0x0201_4b50, 4) + le(wide ? 45 : 20, 2) + le(wide ? 45 : 20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4)
            + le(small, 4) + le(small, 4) + le(n.count, 2) + le(central.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4)
            + le(wide ? 0xFFFF_FFFF : offset, 4) + n + central
        offset += header.count + size
        count += 1
    }

    /// The central directory and its end records.
    public mutating func finish() throws {
        let start = offset, wide = start >= 0xFFFF_FFFF || directory.count >= 0xFFFF_FFFF || count >= 0xFFFF
        var tail: [UInt8] = []
        if wide {
            let record = start + directory.count
            tail +=
                le(0x0606_4b50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4) + le(count, 8) + le(count, 8)
                + le(directory.count, 8) + le(start, 8)
            tail += le(0x0706_4b50, 4) + le(0, 4) + le(record, 8) + le(1, 4)
        }
        tail +=
            le(0x0605_4b50, 4) + le(0, 2) + le(0, 2) + le(min(count, 0xFFFF), 2) + le(min(count, 0xFFFF), 2)
            + le(min(directory.count, 0xFFFF_FFFF), 4) + le(min(start, 0xFFFF_FFFF), 4) + le(0, 2)
        try (directory + tail).withUnsafeBytes { try out.write($0) }
    }

    private func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}
