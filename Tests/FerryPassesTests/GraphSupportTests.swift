import FerryIR
import FerryPasses
import Testing

@Suite struct GraphSupportTests {
    /// x -> Relu -> y (output), and a dead branch x -> Neg -> Abs reading an initializer nobody else reads.
    private func graphWithDeadBranch() -> Graph {
        Graph(
            name: "g",
            nodes: [
                Node(opType: "Relu", name: "relu", inputs: ["x"], outputs: ["y"]),
                Node(opType: "Add", name: "add", inputs: ["x", "c"], outputs: ["t"]),
                Node(opType: "Abs", name: "abs", inputs: ["t"], outputs: ["u"])
            ],
            initializers: [Tensor(name: "c", floats: [1], shape: [1]), Tensor(name: "unused", floats: [2], shape: [1])],
            inputs: [ValueInfo(name: "x", type: nil), ValueInfo(name: "unused", type: nil)],
            outputs: [ValueInfo(name: "y", type: nil)])
    }

    @Test func removesDeadNodesAndTheirInitializers() {
        var g = graphWithDeadBranch()
        let removed = GraphCleanup.removeUnused(&g)
        #expect(removed.nodes == 2)
        #expect(removed.initializers == 2)
        #expect(g.nodes.map(\.name) == ["relu"])
        #expect(g.initializers.isEmpty)
        // The declared input that named a removed initializer goes too; the real input stays.
        #expect(g.inputs.map(\.name) == ["x"])
    }

    @Test func freshNamesAvoidEveryUsedName() {
        var names = NameAllocator(Model(irVersion: 8, opsetImports: [], graph: graphWithDeadBranch()))
        #expect(names.fresh("t") == "t_1")
        #expect(names.fresh("t") == "t_2")
        #expect(names.fresh("new") == "new")
        #expect(names.fresh("new") == "new_1")
    }
}
