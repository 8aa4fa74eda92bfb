import FerryIR
import Testing

/// A float tensor value type with a fixed shape.
private func floats(_ name: String, _ dims: Int64...) -> ValueInfo {
    ValueInfo(name: name, type: TypeInfo(.tensor(.float, shape: dims.map { Dim.fixed($0) })))
}

@Suite struct GraphTests {
    let chain = Graph(
        name: "g",
        nodes: [
            Node(opType: "Relu", name: "a", inputs: ["x"], outputs: ["t1"]),
            Node(opType: "Neg", name: "b", inputs: ["t1"], outputs: ["t2"]),
            Node(opType: "Add", name: "c", inputs: ["t2", "w"], outputs: ["y"])
        ], initializers: [Tensor(name: "w", elementType: .float, shape: [1], values: [Float(1)])],
        inputs: [floats("x", 1)], outputs: [floats("y", 1)])

    @Test func aSortedGraphKeepsItsOrder() throws {
        #expect(try chain.topologicalOrder() == [0, 1, 2])
    }

    @Test func anUnsortedGraphIsSorted() throws {
        var g = chain
        g.nodes.reverse()
        #expect(try g.topologicalOrder() == [2, 1, 0])
        var model = Model(graph: g)
        #expect(try TopologicalSortPass().run(on: &model))
        #expect(model.graph.nodes.map(\.name) == ["a", "b", "c"])
        #expect(try !TopologicalSortPass().run(on: &model))
    }

    @Test func aValueCapturedBySubgraphOrdersItsProducerFirst() throws {
        let body = Graph(
            name: "then", nodes: [Node(opType: "Identity", inputs: ["late"], outputs: ["o"])], outputs: [floats("o", 1)])
        let g = Graph(
            name: "g",
            nodes: [
                Node(
                    opType: "If", name: "if", inputs: ["cond"], outputs: ["y"],
                    attributes: [Attribute("then_branch", .graph(body)), Attribute("else_branch", .graph(body))]),
                Node(opType: "Relu", name: "producer", inputs: ["x"], outputs: ["late"])
            ], inputs: [ValueInfo(name: "cond", type: nil), floats("x", 1)], outputs: [floats("y", 1)])
        #expect(try g.topologicalOrder() == [1, 0])
        #expect(throws: Never.self) { try ModelValidator.validate(Model(graph: g)) }
    }

    @Test func validationNamesTheNodeReadingAnUndefinedValue() {
        var g = chain
        g.nodes[1].inputs = ["ghost"]
        #expect(throws: IRError.undefinedValue(value: "ghost", node: "'b' (Neg)", graph: "g")) {
            try ModelValidator.validate(Model(graph: g))
        }
    }

    @Test func validationFindsDuplicateOutputs() {
        var g = chain
        g.nodes[1].outputs = ["t1"]
        #expect(throws: IRError.duplicateDefinition(value: "t1", first: "node 'a' (Relu)", second: "node 'b' (Neg)", graph: "g"))
        {
            try ModelValidator.validate(Model(graph: g))
        }
    }

    @Test func validationFindsCycles() {
        var g = chain
        g.nodes[0].inputs = ["t2"]
        #expect(throws: IRError.self) { try ModelValidator.validate(Model(graph: g)) }
        do {
            try ModelValidator.validate(Model(graph: g))
        } catch let IRError.cycle(nodes, graph) {
            #expect(graph == "g")
            #expect(nodes == ["'a' (Relu)", "'b' (Neg)"])
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func validationRequiresGraphOutputsToExist() {
        var g = chain
        g.outputs.append(floats("nowhere", 1))
        #expect(throws: IRError.undefinedOutput(value: "nowhere", graph: "g")) { try ModelValidator.validate(Model(graph: g)) }
    }

    @Test func initializersMayAlsoBeDeclaredAsInputs() throws {
        var g = chain
        g.inputs.append(floats("w", 1))
        try ModelValidator.validate(Model(graph: g))
        #expect(g.runtimeInputs.map(\.name) == ["x"])
    }

    @Test func omittedOptionalInputsAreNotReferences() throws {
        var g = chain
        g.nodes[2].inputs = ["t2", "", "w"]
        try ModelValidator.validate(Model(graph: g))
    }
}
