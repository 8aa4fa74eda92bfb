import FerryIR
import FerryPasses
import FerryRuntime
import Testing

/// `HalfPrecisionConversion` on a model with the parts half-precision converters get wrong:
/// Resize scales (an initializer and shape arithmetic), Casts to float32, a ConstantOfShape with its
/// default value, weights past float16's range, an excluded node; the converted model must be
/// valid, typed consistently and give the float32 outputs within float16's precision.
@Suite struct HalfPrecisionConversionTests {
    /// x[1,2,4,4] -> Conv(w) -> Resize(scales) -> Mul(big) -> Softmax ... plus shape arithmetic
    /// feeding a second Resize, and a ConstantOfShape added to the result.
    static func model() -> Model {
        let big = Tensor(name: "big", floats: [1e5], shape: [1])
        let nodes = [
            Node(opType: "Conv", inputs: ["x", "w"], outputs: ["c"], attributes: [Attribute("pads", .ints([1, 1, 1, 1]))]),
            Node(
                opType: "Resize", inputs: ["c", "", "scales"], outputs: ["up"],
                attributes: [Attribute("mode", .string(Array("nearest".utf8)))]),
            Node(opType: "Shape", inputs: ["up"], outputs: ["shape"]),
            Node(opType: "Cast", inputs: ["shape"], outputs: ["shape_f"], attributes: [Attribute("to", .int(1))]),
            Node(opType: "Div", inputs: ["shape_f", "shape_f"], outputs: ["scales2"]),
            Node(opType: "Resize", inputs: ["up", "", "scales2"], outputs: ["same"]),
            Node(opType: "Mul", inputs: ["same", "tiny"], outputs: ["scaled"]),
            Node(
                opType: "Softmax", name: "softmax", inputs: ["scaled"], outputs: ["p"], attributes: [Attribute("axis", .int(-1))]),
            Node(opType: "ConstantOfShape", inputs: ["shape"], outputs: ["zeros"]),
            Node(opType: "Add", inputs: ["p", "zeros"], outputs: ["y"]),
            Node(opType: "Mul", inputs: ["big", "big"], outputs: ["unused"])
        ]
        return Build.model(
            nodes,
            initializers: [
                Build.random("w", [3, 2, 3, 3], seed: 1), Tensor(name: "scales", floats: [1, 1, 2, 2], shape: [4]),
                Tensor(name: "tiny", floats: [0.5], shape: [1]), big
            ],
            inputs: [("x", [1, 2, 4, 4])], outputs: ["y"], opset: 13)
    }

    static func outputs(_ model: Model) throws -> [Float] {
        var g = SplitMix64(seed: 5)
        let x = Tensor(name: "x", floats: (0..<32).map { _ in Float.random(in: -1...1, using: &g) }, shape: [1, 2, 4, 4])
        let session = try InferenceSession(model: model)
        let declared = session.inputs.first { $0.name == "x" }!
        var feed = x
        if case .tensor(.float16, _)? = declared.type?.type {
            feed = Tensor(name: "x", elementType: .float16, shape: x.shape, values: x.floatValues!.map(\.halfBits))
        }
        let y = try session.run(["x": feed])[0].tensor
        if y.elementType == .float16 { return y.bytes!.toArray(of: UInt16.self).map { Float(halfBits: $0) } }
        return y.floatValues!
    }

    @Test func convertsWeightsAndComputeKeepingFloat32Inputs() throws {
        let source = Self.model()
        let (converted, report) = try HalfPrecisionConversion.convert(source, HalfPrecisionOptions(type: .float16))
        try ModelValidator.validate(converted)
        let g = converted.graph
        #expect(g.initializer(named: "w")?.elementType == .float16)
        #expect(g.initializer(named: "tiny")?.elementType == .float16)
        // Resize's scales stay float32, and so does the arithmetic that only feeds them.
        #expect(g.initializer(named: "scales")?.elementType == .float)
        #expect(g.nodes.first { $0.outputs == ["shape_f"] }?.int("to") == 1)
        #expect(report.keptInFloat32.count == 2)
        // ConstantOfShape gets a float16 zero instead of its float32 default.
        let fill = g.nodes.first { $0.opType == "ConstantOfShape" }
        #expect(
            fill?.attributes.first { $0.name == "value" }.map { attribute -> Bool in
                if case .tensor(let t) = attribute.value { return t.elementType == .float16 }
                return false
            } == true)
        #expect(report.clamped.map(\.tensor) == ["big"])
        #expect(ElementTypeInference.declared(g.inputs[0]) == .float16)
        let want = try Self.outputs(source), got = try Self.outputs(converted)
        #expect(want.count == got.count)
        for (a, b) in zip(want, got) { #expect(abs(a - b) <= 1e-2 * max(1, abs(a))) }
    }

    @Test func keepsIOTypesAndExcludedNodesInFloat32() throws {
        let options = HalfPrecisionOptions(type: .float16, keepIOTypes: true, exclude: ["softmax"])
        let (converted, report) = try HalfPrecisionConversion.convert(Self.model(), options)
        try ModelValidator.validate(converted)
        let g = converted.graph
        #expect(g.inputs.map(\.name) == ["x"] && g.outputs.map(\.name) == ["y"])
        #expect(ElementTypeInference.declared(g.inputs[0]) == .float)
        #expect(report.keptInFloat32.contains("softmax"))
        // the Softmax reads a float32 copy of its input and its output is cast back
        let softmax = g.nodes.first { $0.name == "softmax" }!
        let castIn = g.nodes.first { $0.outputs == softmax.inputs }
        #expect(castIn?.opType == "Cast" && castIn?.int("to") == 1)
        #expect(g.nodes.last?.opType == "Cast" && g.nodes.last?.outputs == ["y"] && g.nodes.last?.int("to") == 1)
        let want = try Self.outputs(Self.model()), got = try Self.outputs(converted)
        for (a, b) in zip(want, got) { #expect(abs(a - b) <= 1e-2 * max(1, abs(a))) }
    }

    @Test func bfloat16WeightsRoundToNearestEven() throws {
        // the last: 1e-40, a subnormal
        let values: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, .nan, -.infinity, 3.4e38, Float(bitPattern: 0x0001_16C2)]
        let model = Build.model([], initializers: [Tensor(name: "t", floats: values, shape: [6])], inputs: [], outputs: [])
        let (converted, _) = try HalfPrecisionConversion.convert(model, HalfPrecisionOptions(type: .bfloat16))
        let bits = converted.graph.initializers[0].bytes!.toArray(of: UInt16.self)
        #expect(bits == [0x3f80, 0x3f82, 0x7fc0, 0xff80, 0x7f80, 0x0001])
        #expect(converted.graph.initializers[0].elementType == .bfloat16)
    }

    @Test func refusesUnknownExclusionsAndTypes() {
        #expect(throws: PassError.self) {
            try HalfPrecisionConversion.convert(Self.model(), HalfPrecisionOptions(type: .float16, exclude: ["NoSuchOp"]))
        }
        #expect(throws: PassError.self) { try HalfPrecisionConversion.convert(Self.model(), HalfPrecisionOptions(type: .int8)) }
    }
}
