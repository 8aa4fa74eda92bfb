/// Structural checks of a model: every value read is defined in scope, no value is defined twice,
/// graph outputs exist, nodes form no cycle, and tensors agree with their shapes.
public enum ModelValidator {
    /// Deepest graph nesting accepted (If/Loop/Scan bodies inside each other).
    public static let maxNestingDepth = 64

    /// Checks `model`, throwing the first problem found.
    public static func validate(_ model: Model) throws {
        try model.forEachTensor { try $0.validate() }
        try validate(model.graph, outerScope: [], depth: 0)
        let mainScope = definedNames(of: model.graph)
        for info in model.trainingInfo {
            for g in [info.initialization, info.algorithm].compactMap({ $0 }) {
                try validate(g, outerScope: mainScope, depth: 0)
            }
        }
        for f in model.functions {
            let body = Graph(
                name: "function \(f.domain.isEmpty ? "" : f.domain + ".")\(f.name)", nodes: f.nodes,
                inputs: f.inputs.map { ValueInfo(name: $0, type: nil) },
                outputs: f.outputs.map { ValueInfo(name: $0, type: nil) })
            try validate(body, outerScope: [], depth: 0)
        }
    }

    /// Checks one graph whose nodes may also read `outerScope`.
    public static func validate(_ graph: Graph, outerScope: Set<String>, depth: Int) throws {
        try validate(graph, scope: Scope(outerScope, parent: nil), depth: depth)
    }

    /// The names visible in a graph: its own, then its enclosing graphs' (a chain, so nested
    /// graphs never copy their parents' names).
    final class Scope {
        let names: Set<String>
        let parent: Scope?

        init(_ names: Set<String>, parent: Scope?) {
            self.names = names
            self.parent = parent
        }

        func contains(_ name: String) -> Bool {
            var s: Scope? = self
            while let current = s {
                if current.names.contains(name) { return true }
                s = current.parent
            }
            return false
        }
    }

    private static func validate(_ graph: Graph, scope outer: Scope, depth: Int) throws {
        let graphName = graph.name.isEmpty ? "(unnamed)" : graph.name
        guard depth <= maxNestingDepth else { throw IRError.nestingTooDeep(graph: graphName, limit: maxNestingDepth) }

        var definedBy: [String: String] = [:]
        func define(_ value: String, by who: String) throws {
            guard !value.isEmpty else { return }
            if let first = definedBy[value] {
                throw IRError.duplicateDefinition(value: value, first: first, second: who, graph: graphName)
            }
            definedBy[value] = who
        }
        // An initializer may also be declared as a graph input (files older than IR 4 do this).
        let initializerNames = Set(graph.initializers.map(\.name)).union(graph.sparseInitializers.map(\.name))
        for input in graph.inputs where !initializerNames.contains(input.name) {
            try define(input.name, by: "graph input '\(input.name)'")
        }
        for t in graph.initializers { try define(t.name, by: "initializer '\(t.name)'") }
        for s in graph.sparseInitializers { try define(s.name, by: "sparse initializer '\(s.name)'") }
        for (i, node) in graph.nodes.enumerated() {
            for out in node.outputs { try define(out, by: "node \(node.label(index: i))") }
        }

        let scope = Scope(Set(definedBy.keys), parent: outer)
        for (i, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty && !scope.contains(input) {
                throw IRError.undefinedValue(value: input, node: node.label(index: i), graph: graphName)
            }
            for sub in node.subgraphs {
                try validate(sub, scope: scope, depth: depth + 1)
            }
        }
        for out in graph.outputs where !scope.contains(out.name) {
            throw IRError.undefinedOutput(value: out.name, graph: graphName)
        }
        _ = try graph.topologicalOrder()
    }

    /// Names a graph defines itself: inputs, initializers and node outputs.
    static func definedNames(of graph: Graph) -> Set<String> {
        var names = Set(graph.inputs.map(\.name))
        names.formUnion(graph.initializers.map(\.name))
        names.formUnion(graph.sparseInitializers.map(\.name))
        for n in graph.nodes { names.formUnion(n.outputs) }
        names.remove("")
        return names
    }
}
