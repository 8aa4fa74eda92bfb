import FerryIR

/// Errors reading PyTorch checkpoints; each names the file and the part at fault in one line.
public enum TorchError: Error, CustomStringConvertible {
    /// The archive or the pickle is damaged or not what torch writes; `part` names the member,
    /// opcode position or tensor.
    case malformed(file: String, part: String, reason: String)
    /// Well formed, but beyond what Ferry reads or allows (limits, unsupported tensors).
    case refused(file: String, part: String, reason: String)
    /// A file system error.
    case io(FileError)

    public var description: String {
        switch self {
        case .malformed(let f, let part, let reason): return "\(f): \(part): \(reason)"
        case .refused(let f, let part, let reason): return "\(f): \(part): \(reason)"
        case .io(let e): return e.description
        }
    }
}

extension TorchError: Remediable {
    public var remedy: Remedy? {
        if case .io(let e) = self { return e.remedy }
        return nil
    }
}
