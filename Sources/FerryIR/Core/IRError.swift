/// Errors found in a model's structure; each names the graph, node, value or tensor at fault.
public enum IRError: Error, Equatable, CustomStringConvertible {
    /// A node reads a value that no node, graph input or initializer in scope defines.
    case undefinedValue(value: String, node: String, graph: String)
    /// A graph output names a value nothing defines.
    case undefinedOutput(value: String, graph: String)
    /// Two definitions (nodes, graph inputs or initializers) produce the same value name.
    case duplicateDefinition(value: String, first: String, second: String, graph: String)
    /// The nodes depend on each other in a cycle; `nodes` lists some of the nodes involved.
    case cycle(nodes: [String], graph: String)
    /// A tensor's storage does not match its element type and shape.
    case invalidTensor(tensor: String, reason: String)
    /// Graphs nest deeper than Ferry accepts.
    case nestingTooDeep(graph: String, limit: Int)

    public var description: String {
        switch self {
        case .undefinedValue(let v, let node, let g):
            return "graph '\(g)': node \(node) reads '\(v)', which nothing defines"
        case .undefinedOutput(let v, let g):
            return "graph '\(g)': output '\(v)' is not produced by any node, input or initializer"
        case .duplicateDefinition(let v, let a, let b, let g):
            return "graph '\(g)': value '\(v)' is defined twice, by \(a) and by \(b)"
        case .cycle(let nodes, let g):
            return "graph '\(g)': nodes form a cycle: \(nodes.joined(separator: ", "))"
        case .invalidTensor(let t, let reason):
            return "tensor '\(t)': \(reason)"
        case .nestingTooDeep(let g, let limit):
            return "graph '\(g)': subgraphs nest deeper than \(limit) levels"
        }
    }
}
