import FerryIR

extension Model {
    /// Initializers of the main graph a caller may replace at run time: from IR version 4 on, an
    /// initializer that is also a declared graph input is only a default (before IR 4 every
    /// initializer had to be declared as an input and was still a constant). Passes never fold,
    /// merge or rewrite these.
    public var overridableInitializers: Set<String> {
        guard (irVersion ?? 4) >= 4 else { return [] }
        let declared = Set(graph.inputs.map(\.name))
        return Set(graph.initializers.map(\.name).filter { declared.contains($0) })
    }

    /// The main graph's initializers whose values are fixed (see `overridableInitializers`), by name.
    public var constantInitializers: [String: Tensor] {
        let overridable = overridableInitializers
        var result: [String: Tensor] = [:]
        for t in graph.initializers where !overridable.contains(t.name) { result[t.name] = t }
        return result
    }

    /// Adds `tensor` as an initializer of the main graph; before IR version 4 it is also declared as
    /// a graph input, as those versions require.
    public mutating func addInitializer(_ tensor: Tensor) {
        graph.initializers.append(tensor)
        if let ir = irVersion, ir < 4 {
            graph.inputs.append(
                ValueInfo(
                    name: tensor.name, type: TypeInfo(.tensor(tensor.elementType, shape: tensor.shape.map { .fixed(Int64($0)) })))
            )
        }
    }
}

extension Graph {
    /// Makes every node input reading `old` read `new` instead (nested graphs' captures are not
    /// touched: callers leave captured values alone).
    public mutating func replaceReads(of old: String, with new: String) {
        for i in nodes.indices where nodes[i].inputs.contains(old) {
            nodes[i].inputs = nodes[i].inputs.map { $0 == old ? new : $0 }
        }
    }

    /// Names that nodes' nested graphs read from this graph.
    public var capturedValues: Set<String> {
        Set(nodes.flatMap { $0.subgraphs.flatMap { $0.outerScopeReads() } })
    }

    /// The initializer called `name`, if there is one.
    public func initializer(named name: String) -> Tensor? {
        initializers.first { $0.name == name }
    }

    /// Checks an `--exclude` list: every entry must name a node or an op type of this graph.
    func checkExclusions(_ names: [String]) throws {
        let known = Set(nodes.map(\.name)).union(nodes.map(\.opType))
        for name in names where !known.contains(name) {
            throw PassError.invalidOption(
                option: "exclude", reason: "'\(name)' is neither a node name nor an op type of the model")
        }
    }
}
