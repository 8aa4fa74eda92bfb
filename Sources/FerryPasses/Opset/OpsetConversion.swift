import FerryIR

/// Converts a model to another version of the default ONNX opset (`ferry edit --opset N`), as the
/// onnx package's version converter does: each op whose form or meaning changed between the two
/// versions is rewritten by the rule for that change (`OpsetChanges`); an op that does not exist at
/// the target, or a change no rule can express (an attribute value the older opset lacks), is
/// refused with the node named; changes of element types only need nothing. Nested graphs are
/// converted too; other domains are left alone.
public struct OpsetConversion: Sendable {
    /// The oldest opset a model may come from.
    public static let oldestSource: Int64 = 7
    /// The oldest opset a model may be converted to.
    public static let oldestTarget: Int64 = 11
    /// The newest opset a model may be converted to (the newest the operator schemas describe).
    public static var newest: Int64 { OpsetHistory.newest }

    public let target: Int64

    public init(target: Int64) { self.target = target }

    /// What a conversion did.
    public struct Report: Sendable, Equatable {
        public var from: Int64
        public var to: Int64
        /// Nodes rewritten, by op type (before the conversion); nodes that needed nothing are not counted.
        public var rewritten: [String: Int] = [:]
        /// IR version before and after, when it changed.
        public var irVersion: (from: Int64, to: Int64)?

        public static func == (a: Report, b: Report) -> Bool {
            a.from == b.from && a.to == b.to && a.rewritten == b.rewritten && a.irVersion?.from == b.irVersion?.from
                && a.irVersion?.to == b.irVersion?.to
        }
    }

    /// Converts `model` in place; on a refusal the model is left as it was.
    @discardableResult
    public func apply(to model: inout Model) throws -> Report {
        let from = model.defaultOpset
        var report = Report(from: from, to: target)
        guard target != from else { return report }
        guard (Self.oldestTarget...Self.newest).contains(target) else {
            throw PassError.invalidOption(
                option: "opset",
                reason: "\(target) is outside \(Self.oldestTarget)...\(Self.newest), the opsets Ferry converts to")
        }
        guard from >= Self.oldestSource else {
            throw PassError.unsupported(
                subject: "model", reason: "opset \(from) is older than \(Self.oldestSource), the oldest Ferry converts")
        }
        guard from <= Self.newest else {
            throw PassError.unsupported(
                subject: "model", reason: "opset \(from) is newer than \(Self.newest), the newest Ferry knows")
        }
        guard model.functions.isEmpty else {
            throw PassError.unsupported(
                subject: "function '\(model.functions[0].name)'", reason: "models with local functions are not converted")
        }
        var converted = model
        let rewriter = OpsetRewriter(model: model, from: from, to: target)
        try rewriter.convert(&converted.graph, outer: [:], isMain: true)
        rewriter.removeConsumedConstants(&converted.graph)
        converted.opsetImports = converted.opsetImports.map {
            Domain.isONNX($0.domain) ? OpsetID(domain: $0.domain, version: target) : $0
        }
        if !converted.opsetImports.contains(where: { Domain.isONNX($0.domain) }) {
            converted.opsetImports.insert(OpsetID(domain: "", version: target), at: 0)
        }
        let ir = Self.irVersion(for: converted, opset: target, upgrading: target > from)
        if ir != converted.irVersion {
            report.irVersion = (converted.irVersion ?? 0, ir)
            converted.irVersion = ir
        }
        GraphCleanup.declareInitializerInputs(&converted.graph, irVersion: converted.irVersion)
        report.rewritten = rewriter.rewritten
        model = converted
        return report
    }

    /// The IR version released with `opset` (onnx's version table).
    static func releasedIRVersion(_ opset: Int64) -> Int64 {
        switch opset {
        case ...8: return 3
        case 9: return 4
        case 10: return 5
        case 11: return 6
        case 12...14: return 7
        case 15...18: return 8
        case 19...20: return 9
        case 21...22: return 10
        case 23: return 11
        case 24: return 12
        case 25...27: return 13
        default: return 14
        }
    }

    /// The IR version a converted model declares: raised to the target's when upgrading; when
    /// downgrading the target's (for older runtimes), unless the model's element types need a newer one.
    private static func irVersion(for model: Model, opset: Int64, upgrading: Bool) -> Int64 {
        let released = releasedIRVersion(opset)
        if upgrading { return max(model.irVersion ?? released, released) }
        var needed: Int64 = 4
        model.forEachTensor { needed = max(needed, elementTypeIRVersion($0.elementType)) }
        for v in model.graph.inputs + model.graph.outputs + model.graph.valueInfo {
            if case .tensor(let type, _)? = v.type?.type { needed = max(needed, elementTypeIRVersion(type)) }
        }
        return max(released, min(needed, model.irVersion ?? needed))
    }

    /// The first IR version with `type`.
    private static func elementTypeIRVersion(_ type: ElementType) -> Int64 {
        switch type {
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz: return 9
        case .uint4, .int4: return 10
        case .float4e2m1: return 11
        case .float8e8m0: return 12
        case .uint2, .int2, .float6e2m3, .float6e3m2: return 13
        default: return 3
        }
    }
}
