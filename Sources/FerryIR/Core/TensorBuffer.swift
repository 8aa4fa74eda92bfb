#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One contiguous block of tensor bytes: 64-byte aligned memory Ferry owns, memory adopted from a
/// decoder, or a read-only view of a mapped file region.
public final class TensorBuffer: @unchecked Sendable {
    /// Alignment of every buffer Ferry allocates.
    public static let alignment = 64

    /// First byte (never nil; an empty buffer points at a static aligned block).
    public let baseAddress: UnsafeMutableRawPointer
    /// Size in bytes.
    public let count: Int
    /// False for views of mapped files, which must be copied before writing.
    public let isWritable: Bool
    private let release: Release

    private enum Release {
        case free
        case none
        case keepAlive(AnyObject)
        case recycle(@Sendable (UnsafeMutableRawPointer, Int) -> Void)
    }

    /// Allocates `count` zeroed bytes.
    public init(zeroed count: Int) {
        self.count = count
        self.baseAddress = TensorBuffer.allocate(count)
        memset(baseAddress, 0, count)
        isWritable = true
        release = count == 0 ? .none : .free
    }

    /// Allocates `count` bytes and lets `fill` write every one of them (no zero-filling first).
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        self.count = count
        baseAddress = TensorBuffer.allocate(count)
        isWritable = true
        release = count == 0 ? .none : .free
        try fill(UnsafeMutableRawBufferPointer(start: baseAddress, count: count))
    }

    /// Allocates a buffer holding a copy of `bytes`.
    public init(copying bytes: UnsafeRawBufferPointer) {
        count = bytes.count
        baseAddress = TensorBuffer.allocate(count)
        if count > 0 { memcpy(baseAddress, bytes.baseAddress!, count) }
        isWritable = true
        release = count == 0 ? .none : .free
    }

    /// Takes ownership of `pointer`, which must come from `malloc`/`posix_memalign` and is freed
    /// with `free` when the buffer goes away.
    public init(adoptingMallocBlock pointer: UnsafeMutableRawPointer, count: Int) {
        self.baseAddress = pointer
        self.count = count
        isWritable = true
        release = .free
    }

    /// Writable memory lent by an allocator that takes it back: `recycle(baseAddress, capacity)` runs
    /// when the buffer goes away. `count` may be smaller than the block's `capacity`.
    public init(
        lending pointer: UnsafeMutableRawPointer, count: Int, capacity: Int,
        recycle: @escaping @Sendable (UnsafeMutableRawPointer, Int) -> Void
    ) {
        precondition(count <= capacity, "lent block is smaller than the buffer")
        baseAddress = pointer
        self.count = count
        isWritable = true
        release = .recycle({ p, _ in recycle(p, capacity) })
    }

    /// A read-only view of `count` bytes of `file` at `offset`, without copying.
    public init(viewing file: MappedFile, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= file.count, "view outside the mapped file")
        if count == 0 {
            baseAddress = TensorBuffer.emptyBlock
            release = .none
        } else {
            baseAddress = UnsafeMutableRawPointer(mutating: file.baseAddress! + offset)
            release = .keepAlive(file)
        }
        self.count = count
        isWritable = false
    }

    /// A read-only view of `count` bytes of `buffer` at `offset`, without copying; it keeps `buffer` alive.
    public init(viewing buffer: TensorBuffer, offset: Int, count: Int) {
        precondition(
            offset >= 0 && count >= 0 && offset <= buffer.count && count <= buffer.count - offset, "view outside the buffer")
        baseAddress = count == 0 ? TensorBuffer.emptyBlock : buffer.baseAddress + offset
        release = count == 0 ? .none : .keepAlive(buffer)
        self.count = count
        isWritable = false
    }

    /// The bytes, read-only.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: baseAddress, count: count) }

    /// True when the start address is a multiple of `alignment`.
    public func isAligned(to alignment: Int) -> Bool { Int(bitPattern: baseAddress) % alignment == 0 }

    deinit {
        switch release {
        case .free: free(baseAddress)
        case .recycle(let give): give(baseAddress, count)
        case .none, .keepAlive: break
        }
    }

    private static let emptyBlock: UnsafeMutableRawPointer = {
        var p: UnsafeMutableRawPointer?
        posix_memalign(&p, alignment, alignment)
        return p!
    }()

    /// Buffers this large are placed on 2 MiB boundaries and marked for transparent huge pages,
    /// which cuts first-touch page faults 512-fold when large tensors are filled.
    public static let hugePageThreshold = 4 << 20

    /// Allocates `count` bytes Ferry's way (64-byte aligned; 2 MiB aligned and huge-page advised
    /// from `hugePageThreshold` up); release them with `free`.
    public static func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        guard let p = tryAllocate(count) else { fatalError("out of memory allocating \(count) bytes") }
        return p
    }

    /// Like `allocate`, but nil when the system has no memory for it.
    public static func tryAllocate(_ count: Int) -> UnsafeMutableRawPointer? {
        if count == 0 { return emptyBlock }
        var p: UnsafeMutableRawPointer?
        let huge = count >= hugePageThreshold
        guard posix_memalign(&p, huge ? 2 << 20 : alignment, count) == 0, let p else { return nil }
        #if os(Linux)
            if huge { _ = madvise(p, count, MADV_HUGEPAGE) }
        #endif
        return p
    }
}

