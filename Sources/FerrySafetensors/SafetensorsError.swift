import FerryIR

/// Errors reading or writing safetensors files; each names the file and the part at fault.
public enum SafetensorsError: Error, CustomStringConvertible {
    /// The header or the layout of the data is invalid; `part` names the tensor or header field.
    case malformed(file: String, part: String, reason: String)
    /// A tensor of a type safetensors cannot store.
    case unsupportedType(file: String, tensor: String, type: String)
    /// A file system error.
    case io(FileError)

    public var description: String {
        switch self {
        case .malformed(let f, let part, let reason): return "\(f): \(part): \(reason)"
        case .unsupportedType(let f, let t, let type): return "\(f): tensor '\(t)': safetensors cannot store \(type)"
        case .io(let e): return e.description
        }
    }
}

extension SafetensorsError: Remediable {
    public var remedy: Remedy? {
        if case .io(let e) = self { return e.remedy }
        return nil
    }
}
