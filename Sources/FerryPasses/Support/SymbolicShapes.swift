import FerryIR

/// Every value's element type and shape with the model's symbolic sizes kept by name, found by
/// running the model: each symbolic or unknown input axis takes five sizes in five runs, and
/// each size of a value is matched against the formulas a size can follow from one symbol S
/// (`S`, `2*S+1`, `floor(S/2)`, `ceil(S/32)`, `floor((S+3)/4)`: strides of 2) or two (`S*T`); a size that never
/// changes is a number, one that fits no formula is unknown.
public enum SymbolicShapes {
    /// The values of `model` (main-graph inputs, then node outputs in graph order) and whether
    /// the sizes assume multiples of 32.
    public struct Listing: Equatable, Sendable {
        public var values: [SymbolicValue]
        /// Set when the model ran only on sizes divisible by 32 (a network whose strided branches
        /// meet again): its formulas hold for such sizes; `floor(S/2)` is shown as `S/2`.
        public var assumesMultiplesOf32: Bool
    }

    /// Infers the listing; `given` fixes the shapes of some inputs. Throws `PassError.unsupported`
    /// with the interpreter's reason when the model runs on neither set of sizes.
    public static func infer(_ model: Model, given: [String: [Int]] = [:]) throws -> Listing {
        var symbols: [String] = [], batchLike = Set<String>(), symbolOf: [String: String] = [:]
        var unnamed = 0
        for input in model.graph.runtimeInputs where given[input.name] == nil {
            guard case .tensor(_, let dims?)? = input.type?.type else { continue }
            for (axis, d) in dims.enumerated() where d.fixedSize == nil {
                var name: String
                if case .symbol(let s) = d.value, !s.isEmpty, s != "?" {
                    name = s
                } else {
                    // unknown, negative or "?" (as some exporters write it): a symbol of its own, named as onnx names them
                    name = "unk__\(unnamed)"
                    unnamed += 1
                }
                symbolOf["\(axis):\(input.name)"] = name
                if !symbols.contains(name) {
                    symbols.append(name)
                    if axis == 0 { batchLike.insert(name) }
                }
            }
        }
        // sizes from small to large first (a formula found over a wide range holds at the
        // sizes users run); models that cannot take small sizes get larger ones, and models
        // whose strided branches meet again need multiples of 32
        var failure: Error?
        for attempt in [Sizes.wide, .large, .multiplesOf32] {
            let sizes = symbols.enumerated().map { i, name -> [Int] in
                batchLike.contains(name) ? batchSizes[i % batchSizes.count] : attempt.sizes(axisSizes[i % axisSizes.count])
            }
            let sizeOf = Dictionary(uniqueKeysWithValues: zip(symbols, sizes))
            do {
                let runs = try (0..<runCount).map { k in
                    try ValueShapes.run(model, given: given) { input, axis in
                        symbolOf["\(axis):\(input)"].flatMap { sizeOf[$0]?[k] }
                    }
                }
                let terms = zip(symbols, sizes).map { Term(name: $0, sizes: $1) }
                let exact = attempt == .multiplesOf32
                return Listing(values: values(model, runs, terms, exactDivision: exact), assumesMultiplesOf32: exact)
            } catch {
                if symbols.isEmpty { throw error }
                failure = failure ?? error
            }
        }
        throw failure!
    }

    /// The sizes an attempt gives the symbols of axes past the first.
    enum Sizes {
        case wide, large, multiplesOf32

        func sizes(_ base: [Int]) -> [Int] {
            switch self {
            case .wide: return base
            case .large: return base.map { $0 + 64 }
            case .multiplesOf32: return base.map { ($0 + 64) / 10 * 32 }
            }
        }
    }

    /// A symbol and its sizes in the runs.
    struct Term {
        var name: String
        var sizes: [Int]
    }

    /// Runs, so that a formula fitting every one of them is not a coincidence (three runs fit
    /// `floor((H+27)/32)-2` to nested floors and ceilings that no single formula gives).
    static let runCount = 5

    /// Sizes of a symbol on a first axis (a batch): small. Of other axes (see `Sizes`): sizes of
    /// distinct residues modulo 32 (so floor and ceil differ), distinct between symbols (so
    /// products tell which two), smallest first (a model that cannot take them fails at once).
    static let batchSizes = [[2, 3, 5, 4, 7], [3, 5, 7, 2, 6], [5, 7, 11, 6, 4], [7, 11, 13, 8, 9]]
    static let axisSizes = [
        [37, 50, 67, 97, 126], [35, 54, 71, 101, 118], [39, 46, 73, 103, 122], [41, 58, 79, 107, 110],
        [43, 62, 83, 109, 130], [45, 60, 89, 149, 106]
    ]

