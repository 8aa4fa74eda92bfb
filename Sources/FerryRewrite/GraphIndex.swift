import FerryIR

/// Who produces and who reads each value of a list of nodes, and which values are initializers:
/// the lookups every rewrite needs, for the passes (a whole graph) and the planner (the nodes left
/// to run). Build it again after changing the nodes, or record removed reads with `dropRead`.
public struct GraphIndex {
    /// Node index producing each value.
    public private(set) var producer: [String: Int] = [:]
    /// Node indices reading each value (once per reading input; nested graphs' captures count).
    public private(set) var readers: [String: [Int]] = [:]
    /// Initializer position of each initializer name (empty for an index of nodes alone).
    public private(set) var initializer: [String: Int] = [:]
    /// Values that must stay as they are: the graph's outputs.
    public let graphOutputs: Set<String>

    /// The index of `graph`'s nodes and initializers.
    public init(_ graph: Graph) {
        self.init(nodes: graph.nodes, keeping: Set(graph.outputs.map(\.name)))
        for (i, t) in graph.initializers.enumerated() { initializer[t.name] = i }
    }

    /// The index of `nodes`; the values in `keeping` (graph outputs) are never private.
    public init(nodes: [Node], keeping: Set<String>) {
        graphOutputs = keeping
        for (i, n) in nodes.enumerated() {
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

    /// The one node reading `value`, when `value` is private.
    public func soleReader(of value: String) -> Int? {
        isPrivate(value) ? readers[value]?.first : nil
    }

    /// Records that node `node` no longer reads `value`.
    public mutating func dropRead(of value: String, by node: Int) {
        readers[value]?.removeAll { $0 == node }
    }
}
