/// Errors of the optimization, quantization and pruning passes; each names the model part at fault.
public enum PassError: Error, Equatable, CustomStringConvertible {
    /// The model cannot be transformed as asked: `subject` names the node, tensor or input at fault.
    case unsupported(subject: String, reason: String)
    /// An option does not fit this model (an excluded node that does not exist, a sparsity of 1.5, ...).
    case invalidOption(option: String, reason: String)
    /// Calibration data is missing, unreadable or does not match the model's inputs.
    case calibration(file: String, reason: String)

    public var description: String {
        switch self {
        case .unsupported(let subject, let reason): return "\(subject): \(reason)"
        case .invalidOption(let option, let reason): return "\(option): \(reason)"
        case .calibration(let file, let reason): return "calibration sample \(file): \(reason)"
        }
    }
}
