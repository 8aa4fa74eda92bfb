import FerryIR
import FerryRewrite
import Testing

@Suite struct GraphIndexTests {
    /// x -> Relu -> y (output); x, c -> Add -> t -> Abs -> u, and Mul reading u twice.
    private let graph = Graph(
        name: "g",
        nodes: [
            Node(opType: "Relu", name: "relu", inputs: ["x"], outputs: ["y"]),
            Node(opType: "Add", name: "add", inputs: ["x", "c"], outputs: ["t"]),
            Node(opType: "Abs", name: "abs", inputs: ["t"], outputs: ["u"]),
            Node(opType: "Mul", name: "square", inputs: ["u", "u"], outputs: ["v"])
        ],
        initializers: [Tensor(name: "c", floats: [1], shape: [1]), Tensor(name: "unused", floats: [2], shape: [1])],
        inputs: [ValueInfo(name: "x", type: nil)],
        outputs: [ValueInfo(name: "y", type: nil), ValueInfo(name: "v", type: nil)])

    @Test func knowsProducersReadersAndPrivateValues() {
        let index = GraphIndex(graph)
        #expect(index.producer["t"] == 1)
        #expect(index.readers(of: "x") == [0, 1])
        #expect(index.readers(of: "nothing").isEmpty)
        #expect(index.isPrivate("t"))
        #expect(!index.isPrivate("x"))
        #expect(!index.isPrivate("y"))
        #expect(index.initializer["unused"] == 1)
    }

    @Test func aValueReadTwiceByOneNodeIsStillPrivate() {
        let index = GraphIndex(graph)
        #expect(index.readers(of: "u") == [3, 3])
        #expect(index.soleReader(of: "u") == 3)
        #expect(index.soleReader(of: "x") == nil)
        #expect(index.soleReader(of: "v") == nil)
    }

    @Test func nodesAloneKeepTheNamedValues() {
        var index = GraphIndex(nodes: graph.nodes, keeping: ["t"])
        #expect(index.initializer.isEmpty)
        #expect(index.soleReader(of: "t") == nil)
        #expect(index.soleReader(of: "y") == nil)
        index.dropRead(of: "x", by: 0)
        #expect(index.readers(of: "x") == [1])
        #expect(index.soleReader(of: "x") == 1)
    }

    @Test func nestedGraphsCapturesCountAsReads() {
        let body = Graph(
            name: "then", nodes: [Node(opType: "Neg", inputs: ["t"], outputs: ["n"])], outputs: [ValueInfo(name: "n", type: nil)])
        let ifNode = Node(
            opType: "If", inputs: ["cond"], outputs: ["r"],
            attributes: [Attribute("then_branch", .graph(body)), Attribute("else_branch", .graph(body))])
        let index = GraphIndex(nodes: graph.nodes + [ifNode], keeping: [])
        #expect(!index.isPrivate("t"))
        #expect(Set(index.readers(of: "t")) == [2, 4])
    }
}
