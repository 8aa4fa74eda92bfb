import FerryIR

/// Errors of the interpreter. Each names the input, node and op at fault.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    /// Planning found ops or attribute values the interpreter cannot run; every one is listed.
    case unsupported([String])
    /// A node's attributes, constant inputs or wiring are invalid (found while planning).
    case invalidNode(node: String, op: String, reason: String)
    /// A node failed while running (wrong shapes, types or values reaching it).
    case nodeFailed(node: String, op: String, reason: String)
    /// The caller passed a value for a name that is not a model input.
    case unknownInput(name: String, expected: [String])
    /// A model input was not given and has no initializer to fall back on.
    case missingInput(name: String, expected: String)
    /// An input's element type differs from the model's declaration.
    case inputType(name: String, expected: String, got: String)
    /// An input's shape does not fit the model's declaration.
    case inputShape(name: String, expected: String, got: [Int])
    /// The model itself cannot be run (no graph, values read before they are written...).
    case invalidModel(reason: String)

    public var description: String {
        switch self {
        case .unsupported(let items):
            return "cannot run the model: " + items.joined(separator: "; ")
        case .invalidNode(let node, let op, let reason):
            return "node '\(node)' (\(op)): \(reason)"
        case .nodeFailed(let node, let op, let reason):
            return "node '\(node)' (\(op)) failed: \(reason)"
        case .unknownInput(let name, let expected):
            return "input '\(name)' is not an input of the model (inputs: \(expected.joined(separator: ", ")))"
        case .missingInput(let name, let expected):
            return "input '\(name)' (\(expected)) is required"
        case .inputType(let name, let expected, let got):
            return "input '\(name)' is \(got), the model expects \(expected)"
        case .inputShape(let name, let expected, let got):
            return "input '\(name)' has shape \(got), the model expects \(expected)"
        case .invalidModel(let reason):
            return "cannot run the model: \(reason)"
        }
    }
}

/// What a kernel throws; the executor adds the node and op (see `RuntimeError`).
struct KernelError: Error {
    let reason: String
    /// True when the op or attribute value is valid ONNX the interpreter does not implement.
    let unsupported: Bool

    static func invalid(_ reason: String) -> KernelError { KernelError(reason: reason, unsupported: false) }
    static func unsupported(_ reason: String) -> KernelError { KernelError(reason: reason, unsupported: true) }
}
