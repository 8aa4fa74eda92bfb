import FerryIR
import FerryPasses
import FerryRuntime
import Testing

/// `OpsetConversion` on small models: the rewritten forms, refusals, and the outputs of Ferry's
/// interpreter before and after (tools/interop_opset.py checks against onnxruntime and onnx's
/// converter).
@Suite struct OpsetConversionTests {
    private func converted(_ model: Model, to target: Int64) throws -> (Model, OpsetConversion.Report) {
        var m = model
        let report = try OpsetConversion(target: target).apply(to: &m)
        _ = try TopologicalSortPass().run(on: &m)
        try ModelValidator.validate(m)
        return (m, report)
    }

    /// The outputs of `a` and `b` on the same seeded input `x` agree to 1e-6.
    private func expectSameOutputs(_ a: Model, _ b: Model, shape: [Int], sourceLocation: SourceLocation = #_sourceLocation) throws
    {
        let x = Build.random("x", shape, seed: 3)
        let ya = try InferenceSession(model: a).run(["x": x])
        let yb = Dictionary(uniqueKeysWithValues: try InferenceSession(model: b).run(["x": x]).map { ($0.name, $0.tensor) })
        #expect(ya.count == yb.count, sourceLocation: sourceLocation)
        for (name, t) in ya {
            let u = try #require(yb[name]?.floatValues, sourceLocation: sourceLocation)
            let v = try #require(t.floatValues, sourceLocation: sourceLocation)
            #expect(
                u.count == v.count && zip(u, v).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(name)", sourceLocation: sourceLocation)
        }
    }

    @Test func softmaxOnAMiddleAxisKeepsItsMeaningBothWays() throws {
        let old = Build.model(
            [Node(opType: "Softmax", name: "sm", inputs: ["x"], outputs: ["y"], attributes: [Attribute("axis", .int(1))])],
            inputs: [("x", [2, 3, 4])], outputs: ["y"], opset: 11, ir: 6)
        let (up, report) = try converted(old, to: 13)
        #expect(up.graph.nodes.map(\.opType) == ["Flatten", "Shape", "Softmax", "Reshape"])
        #expect(report.rewritten == ["Softmax": 1] && report.irVersion?.from == 6 && report.irVersion?.to == 7)
        try expectSameOutputs(old, up, shape: [2, 3, 4])
        let new = Build.model(
            [Node(opType: "Softmax", name: "sm", inputs: ["x"], outputs: ["y"], attributes: [Attribute("axis", .int(1))])],
            inputs: [("x", [2, 3, 4])], outputs: ["y"], opset: 13)
        let (down, _) = try converted(new, to: 12)
        #expect(down.graph.nodes.map(\.opType) == ["Transpose", "Softmax", "Transpose"])
        try expectSameOutputs(new, down, shape: [2, 3, 4])
    }

    @Test func reductionAxesMoveBetweenInputAndAttribute() throws {
        let axes = Tensor(name: "axes", elementType: .int64, shape: [1], values: [Int64(1)])
        let new = Build.model(
            [Node(opType: "ReduceMean", name: "r", inputs: ["x", "axes"], outputs: ["y"])], initializers: [axes],
            inputs: [("x", [2, 3, 4])], outputs: ["y"], opset: 18)
        let (down, _) = try converted(new, to: 13)
        #expect(down.graph.nodes[0].inputs == ["x"] && down.graph.nodes[0].ints("axes") == [1])
        #expect(down.graph.initializers.isEmpty, "the axes constant nothing reads any more is dropped")
        try expectSameOutputs(new, down, shape: [2, 3, 4])
        let (back, _) = try converted(down, to: 18)
        #expect(back.graph.nodes[0].inputs.count == 2 && back.graph.nodes[0].attribute("axes") == nil)
        try expectSameOutputs(new, back, shape: [2, 3, 4])
    }

    @Test func anUnevenSplitGetsExplicitSizesBelowOpset18() throws {
        let new = Build.model(
            [
                Node(
                    opType: "Split", name: "s", inputs: ["x"], outputs: ["a", "b", "c"],
                    attributes: [Attribute("axis", .int(1)), Attribute("num_outputs", .int(3))])
            ], inputs: [("x", [2, 7])], outputs: ["a", "b", "c"], opset: 18)
        let (down, _) = try converted(new, to: 13)
        let split = try #require(down.graph.initializer(named: down.graph.nodes[0].inputs[1]))
        #expect(split.numericValues == [3, 3, 1])
        try expectSameOutputs(new, down, shape: [2, 7])
        let (old, _) = try converted(down, to: 11)
        #expect(old.graph.nodes[0].ints("split") == [3, 3, 1] && old.graph.nodes[0].inputs == ["x"])
    }

    @Test func newerOpsAreWrittenAsTheOpsDefiningThem() throws {
        let ln = Build.model(
            [
                Node(opType: "HardSwish", name: "hs", inputs: ["x"], outputs: ["h"]),
                Node(
                    opType: "LayerNormalization", name: "ln", inputs: ["h", "g", "b"], outputs: ["y"],
                    attributes: [Attribute("axis", .int(1))])
            ],
            initializers: [Build.random("g", [3, 4], seed: 1), Build.random("b", [3, 4], seed: 2)], inputs: [("x", [2, 3, 4])],
            outputs: ["y"], opset: 17)
        let (down, report) = try converted(ln, to: 13)
        #expect(report.rewritten == ["HardSwish": 1, "LayerNormalization": 1])
        #expect(!down.graph.nodes.contains { $0.opType == "LayerNormalization" || $0.opType == "HardSwish" })
        #expect(down.graph.nodes.first { $0.opType == "ReduceMean" }?.ints("axes") == [-2, -1])
        try expectSameOutputs(ln, down, shape: [2, 3, 4])
    }

    @Test func opsMissingAtTheTargetAreRefusedByName() throws {
        let mish = Build.model(
            [Node(opType: "Mish", name: "mish", inputs: ["x"], outputs: ["y"])], inputs: [("x", [2, 4])], outputs: ["y"],
            opset: 18)
        #expect(throws: PassError.unsupported(subject: "node 'mish' (Mish)", reason: "Mish exists from opset 18 on")) {
            try converted(mish, to: 17)
        }
        #expect(throws: PassError.self) { try converted(mish, to: 10) }
        #expect(throws: PassError.self) { try converted(mish, to: OpsetConversion.newest + 1) }
        let int8 = Build.model(
            [Node(opType: "Add", name: "add", inputs: ["a", "a"], outputs: ["y"])], inputs: [], outputs: ["y"], opset: 14)
        var typed = int8
        typed.graph.inputs = [ValueInfo(name: "a", type: TypeInfo(.tensor(.int8, shape: [.fixed(2)])))]
        #expect(
            throws: PassError.unsupported(
                subject: "node 'add' (Add)", reason: "its input 'a' is int8, which Add takes from opset 14 on")
        ) { try converted(typed, to: 13) }
        let computed = Build.model(
            [
                Node(opType: "Shape", name: "shape", inputs: ["x"], outputs: ["s"]),
                Node(opType: "Slice", name: "axes", inputs: ["s", "one", "two"], outputs: ["a"]),
                Node(opType: "Squeeze", name: "sq", inputs: ["x", "a"], outputs: ["y"])
            ],
            initializers: [
                Tensor(name: "one", elementType: .int64, shape: [1], values: [Int64(1)]),
                Tensor(name: "two", elementType: .int64, shape: [1], values: [Int64(2)])
            ], inputs: [("x", [2, 1])], outputs: ["y"], opset: 13)
        #expect(
            throws: PassError.unsupported(
                subject: "node 'sq' (Squeeze)",
                reason: "its axes input is computed, and opset 12 takes axes as a constant attribute")
        ) { try converted(computed, to: 12) }
    }

    @Test func nestedGraphsAreConvertedWithTheirOuterConstants() throws {
        let axes = Tensor(name: "axes", elementType: .int64, shape: [1], values: [Int64(0)])
        let body = Graph(
            name: "then", nodes: [Node(opType: "Unsqueeze", name: "u", inputs: ["x", "axes"], outputs: ["t"])],
            outputs: [ValueInfo(name: "t", type: nil)])
        let other = Graph(
            name: "else", nodes: [Node(opType: "Unsqueeze", name: "v", inputs: ["x", "axes"], outputs: ["e"])],
            outputs: [ValueInfo(name: "e", type: nil)])
        let model = Build.model(
            [
                Node(
                    opType: "ReduceSum", name: "sum", inputs: ["x"], outputs: ["s"], attributes: [Attribute("keepdims", .int(0))]),
                Node(opType: "Greater", name: "gt", inputs: ["s", "zero"], outputs: ["c"]),
                Node(
                    opType: "If", name: "if", inputs: ["c"], outputs: ["y"],
                    attributes: [Attribute("then_branch", .graph(body)), Attribute("else_branch", .graph(other))])
            ], initializers: [axes, Tensor(name: "zero", floats: [0], shape: [])], inputs: [("x", [3])], outputs: ["y"],
            opset: 13)
        let (down, report) = try converted(model, to: 11)
        let branches = down.graph.nodes.first { $0.opType == "If" }!.subgraphs
        #expect(branches.allSatisfy { $0.nodes[0].inputs == ["x"] && $0.nodes[0].ints("axes") == [0] })
        #expect(report.rewritten["Unsqueeze"] == 2)
        #expect(down.graph.initializer(named: "axes") == nil)
        try expectSameOutputs(model, down, shape: [3])
    }

    @Test func reviewedEdgesConvertOrRefuseCleanly() throws {
        // GroupNormalization-18 is deprecated for -21, not removed: per-group scales become per-channel
        let gn = Build.model(
            [
                Node(
                    opType: "GroupNormalization", name: "gn", inputs: ["x", "s", "b"], outputs: ["y"],
                    attributes: [Attribute("num_groups", .int(2))])
            ], initializers: [Build.random("s", [2], seed: 1), Build.random("b", [2], seed: 2)], inputs: [("x", [1, 4, 3])],
            outputs: ["y"], opset: 18)
        let (up, _) = try converted(gn, to: 21)
        #expect(up.graph.initializer(named: up.graph.nodes[0].inputs[1])?.shape == [4])
        // a 1-D scale of several values is per axis at 13 even without `axis`
        let dq = Build.model(
            [Node(opType: "DequantizeLinear", name: "dq", inputs: ["q", "scale"], outputs: ["y"])],
            initializers: [
                Tensor(name: "q", elementType: .int8, shape: [2, 3], values: [Int8](repeating: 1, count: 6)),
                Build.random("scale", [3], seed: 3)
            ], inputs: [], outputs: ["y"], opset: 13)
        #expect(throws: PassError.self) { try converted(dq, to: 12) }
        // an axis outside the input: refused, not a trap
        let softmax = Build.model(
            [Node(opType: "Softmax", name: "sm", inputs: ["x"], outputs: ["y"], attributes: [Attribute("axis", .int(7))])],
            inputs: [("x", [2, 3])], outputs: ["y"], opset: 13)
        #expect(throws: PassError.self) { try converted(softmax, to: 12) }
        // Split-18's sizes added on the way down are constants for the step below 13
        let split = Build.model(
            [
                Node(
                    opType: "Split", name: "s", inputs: ["x"], outputs: ["a", "b", "c"],
                    attributes: [Attribute("axis", .int(1)), Attribute("num_outputs", .int(3))])
            ], inputs: [("x", [2, 10])], outputs: ["a", "b", "c"], opset: 18)
        let (old, _) = try converted(split, to: 12)
        #expect(old.graph.nodes[0].ints("split") == [4, 4, 2])
        // GridSample of unknown rank cannot be shown 4-D for opset 16; Dropout-7's float mask becomes bool at 10
        let grid = Build.model(
            [Node(opType: "GridSample", name: "gs", inputs: ["x", "g"], outputs: ["y"])], inputs: [], outputs: ["y"], opset: 20)
        #expect(throws: PassError.self) { try converted(grid, to: 19) }
        let dropout = Build.model(
            [Node(opType: "Dropout", name: "d", inputs: ["x"], outputs: ["y", "mask"])], inputs: [("x", [2])],
            outputs: ["y", "mask"],
            opset: 7)
        #expect(throws: PassError.self) { try converted(dropout, to: 13) }
        // no inputs at all (a damaged model): refused
        let empty = Build.model(
            [Node(opType: "Squeeze", name: "sq", inputs: [], outputs: ["y"])], inputs: [], outputs: ["y"], opset: 13)
        #expect(throws: PassError.self) { try converted(empty, to: 12) }
    }
}
