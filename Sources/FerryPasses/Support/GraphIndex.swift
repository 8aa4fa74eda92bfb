import FerryIR

/// Who produces and who reads each value of one graph, and which values are initializers: the
/// lookups every pass needs. Build it again after changing the graph.
public struct GraphIndex {
    /// Node index producing each value.
    public private(set) var producer: [String: Int] = [:]
    /// Node indices reading each value (once per reading input; nested graphs' captures count).
    public private(set) var readers: [String: [Int]] = [:]
    /// Initializer position of each initializer name.
    public private(set) var initializer: [String: Int] = [:]
    /// Names of the graph's outputs.
    public let graphOutputs: Set<String>

    public init(_ graph: Graph) {
        graphOutputs = Set(graph.outputs.map(\.name))
        for (i, t) in graph.initializers.enumerated() { initializer[t.name] = i }
        for (i, n) in graph.nodes.enumerated() {
            for out in n.outputs where !out.isEmpty { producer[out] = i }
            for name in n.inputs + n.subgraphs.flatMap({ $0.outerScopeReads() }) where !name.isEmpty {
                readers[name, default: []].append(i)
            }
        }
    }

    /// The readers of `value` (empty when nothing reads it).
    public func readers(of value: String) -> [Int] { readers[value] ?? [] }

    /// True when `value` has exactly one reading node and is not a graph output: a rewrite may
    /// then change it without anyone else noticing.
    public func isPrivate(_ value: String) -> Bool {
        !graphOutputs.contains(value) && Set(readers(of: value)).count == 1
    }
}

extension Graph {
    /// The initializer called `name`, if there is one.
    public func initializer(named name: String) -> Tensor? {
        initializers.first { $0.name == name }
    }

    /// Checks an `--exclude` list: every entry must name a node or an op type of this graph.
    func checkExclusions(_ names: [String]) throws {
        let known = Set(nodes.map(\.name)).union(nodes.map(\.opType))
        for name in names where !known.contains(name) {
            throw PassError.invalidOption(option: "exclude", reason: "'\(name)' is neither a node name nor an op type of the model")
        }
    }
}
