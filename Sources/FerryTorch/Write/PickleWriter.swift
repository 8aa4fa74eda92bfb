/// The pickle opcodes the writer needs (protocol 2).
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 0x02]

    mutating func global(_ module: String, _ name: String) {
        bytes.append(UInt8(ascii: "c"))
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        bytes.append(UInt8(ascii: "X"))
        bytes += (0..<4).map { UInt8((u.count >> (8 * $0)) & 0xFF) } + u
    }

    mutating func int(_ v: Int) {
        if v >= 0 && v < 256 {
            bytes += [UInt8(ascii: "K"), UInt8(v)]
        } else if v >= Int(Int32.min) && v <= Int(Int32.max) {
            bytes.append(UInt8(ascii: "J"))
            bytes += (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) }
        } else {
            bytes += [0x8a, 8] + (0..<8).map { UInt8((v >> (8 * $0)) & 0xFF) }
        }
    }

    mutating func tuple(_ items: [Int]) {
        bytes.append(UInt8(ascii: "("))
        for i in items { int(i) }
        bytes.append(UInt8(ascii: "t"))
    }

    /// An OrderedDict of `entries` (each value written by its closure), then STOP.
    mutating func dictionary(of entries: [(String, (inout PickleWriter) -> Void)]) {
        global("collections", "OrderedDict")
        bytes += [UInt8(ascii: ")"), UInt8(ascii: "R"), UInt8(ascii: "(")]
        for (name, value) in entries {
            string(name)
            value(&self)
        }
        bytes += [UInt8(ascii: "u"), UInt8(ascii: ".")]
    }

    /// `_rebuild_tensor_v2(storage, 0, shape, row-major strides, False, OrderedDict())`.
    mutating func tensor(storageType: String, key: Int, count: Int, shape: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        bytes.append(UInt8(ascii: "("))
        bytes.append(UInt8(ascii: "("))
        string("storage")
        global("torch", storageType)
        string(String(key))
        string("cpu")
        int(count)
        bytes += [UInt8(ascii: "t"), UInt8(ascii: "Q")]
        int(0)
        tuple(shape)
        var strides = [Int](repeating: 1, count: shape.count)
        for d in shape.indices.dropLast().reversed() { strides[d] = strides[d + 1] * max(shape[d + 1], 1) }
        tuple(strides)
        bytes.append(0x89)
        global("collections", "OrderedDict")
        bytes += [UInt8(ascii: ")"), UInt8(ascii: "R"), UInt8(ascii: "t"), UInt8(ascii: "R")]
    }
}
