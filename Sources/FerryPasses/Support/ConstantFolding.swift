import FerryIR
import FerryRuntime

/// Turns values computed from constants alone (Constant nodes, Reshapes of constants, fills made
/// by ConstantOfShape, ...) into initializers, so passes find weights as initializers whatever
/// the exporter did. The values are computed by the interpreter.
public enum ConstantFolding {
    /// Ops whose results are not fixed by their inputs.
    static let nondeterministic: Set<String> = ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"]

    /// Replaces every value of the main graph that no graph input influences and that a
    /// non-constant node reads by an initializer of the same name, then drops the constant nodes
    /// nobody reads any more. Graph outputs stay computed. Models holding float16 or bfloat16 data
    /// are left alone (the interpreter computes those in float32). Returns the number of values
    /// made initializers; throws when the interpreter cannot compute them.
    @discardableResult
    public static func materialize(_ model: inout Model) throws -> Int {
        var graph = model.graph
        guard !holdsHalfPrecision(model) else { return 0 }
        var constant = Set(graph.initializers.map(\.name))
        var constantNodes: [Int] = []
        for i in try graph.topologicalOrder() {
            let n = graph.nodes[i]
            let isConstant = n.subgraphs.isEmpty && (n.domain.isEmpty || n.domain == "ai.onnx")
                && !nondeterministic.contains(n.opType)
                && n.inputs.allSatisfy { $0.isEmpty || constant.contains($0) }
            guard isConstant else { continue }
            constantNodes.append(i)
            constant.formUnion(n.outputs.filter { !$0.isEmpty })
        }
        let folded = Set(constantNodes)
        let outputs = Set(graph.outputs.map(\.name))
        var frontier: [String] = []
        var seen = Set<String>()
        for (i, n) in graph.nodes.enumerated() where !folded.contains(i) {
            for name in n.inputs + n.subgraphs.flatMap({ $0.outerScopeReads() })
            where constant.contains(name) && graph.initializer(named: name) == nil && !outputs.contains(name) && seen.insert(name).inserted {
                frontier.append(name)
            }
        }
        guard !frontier.isEmpty else { return 0 }
        // The nodes producing those values go; their other outputs that someone still reads
        // become initializers too.
        var removed = Set<Int>()
        var k = 0
        while k < frontier.count {
            for (i, n) in graph.nodes.enumerated() where n.outputs.contains(frontier[k]) && removed.insert(i).inserted {
                for out in n.outputs where !out.isEmpty && seen.insert(out).inserted
                && (outputs.contains(out) || graph.nodes.indices.contains { !removed.contains($0) && graph.nodes[$0].inputs.contains(out) }) {
                    frontier.append(out)
                }
            }
            k += 1
        }
        var folding = model
        folding.graph = Graph(name: graph.name, nodes: constantNodes.map { graph.nodes[$0] }, initializers: graph.initializers,
                              outputs: frontier.map { ValueInfo(name: $0, type: nil) })
        let values: [(name: String, tensor: Tensor)]
        do {
            values = try InferenceSession(model: folding, options: SessionOptions(threads: 1)).run([:])
        } catch {
            throw PassError.unsupported(subject: "constant subgraph", reason: "cannot compute it: \(error)")
        }
        graph.initializers += values.map { v in
            var t = v.tensor
            t.name = v.name
            return t
        }
        graph.nodes = graph.nodes.indices.filter { !removed.contains($0) }.map { graph.nodes[$0] }
        GraphCleanup.removeUnused(&graph)
        model.graph = graph
        return frontier.count
    }

    private static func holdsHalfPrecision(_ model: Model) -> Bool {
        var half = false
        model.forEachTensor { if $0.elementType == .float16 || $0.elementType == .bfloat16 { half = true } }
        let halfCodes: Set<Int> = [Int(ElementType.float16.rawValue), Int(ElementType.bfloat16.rawValue)]
        return half || model.graph.nodes.contains { $0.isONNX("Cast") && halfCodes.contains($0.int("to", 0)) }
    }
}
