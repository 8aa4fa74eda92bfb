import FerryIR
import Testing

@testable import FerryRuntime

@Suite struct ElementwiseTests {
    @Test func broadcastAddMatchesNaiveLoop() throws {
        let a = (0..<24).map { Float($0) }, b: [Float] = [10, 20, 30]
        let model = TestModels.single(op: "Add", inputs: [("a", .float, [2, 4, 3]), ("b", .float, [3])], output: ("y", .float))
        let y = try InferenceSession(model: model).run([
            "a": Tensor(name: "a", elementType: .float, shape: [2, 4, 3], values: a),
            "b": Tensor(name: "b", elementType: .float, shape: [3], values: b)
        ])
        #expect(y[0].tensor.shape == [2, 4, 3])
        #expect(y[0].tensor.bytes!.toArray(of: Float.self) == (0..<24).map { Float($0) + b[$0 % 3] })
    }
}

/// Small models for tests.
enum TestModels {
    static func single(
        op: String, inputs: [(String, ElementType, [Int])], output: (String, ElementType),
        attributes: [Attribute] = [], opset: Int64 = 17
    ) -> Model {
        let node = Node(opType: op, inputs: inputs.map(\.0), outputs: [output.0], attributes: attributes)
        let graph = Graph(
            name: "g", nodes: [node],
            inputs: inputs.map { ValueInfo(name: $0.0, type: TypeInfo(.tensor($0.1, shape: $0.2.map { .fixed(Int64($0)) }))) },
            outputs: [ValueInfo(name: output.0, type: TypeInfo(.tensor(output.1, shape: nil)))])
        return Model(irVersion: 8, opsetImports: [OpsetID(domain: "", version: opset)], graph: graph)
    }
}
