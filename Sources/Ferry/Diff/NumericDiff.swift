import FerryIR
import FerryRuntime

/// The values of two models run on the same inputs, compared tensor by tensor. A value of the
/// first model is matched in the second through a DequantizeLinear standing for it (a quantized
/// model), else by name, else by the op computing it and its position among that op type's nodes
/// (a renaming conversion) when both models have as many nodes of that type.
public struct NumericDiff: Encodable, Sendable {
    /// One compared pair.
    public struct Pair: Encodable, Sendable {
        /// The value in each model.
        public let a: String, b: String
        /// The op computing it in the first model ("initializer" for a weight).
        public let op: String
        /// "name", "position" or "dequantize".
        public let matchedBy: String
        public let maxAbsDifference: Double
        /// The largest |a - b| over the largest |a|: the difference against the value's range.
        public let maxRelDifference: Double
        /// The largest |a - b| / (atol + rtol * max |a|): over 1 is over the tolerance.
        public let toleranceRatio: Double
        /// Set when the values cannot be compared elementwise (shapes or types differ).
        public let mismatch: String?
    }

    /// Which inputs were fed: "given", or "random, seed N" (set by the caller).
    public var inputs = ""
    public var rtol: Double, atol: Double
    public var compared = 0
    public var matchedByName = 0, matchedByPosition = 0, matchedByDequantize = 0
    public var overTolerance = 0
    /// The first value over the tolerance in the first model's topological order.
    public var firstOverTolerance: Pair?
    /// The values that differ, furthest over (or nearest to) the tolerance first.
    public var worst: [Pair] = []
    /// The graph outputs, matched like the rest.
    public var outputs: [Pair] = []

