#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An output file written under a temporary name in the destination folder and put in place by
/// `commit()`; dropped without commit, the temporary file is removed and the destination untouched.
public final class AtomicFile {
    /// The final path.
    public let path: String
    /// The temporary path being written.
    public let temporaryPath: String
    /// Descriptor of the temporary file, open for writing.
    public let fd: Int32
    private let replace: Bool
    private var finished = false

    /// Creates the temporary file next to `path`. With `replace` false, `commit()` refuses to
    /// replace an existing file; with `replace` true, it replaces a regular file (never following
    /// a symbolic link at `path`: the link itself is replaced).
    public init(path: String, replace: Bool) throws {
        self.path = path
        self.replace = replace
        let (dir, base) = splitPath(path)
        var template = Array("\(dir)/.\(base).ferry-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            if errno == ENOENT { throw FileError.missingFolder(path: path, folder: dir) }
            throw FileError.system(path: path, operation: "create a temporary file next to", errno: errno)
        }
        self.fd = fd
        self.temporaryPath = String(cString: template)
        if !replace, fileExists(path) {
            close(fd)
            unlink(temporaryPath)
            finished = true
            throw FileError.outputExists(path: path)
        }
    }

    /// Writes all of `bytes` at the current position.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.system(path: path, operation: "write", errno: errno)
            }
            done += n
        }
    }

    /// Moves the file into place. The rename makes the switch atomic: readers see the old file or
    /// the whole new one, never a partial write. (Like onnx.save, h5py and cp, Ferry does not
    /// fsync; durability across power loss is left to the file system.)
    public func commit() throws {
        precondition(!finished, "AtomicFile committed twice")
        finished = true
        defer { close(fd) }
        fchmod(fd, 0o644 & ~currentUmask())
        if replace {
            if let kind = lstatKind(path), kind != S_IFREG, kind != S_IFLNK {
                unlink(temporaryPath)
                throw FileError.notRegularFile(path: path)
            }
            guard rename(temporaryPath, path) == 0 else {
                let e = errno
                unlink(temporaryPath)
                throw FileError.system(path: path, operation: "rename", errno: e)
            }
        } else {
            // link() fails if `path` exists, so a file that appeared meanwhile is never replaced.
            guard link(temporaryPath, path) == 0 else {
                let e = errno
                unlink(temporaryPath)
                if e == EEXIST { throw FileError.outputExists(path: path) }
                throw FileError.system(path: path, operation: "create", errno: e)
            }
            unlink(temporaryPath)
        }
    }

    deinit {
        if !finished {
            close(fd)
            unlink(temporaryPath)
        }
    }
}

/// True when something (a file, folder or link, even a dangling one) exists at `path`.
public func fileExists(_ path: String) -> Bool { lstatKind(path) != nil }

/// The `S_IFMT` bits of `path` without following a final symbolic link, or nil if absent.
public func lstatKind(_ path: String) -> mode_t? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return st.st_mode & S_IFMT
}

/// The size in bytes of the file at `path` (following links), nil when it cannot be read.
public func fileSize(_ path: String) -> Int? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return Int(st.st_size)
}

/// Device and inode of the file at `path` (following links), to tell whether two paths are the same file.
public func fileIdentity(_ path: String) -> FileIdentity? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
}

/// Device and inode of an open file.
public func fileIdentity(fd: Int32) -> FileIdentity? {
    var st = stat()
    guard fstat(fd, &st) == 0 else { return nil }
    return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
}

/// A file's device and inode numbers.
public struct FileIdentity: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64
}

/// Splits a path into its folder ("." when none) and last component.
public func splitPath(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let dir = String(path[..<slash])
    return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
}

#if canImport(Glibc)
    private let systemWrite = Glibc.write
#else
    private let systemWrite = Darwin.write
#endif

private func currentUmask() -> mode_t {
    let old = umask(0o022)
    umask(old)
    return old
}