    private static func values(_ model: Model, _ runs: [[String: Tensor]], _ terms: [Term], exactDivision: Bool)
        -> [SymbolicValue]
    {
        let producers = Dictionary(
            model.graph.nodes.flatMap { n in n.outputs.map { ($0, n.opType) } }, uniquingKeysWith: { first, _ in first })
        let names = model.graph.runtimeInputs.map(\.name) + model.graph.nodes.flatMap(\.outputs).filter { !$0.isEmpty }
        var seen = Set<String>()
        return names.compactMap { name in
            guard seen.insert(name).inserted else { return nil }
            let tensors = runs.compactMap { $0[name] }
            guard tensors.count == runs.count else { return nil }
            let rank = tensors[0].shape.count
            let dims: [Dim]? =
                tensors.allSatisfy { $0.shape.count == rank }
                ? (0..<rank).map { axis in dim(tensors.map { $0.shape[axis] }, terms, exactDivision: exactDivision) } : nil
            return SymbolicValue(name: name, elementType: tensors[0].elementType, dims: dims, producer: producers[name])
        }
    }

    /// The size that was `seen[k]` in run k: a number when it never changed, else the first
    /// formula that gives it in every run, of `c*S+e` and `floor((S+e)/d)` (d a power of two up
    /// to 32, smallest first) for one symbol, `c*S*T` for two; else unknown.
    static func dim(_ seen: [Int], _ terms: [Term], exactDivision: Bool = false) -> Dim {
        if seen.allSatisfy({ $0 == seen[0] }) { return .fixed(Int64(seen[0])) }
        for d in [1, 2, 4, 8, 16, 32] {
            for t in terms {
                // c near the slope between the runs of the smallest and largest size; e from the
                // first run's floor
                guard let lo = t.sizes.indices.min(by: { t.sizes[$0] < t.sizes[$1] }),
                    let hi = t.sizes.indices.max(by: { t.sizes[$0] < t.sizes[$1] }), t.sizes[lo] < t.sizes[hi]
                else { continue }
                let slope = Double(d * (seen[hi] - seen[lo])) / Double(t.sizes[hi] - t.sizes[lo])
                // a whole multiple of S, or S divided (c = 1): a fraction such as 11/32 would
                // pass for S/3 on a few sizes
                for c in Set([Int(slope.rounded(.down)), Int(slope.rounded(.up))]).sorted() where c > 0 && (d == 1 || c == 1) {
                    let lowest = seen[0] * d - c * t.sizes[0]
                    for e in lowest..<(lowest + d) where zip(seen, t.sizes).allSatisfy({ floorDivide(c * $1 + e, d) == $0 }) {
                        return .symbol(formula(t.name, c: c, e: e, d: d, exactDivision: exactDivision))
                    }
                }
            }
        }
        for (i, s) in terms.enumerated() {
            for t in terms[i...] {
                let products = zip(s.sizes, t.sizes).map { $0 * $1 }
                guard seen[0] % products[0] == 0 else { continue }
                let c = seen[0] / products[0]
                if c > 0 && zip(seen, products).allSatisfy({ $0 == c * $1 }) {
                    return .symbol((c == 1 ? "" : "\(c)*") + "\(s.name)*\(t.name)")
                }
            }
        }
        return Dim(.unknown)
    }

    /// `floor((c*S+e)/d)` written simply: `2*S+1`, `S/2` (exact division), `floor(S/2)`,
    /// `ceil(S/2)`, `floor((S+1)/4)`, with a whole offset outside (`ceil(S/2)+1`).
    static func formula(_ s: String, c: Int, e: Int, d: Int, exactDivision: Bool) -> String {
        let scaled = c == 1 ? s : "\(c)*\(s)"
        let q = floorDivide(e, d), r = e - q * d
        let offset = q == 0 ? "" : q > 0 ? "+\(q)" : "\(q)"
        if d == 1 { return scaled + offset }
        if r == 0 { return (exactDivision ? "\(scaled)/\(d)" : "floor(\(scaled)/\(d))") + offset }
        if r == d - 1 { return "ceil(\(scaled)/\(d))" + offset }
        return "floor((\(scaled)+\(r))/\(d))" + offset
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// A value's element type and shape as `SymbolicShapes` infers them.
public struct SymbolicValue: Equatable, Sendable {
    public var name: String
    public var elementType: ElementType
    /// Nil when even the rank changed between the runs.
    public var dims: [Dim]?
    /// The op type of the node computing it; nil for a graph input.
    public var producer: String?
}
