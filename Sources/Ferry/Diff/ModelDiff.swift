import FerryIR
import FerryRuntime

/// Tolerances and limits of a model comparison.
public struct DiffOptions: Sendable {
    /// Values agree when every |a - b| <= atol + rtol * max |a| (a from the first model): relative
    /// to the value's largest magnitude, as rounding differences of reordered sums are, rather
    /// than to each element (a sum that cancels to near 0 keeps the rounding of its terms).
    public var rtol = 1e-4
    public var atol = 1e-5
    /// How many of the tensors furthest over the tolerance the report lists.
    public var worst = 5

    public init() {}
}

/// How two models differ: structure (interface, op counts, initializers, attributes of nodes of
/// the same name) and, when both have a graph, the values of a run on the same inputs.
public struct ModelDiff: Encodable, Sendable {
    /// A graph input or output present in one model only, or typed differently.
    public struct ValueChange: Encodable, Sendable {
        public let name: String
        /// The declared type in each model; nil where the value is absent.
        public let a: String?, b: String?
    }
    /// An op type whose node count differs.
    public struct OpCount: Encodable, Sendable {
        public let op: String
        public let a: Int, b: Int
    }
    /// An initializer of the same name whose type, shape or values differ.
    public struct InitializerChange: Encodable, Sendable {
        public let name: String
        public let a: String, b: String
        /// The largest elementwise difference when the types are numeric and the shapes agree.
        public let maxAbsDifference: Double?
    }
    /// An attribute that differs between two nodes of the same name and op type.
    public struct AttributeChange: Encodable, Sendable {
        public let node: String, op: String, attribute: String
        public let a: String?, b: String?
    }

    public var inputs: [ValueChange] = []
    public var outputs: [ValueChange] = []
    public var ops: [OpCount] = []
    /// Initializers with the same name in both.
    public var initializersInBoth = 0
    public var initializersChanged: [InitializerChange] = []
    public var initializersOnlyInA: [String] = []
    public var initializersOnlyInB: [String] = []
    public var attributes: [AttributeChange] = []
    /// The values of a run of both; nil when either model has no graph.
    public var numeric: NumericDiff?
    /// The verdict: the interfaces agree and every compared value is within tolerance (the
    /// run's values; for tensor files, the tensors and their names).
    public var equal = true

    /// Compares the structures of `a` and `b`, and with `feeds` (inputs of `a`; `b` gets them by
    /// name, else by position, in its declared float type) their runs.
    public static func compare(_ a: Model, _ b: Model, feeds: [String: Tensor]?, options: DiffOptions = DiffOptions()) throws
        -> ModelDiff
    {
        var d = ModelDiff()
        d.inputs = changes(a.graph.runtimeInputs, b.graph.runtimeInputs)
        d.outputs = changes(a.graph.outputs, b.graph.outputs)
        let countA = opCounts(a.graph), countB = opCounts(b.graph)
        d.ops = Set(countA.keys).union(countB.keys).sorted().compactMap { op in
            countA[op] == countB[op] ? nil : OpCount(op: op, a: countA[op] ?? 0, b: countB[op] ?? 0)
        }
        d.compareInitializers(a.graph.initializers, b.graph.initializers, options)
        d.attributes = attributeChanges(a.graph, b.graph)
        if let feeds, !a.graph.nodes.isEmpty, !b.graph.nodes.isEmpty {
            let numeric = try NumericDiff.compare(a, b, feeds: feeds, options: options)
            d.numeric = numeric
            d.equal = d.inputs.isEmpty && d.outputs.isEmpty && numeric.overTolerance == 0
        } else {
            d.equal =
                d.inputs.isEmpty && d.outputs.isEmpty && d.initializersOnlyInA.isEmpty && d.initializersOnlyInB.isEmpty
                && d.initializersChanged.allSatisfy { $0.maxAbsDifference.map { $0 <= options.atol } ?? false }
        }
        return d
    }

