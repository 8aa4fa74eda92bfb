import FerryIR
import FerryRewrite
import Testing

@Suite struct PatternTests {
    private let constants = Constants([
        "three": Tensor(name: "three", floats: [3], shape: []),
        "zero": Tensor(name: "zero", floats: [0], shape: []),
        "six": Tensor(name: "six", floats: [6], shape: [])
    ])

    /// x * clip(x + 3, 0, 6) / 6, with the Mul first or the Div first.
    private func spelledHardSwish(divideFirst: Bool) -> [Node] {
        let head = [
            Node(opType: "Add", name: "add", inputs: ["x", "three"], outputs: ["a"]),
            Node(opType: "Clip", inputs: ["a", "zero", "six"], outputs: ["c"])
        ]
        if divideFirst {
            return head + [
                Node(opType: "Div", inputs: ["c", "six"], outputs: ["d"]), Node(opType: "Mul", inputs: ["x", "d"], outputs: ["y"])
            ]
        }
        return head + [
            Node(opType: "Mul", inputs: ["c", "x"], outputs: ["m"]), Node(opType: "Div", inputs: ["m", "six"], outputs: ["y"])
        ]
    }

    @Test(arguments: [false, true]) func hardSwishChainsBecomeOneNode(divideFirst: Bool) {
        let rewritten = HardSwishPattern.rewrite(spelledHardSwish(divideFirst: divideFirst), constants: constants, keeping: ["y"])
        #expect(rewritten == [Node(opType: "HardSwish", name: "add", inputs: ["x"], outputs: ["y"])])
    }

    @Test func hardSwishChainsWithAKeptOrWrongStepStay() {
        let nodes = spelledHardSwish(divideFirst: false)
        #expect(HardSwishPattern.rewrite(nodes, constants: constants, keeping: ["y", "c"]) == nodes)
        var wrongBound = nodes
        wrongBound[1].inputs[2] = "three"
        #expect(HardSwishPattern.rewrite(wrongBound, constants: constants, keeping: ["y"]) == wrongBound)
    }

    @Test func shapeOfAFixedInputHonoursStartAndEnd() {
        func shape(_ attributes: [Attribute]) -> [Int]? {
            Foldability.shape(Node(opType: "Shape", inputs: ["x"], outputs: ["s"], attributes: attributes), of: [1, 3, 224, 224])
        }
        #expect(shape([]) == [1, 3, 224, 224])
        #expect(shape([Attribute("start", .int(-2))]) == [224, 224])
        #expect(shape([Attribute("start", .int(1)), Attribute("end", .int(-1))]) == [3, 224])
        #expect(shape([Attribute("start", .int(3)), Attribute("end", .int(1))]) == [])
        #expect(Foldability.shape(Node(opType: "Size", inputs: ["x"], outputs: ["s"]), of: [2]) == nil)
        #expect(!Foldability.isDeterministic(Node(opType: "RandomNormalLike", inputs: ["x"], outputs: ["r"])))
        #expect(Foldability.isDeterministic(Node(opType: "Relu", inputs: ["x"], outputs: ["r"])))
    }

    @Test func batchNormFoldsIntoConvolutionWeightsAndBias() throws {
        // Conv with 2 output channels of 1x1x2 weights, then BN (gamma, beta, mean, var).
        let tensors = [
            "w": Tensor(name: "w", floats: [1, 2, 3, 4], shape: [2, 2, 1, 1]),
            "b": Tensor(name: "b", floats: [0.5, -1], shape: [2]),
            "g": Tensor(name: "g", floats: [2, 3], shape: [2]), "beta": Tensor(name: "beta", floats: [1, 0], shape: [2]),
            "mean": Tensor(name: "mean", floats: [0.25, 1], shape: [2]), "var": Tensor(name: "var", floats: [3, 8], shape: [2])
        ]
        let constants = Constants(tensors)
        let conv = Node(opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"])
        let bn = Node(
            opType: "BatchNormalization", inputs: ["c", "g", "beta", "mean", "var"], outputs: ["y"],
            attributes: [Attribute("epsilon", .float(1))])
        var fold = AffineFold(producer: conv, constants: constants, inputRank: 4)
        let m = try #require(fold.channels)
        let affine = try #require(ChannelAffine(bn, input: "c", channels: m, rank: fold.convolutionRank, constants: constants))
        let applied = fold.apply(affine, output: "y", name: { "new_" + $0 })
        #expect(applied)
        #expect(fold.producer.inputs == ["x", "new_weight", "new_bias"])
        #expect(fold.producer.outputs == ["y"])
        // scale = g / sqrt(var + eps) = [1, 1]; shift = beta - mean * scale.
        let s: [Float] = [2 / 2, 3 / 3]
        #expect(fold.created.first { $0.name == "new_weight" }?.floatValues == [1 * s[0], 2 * s[0], 3 * s[1], 4 * s[1]])
        #expect(
            fold.created.first { $0.name == "new_bias" }?.floatValues == [0.5 * s[0] + 1 - 0.25 * s[0], -1 * s[1] + 0 - 1 * s[1]])
        // A Mul by a value that is not per channel does not fold.
        let mul = Node(opType: "Mul", inputs: ["c", "x"], outputs: ["z"])
        #expect(ChannelAffine(mul, input: "c", channels: m, rank: fold.convolutionRank, constants: constants) == nil)
    }
}