/// Tensor bytes with value semantics: copies share one `TensorBuffer` until one of them writes.
public struct TensorBytes: @unchecked Sendable {
    /// The shared storage (read it freely; write only through `withUnsafeMutableBytes`).
    public private(set) var buffer: TensorBuffer

    public init(_ buffer: TensorBuffer) { self.buffer = buffer }

    /// Zero-filled bytes.
    public init(zeroed count: Int) { buffer = TensorBuffer(zeroed: count) }

    /// A copy of `bytes`.
    public init(copying bytes: UnsafeRawBufferPointer) { buffer = TensorBuffer(copying: bytes) }

    /// `count` bytes that `fill` writes in full (the memory is not zeroed first).
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        buffer = try TensorBuffer(count: count, fill: fill)
    }

    /// A copy of an array's elements.
    public init<T>(copying values: [T]) {
        buffer = values.withUnsafeBytes { TensorBuffer(copying: $0) }
    }

    public var count: Int { buffer.count }

    /// Reads the bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(buffer.bytes)
    }

    /// Reads the bytes as elements of `T`. The buffer must hold a whole number of `T`s at a
    /// suitably aligned address (always true for buffers Ferry allocates).
    public func withUnsafeBufferPointer<T, R>(as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        precondition(buffer.count % MemoryLayout<T>.stride == 0, "byte count is not a multiple of the element size")
        precondition(buffer.isAligned(to: MemoryLayout<T>.alignment), "tensor bytes are not aligned for the element type")
        let typed = buffer.baseAddress.bindMemory(to: T.self, capacity: buffer.count / MemoryLayout<T>.stride)
        return try body(UnsafeBufferPointer(start: typed, count: buffer.count / MemoryLayout<T>.stride))
    }

    /// Writes the bytes, first copying them if they are shared or read-only (copy-on-write).
    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&buffer) || !buffer.isWritable {
            buffer = TensorBuffer(copying: buffer.bytes)
        }
        return try body(UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: buffer.count))
    }

    /// Writes the bytes as elements of `T` (copy-on-write, like `withUnsafeMutableBytes`).
    public mutating func withUnsafeMutableBufferPointer<T, R>(
        as type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R
    ) rethrows -> R {
        try withUnsafeMutableBytes { raw in
            precondition(raw.count % MemoryLayout<T>.stride == 0, "byte count is not a multiple of the element size")
            return try body(raw.bindMemory(to: T.self))
        }
    }

    /// The elements as an array of `T`.
    public func toArray<T>(of type: T.Type) -> [T] {
        withUnsafeBufferPointer(as: T.self) { Array($0) }
    }
}

extension TensorBytes: Equatable {
    /// Byte-wise equality.
    public static func == (a: TensorBytes, b: TensorBytes) -> Bool {
        a.count == b.count && (a.buffer === b.buffer || memcmp(a.buffer.baseAddress, b.buffer.baseAddress, a.count) == 0)
    }
}
