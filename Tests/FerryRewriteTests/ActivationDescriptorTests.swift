import FerryIR
import FerryRewrite
import Testing

@Suite struct ActivationDescriptorTests {
    private let constants = Constants([
        "zero": Tensor(name: "zero", floats: [0], shape: []),
        "six": Tensor(name: "six", floats: [6], shape: [1]),
        "pair": Tensor(name: "pair", floats: [0, 6], shape: [2])
    ])

    private func descriptor(_ op: String, _ inputs: [String] = ["x"], _ attributes: [Attribute] = [], opset: Int64 = 13)
        -> ActivationDescriptor?
    {
        ActivationDescriptor(
            Node(opType: op, inputs: inputs, outputs: ["y"], attributes: attributes), opset: opset, constants: constants)
    }

    @Test func readsEachActivationWithTheSpecDefaults() {
        #expect(descriptor("Relu") == ActivationDescriptor(.relu))
        #expect(descriptor("Sigmoid") == ActivationDescriptor(.sigmoid))
        #expect(descriptor("HardSwish") == ActivationDescriptor(.hardSwish))
        #expect(descriptor("LeakyRelu") == ActivationDescriptor(.leakyRelu, alpha: 0.01))
        #expect(descriptor("LeakyRelu", ["x"], [Attribute("alpha", .float(0.3))]) == ActivationDescriptor(.leakyRelu, alpha: 0.3))
        #expect(descriptor("HardSigmoid") == ActivationDescriptor(.hardSigmoid, alpha: 0.2, beta: 0.5))
        #expect(descriptor("Tanh") == ActivationDescriptor(.tanh))
        #expect(descriptor("Swish") == ActivationDescriptor(.swish, alpha: 1))
        #expect(descriptor("Swish", ["x"], [Attribute("alpha", .float(1.702))]) == ActivationDescriptor(.swish, alpha: 1.702))
        #expect(descriptor("Gelu") == ActivationDescriptor(.gelu))
        #expect(
            descriptor("Gelu", ["x"], [Attribute("approximate", .string(Array("tanh".utf8)))])
                == ActivationDescriptor(.gelu, alpha: 1))
        #expect(descriptor("Gelu", ["x"], [Attribute("approximate", .string(Array("cubic".utf8)))]) == nil)
        #expect(descriptor("Elu") == nil)
        #expect(
            ActivationDescriptor(
                Node(opType: "Relu", domain: "com.example", inputs: ["x"], outputs: ["y"]), opset: 13,
                constants: constants) == nil)
    }

    @Test func clipBoundsComeFromInputsFromOpset11AndAttributesBefore() {
        let widest = Float.greatestFiniteMagnitude
        #expect(descriptor("Clip", ["x", "zero", "six"]) == ActivationDescriptor(.clip, alpha: 0, beta: 6))
        #expect(descriptor("Clip", ["x", "", "six"]) == ActivationDescriptor(.clip, alpha: -widest, beta: 6))
        #expect(descriptor("Clip", ["x", "zero"]) == ActivationDescriptor(.clip, alpha: 0, beta: widest))
        #expect(descriptor("Clip") == ActivationDescriptor(.clip, alpha: -widest, beta: widest))
        // A bound computed at run time, or not a scalar, cannot be fused.
        #expect(descriptor("Clip", ["x", "runtime"]) == nil)
        #expect(descriptor("Clip", ["x", "pair"]) == nil)
        #expect(
            descriptor("Clip", ["x"], [Attribute("min", .float(-1))], opset: 6)
                == ActivationDescriptor(.clip, alpha: -1, beta: widest))
    }

    @Test func roundTripsThroughFusedConvAttributes() throws {
        for d in [
            ActivationDescriptor(.relu), ActivationDescriptor(.sigmoid), ActivationDescriptor(.leakyRelu, alpha: 0.2),
            ActivationDescriptor(.hardSigmoid, alpha: 0.1, beta: 0.4), ActivationDescriptor(.clip, alpha: -1, beta: 3),
            ActivationDescriptor(.tanh)
        ] {
            let attributes = try #require(d.fusedConvAttributes)
            let node = Node(
                opType: "FusedConv", domain: Domain.microsoft, inputs: ["x", "w"], outputs: ["y"], attributes: attributes)
            let name = try #require(node.string("activation"))
            #expect(ActivationDescriptor(fusedConvActivation: name, parameters: node.floats("activation_params") ?? []) == d)
        }
        for kind in [ActivationDescriptor.Kind.hardSwish, .swish, .gelu] {
            #expect(ActivationDescriptor(kind).fusedConvAttributes == nil)
            #expect(
                ActivationDescriptor(
                    fusedConvActivation: kind.rawValue, parameters: [Float](repeating: 1, count: kind.parameterCount)) == nil)
        }
        #expect(ActivationDescriptor(fusedConvActivation: "Clip", parameters: [0]) == nil)
    }
}
