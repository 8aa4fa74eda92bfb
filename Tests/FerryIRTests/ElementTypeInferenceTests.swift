import FerryIR
import Testing

/// Element types of values that declare none: from each op's rule, through untyped If branches and
/// Loop bodies whose carried values take the Loop's input types; unknown domains stay unknown.
@Suite struct ElementTypeInferenceTests {
    private func untyped(_ name: String) -> ValueInfo { ValueInfo(name: name, type: nil) }
    private let x = ValueInfo(name: "x", type: TypeInfo(.tensor(.float, shape: [.fixed(2)])))

    @Test func opRulesGiveTheirTypes() {
        let g = Graph(
            nodes: [
                Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
                Node(
                    opType: "Cast", inputs: ["s"], outputs: ["c"],
                    attributes: [Attribute("to", .int(Int64(ElementType.int32.rawValue)))]),
                Node(opType: "Greater", inputs: ["x", "x"], outputs: ["g"]),
                Node(opType: "Relu", inputs: ["x"], outputs: ["r"]),
                Node(opType: "Custom", domain: "example.org", inputs: ["x"], outputs: ["u"])
            ], inputs: [x], outputs: [untyped("c")])
        let types = ElementTypeInference.infer(g)
        #expect(types["s"] == .int64 && types["c"] == .int32 && types["g"] == .bool && types["r"] == .float)
        #expect(types["u"] == nil)
    }

    @Test func untypedBranchesAndLoopBodiesTakeTheirBodiesTypes() {
        let then = Graph(nodes: [Node(opType: "ArgMax", inputs: ["x"], outputs: ["a"])], outputs: [untyped("a")])
        let other = Graph(nodes: [Node(opType: "Shape", inputs: ["x"], outputs: ["b"])], outputs: [untyped("b")])
        let body = Graph(
            nodes: [
                Node(opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"]),
                Node(opType: "Neg", inputs: ["carried_in"], outputs: ["carried_out"])
            ],
            inputs: [untyped("i"), untyped("cond_in"), untyped("carried_in")],
            outputs: [untyped("cond_out"), untyped("carried_out")])
        let g = Graph(
            nodes: [
                Node(opType: "ReduceSum", inputs: ["x"], outputs: ["sum"]),
                Node(
                    opType: "If", inputs: ["cond"], outputs: ["picked"],
                    attributes: [Attribute("then_branch", .graph(then)), Attribute("else_branch", .graph(other))]),
                Node(
                    opType: "Loop", inputs: ["", "cond", "x"], outputs: ["looped"], attributes: [Attribute("body", .graph(body))])
            ], inputs: [x, ValueInfo(name: "cond", type: TypeInfo(.tensor(.bool, shape: [])))],
            outputs: [untyped("picked"), untyped("looped")])
        let types = ElementTypeInference.infer(g)
        #expect(types["picked"] == .int64)
        #expect(types["looped"] == .float)
    }
}
