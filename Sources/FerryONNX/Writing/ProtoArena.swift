import CProtobufONNX
import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Owns the C memory of the messages built for one write and keeps the tensor buffers they point
/// into alive until packing is done. Tensor payloads are referenced, never copied.
final class ProtoArena {
    private var blocks: [UnsafeMutableRawPointer] = []
    private var retained: [TensorBuffer] = []

    deinit {
        for b in blocks { free(b) }
    }

    private func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        guard let p = calloc(1, max(bytes, 1)) else { fatalError("out of memory") }
        blocks.append(p)
        return p
    }

    /// A new message: initialised by its protobuf-c `__init` function, then filled in by `fill`.
    func message<T>(
        _ initialize: (UnsafeMutablePointer<T>?) -> Void, _ fill: (UnsafeMutablePointer<T>) -> Void = { _ in }
    ) -> UnsafeMutablePointer<T> {
        let p = allocate(MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: 1)
        initialize(p)
        fill(p)
        return p
    }

    /// A C array holding `values` (nil when empty, as protobuf-c expects for empty repeated fields).
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let p = allocate(MemoryLayout<T>.stride * values.count).bindMemory(to: T.self, capacity: values.count)
        p.initialize(from: values, count: values.count)
        return p
    }

    /// An array of message pointers (for repeated message fields).
    func pointers<T>(_ values: [UnsafeMutablePointer<T>]) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?>? {
        array(values.map { Optional($0) })
    }

    /// A NUL-terminated copy of `s`.
    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(s.utf8)
        let p = allocate(utf8.count + 1).bindMemory(to: CChar.self, capacity: utf8.count + 1)
        utf8.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { memcpy(p, base, utf8.count) }
        }
        p[utf8.count] = 0
        return p
    }

    /// `s` as an optional string field: nil (not written) when empty.
    func optionalString(_ s: String) -> UnsafeMutablePointer<CChar>? {
        s.isEmpty ? nil : string(s)
    }

    /// Repeated string field contents (empty strings are kept).
    func strings(_ values: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        array(values.map { Optional(string($0)) })
    }

    /// A bytes value holding a copy of `bytes`.
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let p = allocate(bytes.count).bindMemory(to: UInt8.self, capacity: bytes.count)
        p.initialize(from: bytes, count: bytes.count)
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }

    /// A bytes value referring to tensor memory, which is kept alive with the arena.
    func binary(referencing bytes: TensorBytes) -> ProtobufCBinaryData {
        retained.append(bytes.buffer)
        return ProtobufCBinaryData(
            len: bytes.count, data: bytes.count == 0 ? nil : bytes.buffer.baseAddress.assumingMemoryBound(to: UInt8.self))
    }
}
