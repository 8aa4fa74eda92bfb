#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Errors from the file helpers shared by every format.
public enum FileError: Error, CustomStringConvertible {
    /// A system call failed on `path`.
    case system(path: String, operation: String, errno: Int32)
    /// `path` is a directory, device or other non-regular file.
    case notRegularFile(path: String)
    /// The output already exists and overwriting was not allowed.
    case outputExists(path: String)
    /// The output would replace one of the inputs.
    case outputIsInput(path: String)
    /// The folder an output goes in does not exist.
    case missingFolder(path: String, folder: String)

    public var description: String {
        switch self {
        case .system(let path, let op, let code):
            return "\(path): \(op) failed: \(String(cString: strerror(code)))"
        case .notRegularFile(let path):
            return "\(path): not a regular file"
        case .outputExists(let path):
            return "\(path): already exists"
        case .outputIsInput(let path):
            return "\(path): refusing to overwrite an input file"
        case .missingFolder(let path, let folder):
            return "\(path): the folder \(folder) does not exist"
        }
    }
}
