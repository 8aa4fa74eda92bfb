import FerryIR
import FerryPasses
import Testing

@testable import FerryPasses

/// `SymbolicShapes`: sizes read back as formulas of the input symbols, and no formula where none
/// fits every run (an honest unknown rather than a wrong name).
@Suite struct SymbolicShapesTests {
    @Test func formulasAreWrittenSimply() {
        let cases: [(c: Int, e: Int, d: Int, exact: Bool, text: String)] = [
            (1, 0, 1, false, "S"), (2, 1, 1, false, "2*S+1"), (1, -2, 1, false, "S-2"), (1, 0, 2, false, "floor(S/2)"),
            (1, 0, 2, true, "S/2"), (1, 1, 2, false, "ceil(S/2)"), (1, 1, 4, false, "floor((S+1)/4)"),
            (1, -1, 2, false, "ceil(S/2)-1")
        ]
        for k in cases {
            #expect(SymbolicShapes.formula("S", c: k.c, e: k.e, d: k.d, exactDivision: k.exact) == k.text)
        }
    }

    @Test func sizesAreMatchedToTheFormulaTheyFollow() {
        let s = SymbolicShapes.Term(name: "S", sizes: [37, 50, 67, 97, 126])
        let t = SymbolicShapes.Term(name: "T", sizes: [3, 5, 7, 2, 6])
        func dim(_ f: (Int, Int) -> Int) -> String { SymbolicShapes.dim(zip(s.sizes, t.sizes).map(f), [s, t]).description }
        #expect(dim { _, _ in 16 } == "16")
        #expect(dim { s, _ in s } == "S")
        #expect(dim { _, t in t + 1 } == "T+1")
        #expect(dim { s, _ in (s + 1) / 2 } == "ceil(S/2)")
        #expect(dim { s, _ in (s - 3) / 2 + 1 } == "ceil(S/2)-1") // a 3-wide window at stride 2, no padding
        // nested floors and ceilings of halvings are one formula: two stride-2 ceilings, then that window
        #expect(dim { s, _ in (((s + 1) / 2 + 1) / 2 - 3) / 2 + 1 } == "ceil(S/8)-1")
        #expect(dim { s, t in 4 * s * t } == "4*S*T")
        // a stride of 3 follows no formula of halvings: unknown, not a near miss
        #expect(dim { s, _ in s / 3 } == "?")
    }

    @Test func aStridedConvolutionListsItsShapes() throws {
        let nodes = [
            Node(
                opType: "Conv", inputs: ["x", "w"], outputs: ["c"],
                attributes: [Attribute("strides", .ints([2, 2])), Attribute("pads", .ints([1, 1, 1, 1]))]),
            Node(opType: "Flatten", inputs: ["c"], outputs: ["flat"]),
            Node(opType: "Shape", inputs: ["c"], outputs: ["shape"])
        ]
        var model = Build.model(
            nodes, initializers: [Build.random("w", [4, 3, 3, 3], seed: 1)], inputs: [], outputs: ["flat", "shape"])
        model.graph.inputs = [
            ValueInfo(name: "x", type: TypeInfo(.tensor(.float, shape: [.symbol("N"), .fixed(3), .symbol("H"), Dim(.unknown)])))
        ]
        let listing = try SymbolicShapes.infer(model)
        let rows = listing.values.map {
            "\($0.name) \($0.elementType.name) \($0.dims.map { $0.map(\.description) } ?? []) \($0.producer ?? "input")"
        }
        #expect(
            rows == [
                "x float32 [\"N\", \"3\", \"H\", \"unk__0\"] input",
                "c float32 [\"N\", \"4\", \"ceil(H/2)\", \"ceil(unk__0/2)\"] Conv",
                "flat float32 [\"N\", \"?\"] Flatten", "shape int64 [\"4\"] Shape"
            ], "\(rows)")
        #expect(!listing.assumesMultiplesOf32)
        // fixing the shape makes every size a number
        let fixed = try SymbolicShapes.infer(model, given: ["x": [2, 3, 8, 10]])
        #expect(fixed.values.first { $0.name == "flat" }?.dims == [.fixed(2), .fixed(4 * 4 * 5)])
    }
}
