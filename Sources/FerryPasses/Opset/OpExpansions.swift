import FerryIR

/// Ops newer than a downgrade's target written as the older ops they are defined by (the
/// function bodies of their ONNX schemas), so models exported with them still convert: HardSwish
/// (opset 14), LayerNormalization (17), Gelu (20).
extension OpsetChanges {
    /// HardSwish(x) = x * HardSigmoid(x; alpha 1/6, beta 0.5).
    static func expandHardSwish(_ s: inout NodeRewrite, _ target: Int64) throws {
        let x = s.node.inputs[0]
        try s.requireTypes(["HardSigmoid", "Mul"], of: x)
        let gate = s.addBefore(
            "HardSigmoid", [x], "gate", [Attribute("alpha", .float(1.0 / 6.0)), Attribute("beta", .float(0.5))])
        s.replace(with: "Mul", inputs: [x, gate])
    }

    /// Gelu(x) = x * 0.5 * (1 + erf(x / sqrt 2)), or with `approximate=tanh`
    /// x * 0.5 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))).
    static func expandGelu(_ s: inout NodeRewrite, _ target: Int64) throws {
        let x = s.node.inputs[0]
        try s.requireTypes(["Mul", "Add", "Erf", "Tanh"], of: x)
        func constant(_ role: String, _ v: Float) throws -> String { s.addConstant(role, try s.scalar(v, like: x)) }
        let inner: String
        if s.node.string("approximate") == "tanh" {
            let square = s.addBefore("Mul", [x, x], "square")
            let cube = s.addBefore("Mul", [x, square], "cube")
            let k = try constant("k", 0.044715)
            let scaledCube = s.addBefore("Mul", [cube, k], "scaled_cube")
            let sum = s.addBefore("Add", [x, scaledCube], "sum")
            let factor = try constant("sqrt_2_over_pi", 0.7978845608)
            let argument = s.addBefore("Mul", [sum, factor], "tanh_arg")
            inner = s.addBefore("Tanh", [argument], "tanh")
        } else {
            let factor = try constant("inv_sqrt2", 0.70710678118)
            let argument = s.addBefore("Mul", [x, factor], "erf_arg")
            inner = s.addBefore("Erf", [argument], "erf")
        }
        let one = try constant("one", 1), half = try constant("half", 0.5)
        let onePlus = s.addBefore("Add", [inner, one], "one_plus")
        let halfX = s.addBefore("Mul", [x, half], "half_x")
        s.replace(with: "Mul", inputs: [halfX, onePlus])
    }

    /// LayerNormalization over the axes from `axis` to the last: (x - mean) / sqrt(var + epsilon)
    /// * scale + bias, computed in the input's type (float32 or float64).
    static func expandLayerNormalization(_ s: inout NodeRewrite, _ target: Int64) throws {
        let x = s.node.inputs[0], axis = s.node.int("axis", -1)
        guard s.node.outputs.dropFirst().allSatisfy(\.isEmpty) else {
            throw s.refusal("its mean and inverse deviation outputs have no equivalent before opset 17")
        }
        if let type = s.rewriter.elementType(x), type != .float && type != .double {
            throw s.refusal("a \(type.name) input (computed in float32 from opset 17) has no exact equivalent before it")
        }
        guard s.input(1) != nil else { throw s.refusal("it has no scale input") }
        var first = axis
        if axis >= 0 {
            guard let rank = s.rewriter.rank(x) else {
                throw s.refusal("axis \(axis) counts from the front and the input's rank is unknown, which opset \(target) needs")
            }
            first = axis - rank
        }
        guard first < 0, s.rewriter.rank(x).map({ first >= -$0 }) ?? true else {
            throw s.refusal("axis \(axis) is outside the input's axes")
        }
        let axes: [Attribute] = [Attribute("axes", .ints(Array(Int64(first)..<0))), Attribute("keepdims", .int(1))]
        let mean = s.addBefore("ReduceMean", [x], "mean", axes)
        let centered = s.addBefore("Sub", [x, mean], "centered")
        let squared = s.addBefore("Mul", [centered, centered], "squared")
        let variance = s.addBefore("ReduceMean", [squared], "variance", axes)
        let epsilon = s.addConstant("epsilon", try s.scalar(s.node.float("epsilon", 1e-5), like: x))
        let shifted = s.addBefore("Add", [variance, epsilon], "var_eps")
        let deviation = s.addBefore("Sqrt", [shifted], "deviation")
        let normalized = s.addBefore("Div", [centered, deviation], "normalized")
        let y = s.addBefore("Mul", [normalized, s.node.inputs[1]], "scaled")
        if let bias = s.input(2) {
            s.replace(with: "Add", inputs: [y, bias])
        } else {
            s.before[s.before.count - 1].outputs = [s.node.outputs[0]]
            s.node = s.before.removeLast()
        }
    }
}

extension NodeRewrite {
    /// Makes this node an attribute-less `op` on `inputs`, keeping its name and first output.
    mutating func replace(with op: String, inputs: [String]) {
        node = Node(opType: op, name: node.name, inputs: inputs, outputs: [node.outputs[0]])
    }
}