    static func compare(_ a: Model, _ b: Model, feeds: [String: Tensor], options: DiffOptions) throws -> NumericDiff {
        var d = NumericDiff(rtol: options.rtol, atol: options.atol)
        let valuesA = try InferenceSession.everyValue(of: a, feeds: feeds)
        let valuesB = try InferenceSession.everyValue(of: b, feeds: InputMatching.feeds(feeds, from: a.graph, to: b.graph))
        let order = try a.graph.topologicalOrder().map { a.graph.nodes[$0] }
        var opOf: [String: String] = [:]
        for t in a.graph.initializers { opOf[t.name] = "initializer" }
        for n in order { for o in n.outputs where !o.isEmpty { opOf[o] = n.opType } }
        var pairs: [(a: String, b: String, by: String)] = []
        var matchedA = Set<String>(), matchedB = Set<String>()
        func match(_ x: String, _ y: String, _ by: String) {
            guard !matchedA.contains(x), !matchedB.contains(y) else { return }
            pairs.append((x, y, by))
            matchedA.insert(x)
            matchedB.insert(y)
        }
        // through DequantizeLinear: B's DQ(Q(x)) or DQ(x_q initializer) stands for A's x
        let initializersA = Dictionary(a.graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let producerB = Dictionary(
            b.graph.nodes.flatMap { n in n.outputs.map { ($0, n) } }, uniquingKeysWith: { x, _ in x })
        for n in b.graph.nodes where n.opType == "DequantizeLinear" && Domain.canonical(n.domain).isEmpty {
            guard let q = n.inputs.first, let out = n.outputs.first, valuesB[out] != nil else { continue }
            let source: String? =
                producerB[q].flatMap { $0.opType == "QuantizeLinear" ? $0.inputs.first : nil }
                ?? ["_q", "_quantized"].lazy.compactMap { q.hasSuffix($0) ? String(q.dropLast($0.count)) : nil }.first
            if let x = source, valuesA[x] != nil || initializersA[x] != nil { match(x, out, "dequantize") }
        }
        // the node outputs (the inputs are the same by construction)
        let valueNamesA = order.flatMap(\.outputs).filter { !$0.isEmpty }
        for x in valueNamesA where valuesB[x] != nil { match(x, x, "name") }
        // by position among the nodes of one op type, where both models have as many
        let nodesB = try b.graph.topologicalOrder().map { b.graph.nodes[$0] }
        let byTypeA = Dictionary(grouping: order, by: \.opType), byTypeB = Dictionary(grouping: nodesB, by: \.opType)
        for (op, list) in byTypeA where byTypeB[op]?.count == list.count {
            for (n, m) in zip(list, byTypeB[op]!) where n.outputs.count == m.outputs.count {
                for (x, y) in zip(n.outputs, m.outputs) where !x.isEmpty && valuesB[y] != nil { match(x, y, "position") }
            }
        }
        var results: [String: Pair] = [:]
        for p in pairs {
            guard let x = valuesA[p.a] ?? initializersA[p.a], let y = valuesB[p.b] else { continue }
            results[p.a] = pair(p.a, p.b, op: opOf[p.a] ?? "?", by: p.by, x, y, options)
        }
        let compared = valueNamesA.filter { results[$0] != nil } + a.graph.initializers.map(\.name).filter { results[$0] != nil }
        d.compared = compared.count
        for name in compared {
            let r = results[name]!
            switch r.matchedBy {
            case "name": d.matchedByName += 1
            case "position": d.matchedByPosition += 1
            default: d.matchedByDequantize += 1
            }
            if r.toleranceRatio > 1 {
                d.overTolerance += 1
                if d.firstOverTolerance == nil { d.firstOverTolerance = r }
            }
        }
        d.worst = Array(
            compared.map { results[$0]! }.filter { $0.toleranceRatio > 0 }.sorted { $0.toleranceRatio > $1.toleranceRatio }
                .prefix(options.worst))
        d.outputs = a.graph.outputs.compactMap { results[$0.name] }
        return d
    }

    /// The outputs alone of `a` and `b` run on `feeds` (b's matched to a's by name, else by
    /// position; b fed as `InputMatching` feeds it): what a check of a rewrite needs, without
    /// `compare`'s runs that keep every value.
    public static func outputs(_ a: Model, _ b: Model, feeds: [String: Tensor], options: DiffOptions = DiffOptions()) throws
        -> [Pair]
    {
        let outA = try InferenceSession(model: a).run(feeds)
        let outB = try InferenceSession(model: b).run(InputMatching.feeds(feeds, from: a.graph, to: b.graph))
        let byName = Dictionary(outB.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        let producer = Dictionary(
            a.graph.nodes.flatMap { n in n.outputs.map { ($0, n.opType) } }, uniquingKeysWith: { first, _ in first })
        return outA.enumerated().compactMap { i, o in
            let named = byName[o.name] != nil
            guard named || i < outB.count else { return nil }
            let (nameB, y) = named ? (o.name, byName[o.name]!) : (outB[i].name, outB[i].tensor)
            return pair(o.name, nameB, op: producer[o.name] ?? "input", by: named ? "name" : "position", o.tensor, y, options)
        }
    }

    private static func pair(
        _ nameA: String, _ nameB: String, op: String, by: String, _ x: Tensor, _ y: Tensor, _ options: DiffOptions
    ) -> Pair {
        func failed(_ why: String) -> Pair {
            Pair(
                a: nameA, b: nameB, op: op, matchedBy: by, maxAbsDifference: .infinity, maxRelDifference: .infinity,
                toleranceRatio: .infinity, mismatch: why)
        }
        guard x.shape == y.shape else { return failed("shape \(x.shape) against \(y.shape)") }
        guard let u = x.numericValues, let v = y.numericValues, u.count == v.count else {
            return x.storage == y.storage
                ? Pair(
                    a: nameA, b: nameB, op: op, matchedBy: by, maxAbsDifference: 0, maxRelDifference: 0, toleranceRatio: 0,
                    mismatch: nil) : failed("\(x.elementType.name) against \(y.elementType.name)")
        }
        var absolute = 0.0, largest = 0.0
        for (p, q) in zip(u, v) {
            if p.isFinite { largest = max(largest, abs(p)) }
            if p.isNaN && q.isNaN || p == q { continue }
            let diff = abs(p - q)
            guard diff.isFinite else { return failed("a value is not finite in one of them only") }
            absolute = max(absolute, diff)
        }
        return Pair(
            a: nameA, b: nameB, op: op, matchedBy: by, maxAbsDifference: absolute,
            maxRelDifference: absolute == 0 ? 0 : absolute / largest,
            toleranceRatio: absolute / (options.atol + options.rtol * largest), mismatch: nil)
    }
}

/// Feeding a second model the inputs of a first: by name, else by position, each cast to the
/// float16 or bfloat16 the second declares where the first takes float32.
public enum InputMatching {
    public static func feeds(_ feeds: [String: Tensor], from a: Graph, to b: Graph) -> [String: Tensor] {
        let inputsA = a.runtimeInputs, inputsB = b.runtimeInputs
        var out: [String: Tensor] = [:]
        for (i, info) in inputsB.enumerated() {
            let source = feeds[info.name] ?? (i < inputsA.count ? feeds[inputsA[i].name] : nil)
            if let t = source { out[info.name] = narrowed(t, to: info) }
        }
        return out
    }

    /// `t` rounded to float16 or bfloat16 when `info` declares one and `t` is float32.
    static func narrowed(_ t: Tensor, to info: ValueInfo) -> Tensor {
        guard t.elementType == .float, let type = ElementTypeInference.declared(info), type == .float16 || type == .bfloat16,
            let values = t.floatValues
        else { return t }
        return Tensor(name: t.name, half: type, shape: t.shape, rounding: values)
    }
}
