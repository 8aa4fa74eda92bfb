import FerryIR

/// Errors from HDF5 files. Each names the file and the object path at fault in one line.
public enum HDF5Error: Error, CustomStringConvertible {
    /// libhdf5 refused an operation; `detail` is the innermost messages of its error stack.
    case library(file: String, object: String, operation: String, detail: String)
    /// The object pulls data from outside the file (external link, external raw storage or a
    /// virtual dataset), which Ferry follows only when asked to.
    case refusedExternal(file: String, object: String, kind: String)
    /// A dataset or attribute of a type Ferry does not map to a tensor.
    case unsupportedType(file: String, object: String, type: String)
    /// The file is not an HDF5 file at all.
    case notHDF5(file: String)
    /// Something expected is missing or malformed.
    case invalid(file: String, object: String, reason: String)
    /// A file system error.
    case io(FileError)
    /// libhdf5 faulted, hung or ran out of its limits reading the file in the reader helper
    /// process; `reason` says which (e.g. "crashed (signal 11)", "timed out after 120 s").
    case readerFailed(file: String, reason: String)
    /// The reader helper could not be started or answered nonsense.
    case readerUnavailable(file: String, reason: String)

    public var description: String {
        switch self {
        case .library(let f, let o, let op, let d):
            return "\(f): \(o): \(op) failed\(d.isEmpty ? "" : ": " + d)"
        case .refusedExternal(let f, let o, let kind):
            return "\(f): \(o): refusing \(kind), which reads data from outside this file"
        case .unsupportedType(let f, let o, let t):
            return "\(f): \(o): unsupported HDF5 type (\(t))"
        case .notHDF5(let f):
            return "\(f): not an HDF5 file"
        case .invalid(let f, let o, let reason):
            return "\(f): \(o): \(reason)"
        case .io(let e):
            return e.description
        case .readerFailed(let f, let reason):
            return "\(f): libhdf5 \(reason) reading it (in the reader helper process): the file is damaged or hostile"
        case .readerUnavailable(let f, let reason):
            return "\(f): cannot read it in the HDF5 reader helper process: \(reason)"
        }
    }
}

extension HDF5Error: Remediable {
    public var remedy: Remedy? {
        switch self {
        case .refusedExternal: return .allowExternalData
        case .io(let e): return e.remedy
        default: return nil
        }
    }
}
