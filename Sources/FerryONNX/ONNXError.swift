import FerryIR

/// Errors reading or writing ONNX files. Every case names the file and the part at fault, and its
/// description is a single line.
public enum ONNXError: Error, CustomStringConvertible {
    /// The file has no bytes at all.
    case emptyFile(file: String)
    /// The bytes are not a well-formed protobuf encoding of a model; `part` is the field path.
    case malformed(file: String, part: String, reason: String)
    /// A tensor's data disagrees with its element type or shape.
    case invalidTensor(file: String, tensor: String, reason: String)
    /// A type code ONNX does not define.
    case unknownElementType(file: String, part: String, code: Int32)
    /// A value (attribute type, data location, ...) outside the set ONNX defines.
    case invalidField(file: String, part: String, reason: String)
    /// A tensor's external data was refused or could not be read.
    case externalData(file: String, tensor: String, location: String, reason: String)
    /// The model decodes but is inconsistent (undefined values, duplicate outputs, cycles).
    case invalidModel(file: String, error: IRError)
    /// The model cannot be written as asked.
    case unwritable(file: String, part: String, reason: String)
    /// The model is over protobuf's 2 GiB limit without external data.
    case tooLargeForOneFile(file: String, bytes: Int)
    /// A file system operation failed.
    case io(FileError)

    public var description: String {
        switch self {
        case .emptyFile(let f):
            return "\(f): empty file, not an ONNX model"
        case .malformed(let f, let part, let reason):
            return "\(f): \(part): \(reason)"
        case .invalidTensor(let f, let t, let reason):
            return "\(f): tensor '\(t)': \(reason)"
        case .unknownElementType(let f, let part, let code):
            return "\(f): \(part): unknown element type \(code)"
        case .invalidField(let f, let part, let reason):
            return "\(f): \(part): \(reason)"
        case .externalData(let f, let t, let loc, let reason):
            return "\(f): tensor '\(t)': external data '\(loc)': \(reason)"
        case .invalidModel(let f, let e):
            return "\(f): \(e.description)"
        case .unwritable(let f, let part, let reason):
            return "\(f): \(part): \(reason)"
        case .tooLargeForOneFile(let f, let bytes):
            return "\(f): model: \(bytes) bytes without external data is over protobuf's 2 GiB limit"
        case .io(let e):
            return e.description
        }
    }
}

extension ONNXError: Remediable {
    public var remedy: Remedy? {
        switch self {
        case .tooLargeForOneFile: return .useExternalData
        case .io(let e): return e.remedy
        default: return nil
        }
    }
}
