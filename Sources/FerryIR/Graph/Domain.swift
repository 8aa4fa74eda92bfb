/// Operator-set domains as files spell them: ONNX's default domain is "" (also written "ai.onnx");
/// onnxruntime's contrib ops (QGemm, FusedConv, DynamicQuantizeLSTM, ...) are "com.microsoft".
public enum Domain {
    public static let onnx = ""
    public static let microsoft = "com.microsoft"

    /// `domain` with ONNX's default domain written as "".
    public static func canonical(_ domain: String) -> String { isONNX(domain) ? onnx : domain }

    /// True for ONNX's default domain, however written.
    public static func isONNX(_ domain: String) -> Bool { domain.isEmpty || domain == "ai.onnx" }
}

extension Node {
    /// True for a node of ONNX's default domain.
    public var isDefaultDomain: Bool { Domain.isONNX(domain) }

    /// The op type, prefixed with its domain outside ONNX's ("com.microsoft.QGemm").
    public var qualifiedOpType: String { isDefaultDomain ? opType : "\(domain).\(opType)" }
}

extension Model {
    /// The version of ONNX's default domain the model imports (1 when it imports none).
    public var defaultOpset: Int64 { opsetVersion(for: Domain.onnx) ?? 1 }

    /// Adds an import of `domain` at `version` unless the model imports it already.
    public mutating func importDomain(_ domain: String, version: Int64) {
        if opsetVersion(for: domain) == nil { opsetImports.append(OpsetID(domain: domain, version: version)) }
    }
}
