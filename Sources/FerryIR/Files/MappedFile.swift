#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole file mapped read-only into memory. Tensors may view regions of it without copying;
/// the mapping lives as long as any such view.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened with (for error messages).
    public let path: String
    /// Start of the mapping; nil for an empty file.
    public let baseAddress: UnsafeRawPointer?
    /// Size of the file in bytes.
    public let count: Int

    /// Maps an already opened descriptor (the caller keeps ownership of `fd`).
    public init(fd: Int32, path: String) throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError.system(path: path, operation: "stat", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError.notRegularFile(path: path) }
        self.path = path
        self.count = Int(st.st_size)
        if count == 0 {
            baseAddress = nil
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw FileError.system(path: path, operation: "mmap", errno: errno) }
        baseAddress = UnsafeRawPointer(p)
    }

    /// Opens and maps `path`.
    public convenience init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.system(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        try self.init(fd: fd, path: path)
    }

    /// The mapped bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: baseAddress, count: count) }

    /// Maps the pages of `range` in one call (Linux's MADV_POPULATE_READ), so reading them later,
    /// e.g. by write(2) copying them to another file, takes no page fault per 4 KiB page.
    public func prefault(_ range: Range<Int>) {
        #if os(Linux)
            guard let base = baseAddress else { return }
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let start = range.lowerBound / page * page
            let end = min(count, (range.upperBound + page - 1) / page * page)
            guard end > start else { return }
            _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, 22 /* MADV_POPULATE_READ */)
        #endif
    }

    /// Tells the kernel the pages of `range` will not be read again, so they leave resident memory.
    public func release(_ range: Range<Int>) {
        guard let base = baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page
        let end = range.upperBound / page * page
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    deinit {
        if let base = baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }
}