    private static func changes(_ a: [ValueInfo], _ b: [ValueInfo]) -> [ValueChange] {
        let typeA = Dictionary(a.map { ($0.name, $0.type?.description ?? "?") }, uniquingKeysWith: { x, _ in x })
        let typeB = Dictionary(b.map { ($0.name, $0.type?.description ?? "?") }, uniquingKeysWith: { x, _ in x })
        let names = a.map(\.name) + b.map(\.name).filter { typeA[$0] == nil }
        return names.compactMap { typeA[$0] == typeB[$0] ? nil : ValueChange(name: $0, a: typeA[$0], b: typeB[$0]) }
    }

    private static func opCounts(_ g: Graph) -> [String: Int] {
        var counts: [String: Int] = [:]
        for n in g.nodes { counts[Domain.canonical(n.domain).isEmpty ? n.opType : n.domain + "." + n.opType, default: 0] += 1 }
        return counts
    }

    private mutating func compareInitializers(_ a: [Tensor], _ b: [Tensor], _ options: DiffOptions) {
        let byName = Dictionary(b.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let namesA = Set(a.map(\.name))
        for t in a {
            guard let u = byName[t.name] else {
                initializersOnlyInA.append(t.name)
                continue
            }
            initializersInBoth += 1
            guard t != u else { continue }
            var difference: Double?
            if t.shape == u.shape, let x = t.numericValues, let y = u.numericValues, x.count == y.count {
                difference = zip(x, y).reduce(0) { max($0, abs($1.0 - $1.1)) }
                if difference == 0 && t.elementType == u.elementType { continue } // equal values, other metadata
            }
            initializersChanged.append(
                InitializerChange(name: t.name, a: t.typeText, b: u.typeText, maxAbsDifference: difference))
        }
        initializersOnlyInB = b.map(\.name).filter { !namesA.contains($0) }
    }

    private static func attributeChanges(_ a: Graph, _ b: Graph) -> [AttributeChange] {
        let nodesB = Dictionary(b.nodes.filter { !$0.name.isEmpty }.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        var out: [AttributeChange] = []
        for n in a.nodes where !n.name.isEmpty {
            guard let m = nodesB[n.name], m.opType == n.opType else { continue }
            let valuesA = Dictionary(n.attributes.map { ($0.name, $0.value) }, uniquingKeysWith: { x, _ in x })
            let valuesB = Dictionary(m.attributes.map { ($0.name, $0.value) }, uniquingKeysWith: { x, _ in x })
            for name in Set(valuesA.keys).union(valuesB.keys).sorted() where valuesA[name] != valuesB[name] {
                out.append(
                    AttributeChange(
                        node: n.name, op: n.opType, attribute: name, a: valuesA[name].map(describe),
                        b: valuesB[name].map(describe)))
            }
        }
        return out
    }

    /// An attribute value in a few words: `[1,1,1,1]`, `0.5`, `"nearest"`, `tensor float32[3]`.
    static func describe(_ v: AttributeValue) -> String {
        switch v {
        case .float(let f): return "\(f)"
        case .int(let i): return "\(i)"
        case .string(let s): return "\"\(String(decoding: s, as: UTF8.self))\""
        case .floats(let f): return "[" + f.map { "\($0)" }.joined(separator: ",") + "]"
        case .ints(let i): return "[" + i.map(String.init).joined(separator: ",") + "]"
        case .strings(let s): return "[" + s.map { "\"\(String(decoding: $0, as: UTF8.self))\"" }.joined(separator: ",") + "]"
        case .tensor(let t): return "tensor " + t.typeText
        case .graph(let g): return "graph '\(g.name)' (\(g.nodes.count) nodes)"
        case .tensors(let t): return "\(t.count) tensors"
        case .graphs(let g): return "\(g.count) graphs"
        case .sparseTensor, .sparseTensors: return "sparse tensor"
        case .typeProto(let t): return t.description
        case .typeProtos(let t): return "\(t.count) types"
        case .reference(let name, _): return "the function's attribute '\(name)'"
        }
    }
}

extension Tensor {
    /// `float32[3,3]`.
    var typeText: String { elementType.name + "[" + shape.map(String.init).joined(separator: ",") + "]" }
}
