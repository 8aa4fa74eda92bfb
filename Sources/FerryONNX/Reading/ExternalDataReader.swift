import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads tensor bytes stored outside the model file, under strict path rules: the location must
/// be a relative path inside the model's folder with no `..`, no symbolic link on the way, a
/// regular file with a single hard link, and the requested range inside the file. Each file is
/// mapped once; 64-byte aligned ranges are viewed without copying.
final class ExternalDataReader {
    let modelPath: String
    let directory: String
    private var mapped: [String: MappedFile] = [:]
    private(set) var filesRead: [String] = []
    /// When set, a data file that does not exist yields zero bytes (memory the system maps only
    /// when touched) and is listed in `missing`, so the model's structure can still be shown.
    let toleratesMissing: Bool
    private(set) var missing: [String] = []

    init(modelPath: String, toleratesMissing: Bool = false) {
        self.modelPath = modelPath
        self.toleratesMissing = toleratesMissing
        directory = splitPath(modelPath).directory
    }

    func read(entries: [KeyValue], tensor: String, byteCount: Int) throws -> TensorBytes {
        var location: String?
        var offset = 0
        var length: Int?
        for e in entries {
            switch e.key {
            case "location": location = e.value
            case "offset": offset = try number(e.value, key: "offset", tensor: tensor, location: location ?? "")
            case "length": length = try number(e.value, key: "length", tensor: tensor, location: location ?? "")
            default: break // "checksum" and unknown keys are ignored
            }
        }
        guard let location, !location.isEmpty else {
            throw ONNXError.externalData(file: modelPath, tensor: tensor, location: "", reason: "no location given")
        }
        func refuse(_ reason: String) -> ONNXError {
            ONNXError.externalData(file: modelPath, tensor: tensor, location: location, reason: reason)
        }
        let file: MappedFile
        do {
            file = try map(location, refuse: refuse)
        } catch MissingFile.missing where toleratesMissing {
            // a location that passed every path rule and is simply not there
            if !missing.contains(location) { missing.append(location) }
            guard let zeros = calloc(max(byteCount, 1), 1) else { throw refuse("cannot stand in \(byteCount) bytes") }
            return TensorBytes(TensorBuffer(adoptingMallocBlock: zeros, count: byteCount))
        } catch MissingFile.missing {
            throw refuse(String(cString: strerror(ENOENT)))
        }
        let length2 = length ?? byteCount
        guard offset <= file.count, length2 <= file.count - offset else {
            throw refuse("offset \(offset) + length \(length2) is past the end of the \(file.count)-byte file")
        }
        guard length2 == byteCount else {
            throw refuse("length \(length2) does not match the \(byteCount) bytes the tensor's shape needs")
        }
        if offset % TensorBuffer.alignment == 0 {
            return TensorBytes(TensorBuffer(viewing: file, offset: offset, count: length2))
        }
        return TensorBytes(copying: UnsafeRawBufferPointer(rebasing: file.bytes[offset..<offset + length2]))
    }

    private func number(_ s: String, key: String, tensor: String, location: String) throws -> Int {
        guard let v = Int(s), v >= 0 else {
            throw ONNXError.externalData(
                file: modelPath, tensor: tensor, location: location, reason: "\(key) '\(s)' is not a non-negative integer")
        }
        return v
    }

    private func map(_ location: String, refuse: (String) -> ONNXError) throws -> MappedFile {
        if let m = mapped[location] { return m }
        if location.hasPrefix("/") || location.hasPrefix("\\") || location.hasPrefix("~") {
            throw refuse("absolute paths are refused")
        }
        if location.count >= 2, location.dropFirst().first == ":" {
            throw refuse("absolute paths are refused")
        }
        if location.contains("..") { throw refuse("paths containing '..' are refused") }
        if location.contains("\\") { throw refuse("backslashes are refused") }
        let components = location.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if components.contains("") { throw refuse("empty path components are refused") }

        // Walk from the model's folder one component at a time, never following a link, so that
        // nothing swapped in meanwhile can lead elsewhere.
        var dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { throw refuse("cannot open the model's folder: \(String(cString: strerror(errno)))") }
        defer { close(dirfd) }
        var walked = directory
        for component in components.dropLast() where component != "." {
            walked += "/" + component
            try requireKind(dirfd, component, S_IFDIR, path: walked, refuse: refuse)
            let next = openat(dirfd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else {
                if errno == ENOENT { throw MissingFile.missing }
                throw refuse("'\(walked)': \(String(cString: strerror(errno)))")
            }
            close(dirfd)
            dirfd = next
        }
        let path = directory + "/" + location
        try requireKind(dirfd, components.last!, S_IFREG, path: path, refuse: refuse)
        let fd = openat(dirfd, components.last!, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw MissingFile.missing }
            throw refuse(String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw refuse("not a regular file") }
        guard st.st_nlink == 1 else { throw refuse("has \(st.st_nlink) hard links (only files with one are read)") }
        if let model = fileIdentity(modelPath), model == fileIdentity(fd: fd) {
            throw refuse("is the model file itself")
        }
        guard let real = resolvedPath(of: fd), let root = realpathString(directory),
            real.hasPrefix(root == "/" ? "/" : root + "/")
        else {
            throw refuse("resolves outside the model's folder")
        }
        let file: MappedFile
        do { file = try MappedFile(fd: fd, path: path) } catch { throw refuse("cannot be mapped") }
        mapped[location] = file
        filesRead.append(path)
        return file
    }

    /// Refuses `name` (in the folder `dirfd`) unless it is of `kind`, without following links.
    private func requireKind(_ dirfd: Int32, _ name: String, _ kind: mode_t, path: String, refuse: (String) -> ONNXError) throws {
        var st = stat()
        guard fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { throw MissingFile.missing }
            throw refuse(String(cString: strerror(errno)))
        }
        let actual = st.st_mode & S_IFMT
        if actual == S_IFLNK { throw refuse("'\(path)' is a symbolic link") }
        if actual != kind { throw refuse("'\(path)' is not a \(kind == S_IFDIR ? "folder" : "regular file")") }
    }
}

private func realpathString(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

/// The path an open descriptor really refers to.
private func resolvedPath(of fd: Int32) -> String? {
    #if os(Linux)
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        buf[n] = 0
        return String(cString: buf)
    #else
        var buf = [CChar](repeating: 0, count: Int(MAXPATHLEN))
        guard fcntl(fd, F_GETPATH, &buf) != -1 else { return nil }
        return String(cString: buf)
    #endif
}

/// A data file (or a folder on its way) that does not exist, after every path rule passed.
private enum MissingFile: Error {
    case missing
}
