import FerryIR

/// Errors reading Keras models; each names the file and the layer (and class) at fault.
public enum KerasError: Error, CustomStringConvertible {
    /// The model configuration is missing or malformed.
    case invalidConfig(file: String, reason: String)
    /// A layer class Ferry does not convert.
    case unsupportedLayer(file: String, layer: String, className: String)
    /// A layer option Ferry does not convert.
    case unsupportedOption(file: String, layer: String, className: String, option: String)
    /// A layer's weights are missing or do not match its configuration.
    case weights(file: String, layer: String, reason: String)
    /// The graph references something that does not exist.
    case invalidGraph(file: String, reason: String)
    /// The graph has ops that map onto no Keras layer; `problems` lists them.
    case cannotExport(file: String, problems: [String])

    public var description: String {
        switch self {
        case .invalidConfig(let f, let r): return "\(f): model_config: \(r)"
        case .unsupportedLayer(let f, let l, let c): return "\(f): layer '\(l)' (\(c)): unsupported layer class"
        case .unsupportedOption(let f, let l, let c, let o): return "\(f): layer '\(l)' (\(c)): unsupported option \(o)"
        case .weights(let f, let l, let r): return "\(f): layer '\(l)': \(r)"
        case .invalidGraph(let f, let r): return "\(f): \(r)"
        case .cannotExport(let f, let p): return "\(f): cannot write as Keras: \(p.joined(separator: "; "))"
        }
    }
}
