import FerryIR
import FerryPasses
import FerryRuntime
import Testing

/// Builds small float32 models node by node, with seeded pseudo-random weights.
private struct ModelBuilder {
    var nodes: [Node] = []
    var initializers: [Tensor] = []
    var seed: UInt64 = 12345

    mutating func random(_ count: Int) -> [Float] {
        (0..<count).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(seed >> 40) % 2001 - 1000) / 1000
        }
    }

    /// A constant of `shape`; random values unless given, with the `zero` indices along axis 0 zeroed.
    @discardableResult
    mutating func constant(_ name: String, _ shape: [Int], _ values: [Float]? = nil, zeroRows: [Int] = []) -> String {
        var v = values ?? random(shape.reduce(1, *))
        let row = shape.dropFirst().reduce(1, *)
        for r in zeroRows { for k in 0..<row { v[r * row + k] = 0 } }
        initializers.append(Tensor(name: name, floats: v, shape: shape))
        return name
    }

    mutating func node(_ op: String, _ name: String, _ inputs: [String], _ attributes: [Attribute] = []) -> String {
        nodes.append(Node(opType: op, name: name, inputs: inputs, outputs: [name], attributes: attributes))
        return name
    }

    /// A Conv with a random weight [out, in/group, k, k] and bias, both zero for `zero` channels.
    mutating func conv(
        _ name: String, _ x: String, out: Int, in c: Int, k: Int = 3, group: Int = 1, pad: Int = 1, zero: [Int] = []
    ) -> String {
        let w = constant(name + "_w", [out, c / group, k, k], zeroRows: zero)
        let b = constant(name + "_b", [out], zeroRows: zero)
        return node(
            "Conv", name, [x, w, b],
            [Attribute("group", .int(Int64(group))), Attribute("pads", .ints([Int64]((0..<4).map { _ in Int64(pad) })))])
    }

    /// BatchNormalization whose output is exactly 0 for a zero input on the `zero` channels.
    mutating func batchNorm(_ name: String, _ x: String, channels: Int, zero: [Int]) -> String {
        let scale = constant(name + "_scale", [channels], random(channels).map { abs($0) + 0.5 })
        let bias = constant(name + "_bias", [channels], zeroRows: zero)
        let mean = constant(name + "_mean", [channels], zeroRows: zero)
        let variance = constant(name + "_var", [channels], random(channels).map { abs($0) + 0.5 })
        return node("BatchNormalization", name, [x, scale, bias, mean, variance])
    }

    func model(input shape: [Int], outputs: [String]) -> Model {
        Model(
            irVersion: 8, opsetImports: [OpsetID(domain: "", version: 17)],
            graph: Graph(
                name: "g", nodes: nodes, initializers: initializers,
                inputs: [ValueInfo(name: "x", type: TypeInfo(.tensor(.float, shape: shape.map { Dim.fixed(Int64($0)) })))],
                outputs: outputs.map { ValueInfo(name: $0, type: nil) }))
    }
}

private func weight(_ model: Model, _ name: String) -> Tensor {
    model.graph.initializers.first { $0.name == name }!
}

/// Runs `model` on a fixed pseudo-random input; returns each output's values.
private func outputs(_ model: Model, input shape: [Int]) throws -> [[Float]] {
    var b = ModelBuilder(seed: 99)
    let x = Tensor(name: "x", floats: b.random(shape.reduce(1, *)), shape: shape)
    return try InferenceSession(model: model).run(["x": x]).map { $0.tensor.floatValues! }
}

/// Prunes channels at `sparsity` and checks the outputs did not move (the removed channels were zero).
private func pruneKeepingOutputs(_ model: Model, input shape: [Int], sparsity: Double = 0.5) throws -> (Model, PruneReport) {
    var pruned = model
    let report = try Pruning.prune(&pruned, options: PruneOptions(sparsity: sparsity, method: .channels, minElements: 0))
    try ModelValidator.validate(pruned)
    let before = try outputs(model, input: shape), after = try outputs(pruned, input: shape)
    for (a, b) in zip(before, after) {
        #expect(a.count == b.count)
        #expect(zip(a, b).map { abs($0 - $1) }.max()! <= 1e-5)
    }
    return (pruned, report)
}

/// Elements of `t` at the given indices along `axis`.
private func rows(_ t: Tensor, axis: Int, _ keep: [Int]) -> [Float] {
    let v = t.floatValues!, n = t.shape[axis], inner = t.shape[(axis + 1)...].reduce(1, *), outer = t.shape[..<axis].reduce(1, *)
    var out: [Float] = []
    for a in 0..<outer {
        for k in keep {
            let start = (a * n + k) * inner
            out += v[start..<(start + inner)]
        }
    }
    return out
}

@Suite struct MagnitudePruneTests {
    /// x [1, 4] -> MatMul w1 [4, 2] -> MatMul w2 [2, 3] -> y.
    private func model(_ w1: [Float], _ w2: [Float]) -> Model {
        var b = ModelBuilder()
        b.constant("w1", [4, 2], w1)
        b.constant("w2", [2, 3], w2)
        let h = b.node("MatMul", "mm1", ["x", "w1"])
        let output = b.node("MatMul", "mm2", [h, "w2"])
        return b.model(input: [1, 4], outputs: [output])
    }

    @Test func layerScopeZeroesExactlyTheSmallestWithTiesInIndexOrder() throws {
        // w1: 4 of 8 go: 0.5 (index 5), then the three 1s (indices 1, 3, 6).
        // w2: 3 of 6 go: four weights of magnitude 1 tie; the first three (0, 1, 3) go.
        var m = model([3, -1, 2, 1, -2, 0.5, 1, 4], [1, -1, 5, 1, 1, 2])
        let report = try Pruning.prune(&m, options: PruneOptions(sparsity: 0.5, minElements: 0))
        #expect(weight(m, "w1").floatValues == [3, 0, 2, 0, -2, 0, 0, 4])
        #expect(weight(m, "w2").floatValues == [0, 0, 5, 0, 1, 2])
        #expect(report.layers.map(\.zerosFraction) == [0.5, 0.5])
        #expect(report.layers.map(\.shapeAfter) == [[4, 2], [2, 3]])
        #expect(report.prunedWeightsZerosFraction == 0.5)
        #expect(report.after.nonzeroParameters == 7)
        #expect(report.before.multiplyAdds == 8 + 6)
    }

    @Test func layerScopeRoundsEachTensorsShare() throws {
        // 0.3 of 8 is 2.4 -> 2 zeros; 0.3 of 6 is 1.8 -> 2 zeros.
        var m = model([1, 2, 3, 4, 5, 6, 7, 8], [6, 5, 4, 3, 2, 1])
        _ = try Pruning.prune(&m, options: PruneOptions(sparsity: 0.3, minElements: 0))
        #expect(weight(m, "w1").floatValues == [0, 0, 3, 4, 5, 6, 7, 8])
        #expect(weight(m, "w2").floatValues == [6, 5, 4, 3, 0, 0])
    }

    @Test func globalScopeUsesOneThresholdAndAnExactTotal() throws {
        // 7 of 14 go; w1 holds the 7 smallest, so w2 keeps everything.
        var m = model([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 9], [1, -2, 3, 4, 5, 6])
        let report = try Pruning.prune(&m, options: PruneOptions(sparsity: 0.5, scope: .global, minElements: 0))
        #expect(weight(m, "w1").floatValues == [0, 0, 0, 0, 0, 0, 0, 9])
        #expect(weight(m, "w2").floatValues == [1, -2, 3, 4, 5, 6])
        #expect(report.layers.map(\.zerosFraction) == [7.0 / 8, 0])
        #expect(report.prunedWeightsZerosFraction == 0.5)
    }

    @Test func globalTiesGoInTensorThenIndexOrder() throws {
        var m = model([Float](repeating: -1, count: 8), [Float](repeating: 1, count: 6))
        _ = try Pruning.prune(&m, options: PruneOptions(sparsity: 0.5, scope: .global, minElements: 0))
        #expect(weight(m, "w1").floatValues == [0, 0, 0, 0, 0, 0, 0, -1])
        #expect(weight(m, "w2").floatValues == [Float](repeating: 1, count: 6))
    }

    @Test func smallAndExcludedWeightsStayDense() throws {
        var m = model([1, 2, 3, 4, 5, 6, 7, 8], [6, 5, 4, 3, 2, 1])
        let report = try Pruning.prune(&m, options: PruneOptions(sparsity: 0.5, minElements: 7, exclude: ["mm1"]))
        #expect(report.layers.map(\.reason) == ["excluded", "6 elements, fewer than 7"])
        #expect(report.layers.allSatisfy { !$0.pruned })
        #expect(weight(m, "w1").floatValues == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test func badOptionsAreRefused() {
        var m = model([1, 2, 3, 4, 5, 6, 7, 8], [6, 5, 4, 3, 2, 1])
        #expect(throws: PassError.invalidOption(option: "sparsity", reason: "1.0 is outside [0, 1)")) {
            try Pruning.prune(&m, options: PruneOptions(sparsity: 1))
        }
        #expect(
            throws: PassError.invalidOption(
                option: "exclude", reason: "'nope' is neither a node name nor an op type of the model")
        ) {
            try Pruning.prune(&m, options: PruneOptions(sparsity: 0.5, exclude: ["nope"]))
        }
    }

    @Test func sparseStorageKeepsTheValuesAndTheOutputs() throws {
        var half = model([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 9], [1, -2, 3, 4, 5, 6])
        _ = try Pruning.prune(&half, options: PruneOptions(sparsity: 0.5, minElements: 0))
        // Half nonzero: 12 bytes per nonzero is more than 4 per element, so both stay dense.
        #expect(SparseStorage.convert(&half, names: ["w1", "w2"]).isEmpty)
        var m = model([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 9], [1, -2, 3, 4, 5, 6])
        _ = try Pruning.prune(&m, options: PruneOptions(sparsity: 0.75, minElements: 0))
        var sparse = m
        #expect(SparseStorage.convert(&sparse, names: ["w1", "w2"]) == ["w1", "w2"])
        let s = sparse.graph.sparseInitializers[0]
        #expect(s.shape == [4, 2])
        #expect(s.values.floatValues == [0.7, 9])
        #expect(s.indices.bytes!.toArray(of: Int64.self) == [6, 7])
        #expect(sparse.graph.initializers.isEmpty)
        #expect(try outputs(sparse, input: [1, 4]) == outputs(m, input: [1, 4]))
    }
}

@Suite struct ChannelPruneTests {
    @Test func convBatchNormReluConv() throws {
        var b = ModelBuilder()
        let zero = [1, 4, 6, 7]
        let c1 = b.conv("c1", "x", out: 8, in: 3, zero: zero)
        let r = b.node("Relu", "r", [b.batchNorm("bn", c1, channels: 8, zero: zero)])
        let output = b.conv("c2", r, out: 4, in: 8)
        let model = b.model(input: [1, 3, 6, 6], outputs: [output])
        let (m, report) = try pruneKeepingOutputs(model, input: [1, 3, 6, 6])
        let kept = [0, 2, 3, 5]
        #expect(weight(m, "c1_w").shape == [4, 3, 3, 3])
        #expect(weight(m, "c1_w").floatValues! == rows(weight(model, "c1_w"), axis: 0, kept))
        #expect(weight(m, "c1_b").floatValues! == rows(weight(model, "c1_b"), axis: 0, kept))
        for p in ["scale", "bias", "mean", "var"] {
            #expect(weight(m, "bn_" + p).floatValues! == rows(weight(model, "bn_" + p), axis: 0, kept))
        }
        #expect(weight(m, "c2_w").shape == [4, 4, 3, 3])
        #expect(weight(m, "c2_w").floatValues! == rows(weight(model, "c2_w"), axis: 1, kept))
        #expect(report.layers.map(\.channelsKept) == [4, 4])
        #expect(report.layers[1].reason!.contains("reaches the graph output 'c2'"))
        #expect(report.after.multiplyAdds! < report.before.multiplyAdds!)
        #expect(report.after.parameters < report.before.parameters)
    }

    @Test func concatOfTwoBranches() throws {
        var b = ModelBuilder()
        let a = b.node("Relu", "ra", [b.conv("ca", "x", out: 6, in: 3, k: 1, pad: 0, zero: [0, 3, 5])])
        let c = b.node("Relu", "rb", [b.conv("cb", "x", out: 4, in: 3, k: 1, pad: 0, zero: [1, 2])])
        let cat = b.node("Concat", "cat", [a, c], [Attribute("axis", .int(1))])
        let output = b.conv("cc", cat, out: 3, in: 10, k: 1, pad: 0)
        let model = b.model(input: [1, 3, 4, 4], outputs: [output])
        let (m, _) = try pruneKeepingOutputs(model, input: [1, 3, 4, 4])
        #expect(weight(m, "ca_w").shape == [3, 3, 1, 1])
        #expect(weight(m, "cb_w").shape == [2, 3, 1, 1])
        // Branch a keeps 1, 2, 4; branch b keeps 0, 3, at 6 + 0 and 6 + 3 of the concatenation.
        #expect(weight(m, "cc_w").floatValues! == rows(weight(model, "cc_w"), axis: 1, [1, 2, 4, 6, 9]))
    }

    @Test func residualAddIsPrunedWithOneSharedMask() throws {
        var b = ModelBuilder()
        let shared = [0, 2, 5, 6]
        let h = b.node("Relu", "r0", [b.conv("c0", "x", out: 8, in: 4, zero: shared)])
        let t = b.node("Relu", "r1", [b.conv("c1", h, out: 8, in: 8, zero: [1, 3, 4, 7])])
        let u = b.conv("c2", t, out: 8, in: 8, zero: shared)
        let sum = b.node("Relu", "r2", [b.node("Add", "add", [h, u])])
        let output = b.conv("c3", sum, out: 2, in: 8, k: 1, pad: 0)
        let model = b.model(input: [1, 4, 6, 6], outputs: [output])
        let (m, report) = try pruneKeepingOutputs(model, input: [1, 4, 6, 6])
        #expect(weight(m, "c0_w").shape == [4, 4, 3, 3])
        // c1 keeps outputs 0, 2, 5, 6 and reads the group's kept 1, 3, 4, 7; c2 the other way round.
        let c1 = Tensor(name: "", floats: rows(weight(model, "c1_w"), axis: 0, [0, 2, 5, 6]), shape: [4, 8, 3, 3])
        #expect(weight(m, "c1_w").floatValues! == rows(c1, axis: 1, [1, 3, 4, 7]))
        let c2 = Tensor(name: "", floats: rows(weight(model, "c2_w"), axis: 0, [1, 3, 4, 7]), shape: [4, 8, 3, 3])
        #expect(weight(m, "c2_w").floatValues! == rows(c2, axis: 1, [0, 2, 5, 6]))
        #expect(weight(m, "c3_w").floatValues! == rows(weight(model, "c3_w"), axis: 1, [1, 3, 4, 7]))
        let group = report.groups.first { $0.layers == ["c0", "c2"] }
        #expect(group?.pruned == true && group?.kept == 4 && group?.channels == 8)
    }

    @Test func residualWithTheGraphInputIsLeftAlone() throws {
        var b = ModelBuilder()
        let sum = b.node("Add", "add", ["x", b.conv("c0", "x", out: 4, in: 4)])
        let output = b.conv("c1", sum, out: 2, in: 4)
        let model = b.model(input: [1, 4, 5, 5], outputs: [output])
        let (m, report) = try pruneKeepingOutputs(model, input: [1, 4, 5, 5])
        #expect(weight(m, "c0_w").shape == [4, 4, 3, 3])
        #expect(report.groups.count == 1)
        #expect(report.groups[0].pruned == false)
        #expect(report.groups[0].reason!.contains("whose channels cannot be removed"))
        #expect(report.layers[0].reason!.contains("Add 'add'"))
    }

    @Test func depthwiseFollowsItsInput() throws {
        var b = ModelBuilder()
        let zero = [2, 3, 5, 7]
        let c1 = b.conv("c1", "x", out: 8, in: 3, k: 1, pad: 0, zero: zero)
        let r1 = b.node("Relu", "r1", [b.batchNorm("bn", c1, channels: 8, zero: zero)])
        let dw = b.node("Relu", "r2", [b.conv("dw", r1, out: 8, in: 8, group: 8, zero: zero)])
        let output = b.conv("c2", dw, out: 4, in: 8, k: 1, pad: 0)
        let model = b.model(input: [1, 3, 5, 5], outputs: [output])
        let (m, report) = try pruneKeepingOutputs(model, input: [1, 3, 5, 5])
        let kept = [0, 1, 4, 6]
        #expect(weight(m, "dw_w").shape == [4, 1, 3, 3])
        #expect(weight(m, "dw_w").floatValues! == rows(weight(model, "dw_w"), axis: 0, kept))
        #expect(weight(m, "dw_b").floatValues! == rows(weight(model, "dw_b"), axis: 0, kept))
        #expect(m.graph.nodes.first { $0.name == "dw" }!.int("group", 0) == 4)
        #expect(weight(m, "c2_w").floatValues! == rows(weight(model, "c2_w"), axis: 1, kept))
        #expect(report.layers.first { $0.node == "dw" }!.reason!.contains("depthwise"))
    }

    @Test func globalPoolFlattenGemm() throws {
        var b = ModelBuilder()
        let r = b.node("Relu", "r", [b.conv("c", "x", out: 8, in: 3, zero: [0, 1, 6, 7])])
        let flat = b.node("Flatten", "flat", [b.node("GlobalAveragePool", "gap", [r])], [Attribute("axis", .int(1))])
        b.constant("fc_w", [8, 5])
        b.constant("fc_b", [5])
        let output = b.node("Gemm", "fc", [flat, "fc_w", "fc_b"])
        let model = b.model(input: [1, 3, 5, 5], outputs: [output])
        let (m, report) = try pruneKeepingOutputs(model, input: [1, 3, 5, 5])
        #expect(weight(m, "c_w").shape == [4, 3, 3, 3])
        #expect(weight(m, "fc_w").floatValues! == rows(weight(model, "fc_w"), axis: 0, [2, 3, 4, 5]))
        #expect(weight(m, "fc_b").shape == [5])
        #expect(report.layers.map(\.shapeAfter) == [[4, 3, 3, 3], [4, 5]])
    }

    @Test func reshapeToAComputedBatchAndAConstantChannelCount() throws {
        // Reshape(gap, Concat(Shape(gap)[0:1], [8])) -> MatMul: the constant 8 becomes 4.
        var b = ModelBuilder()
        let r = b.node("Relu", "r", [b.conv("c", "x", out: 8, in: 3, zero: [1, 2, 5, 6])])
        let gap = b.node("GlobalAveragePool", "gap", [r])
        b.initializers += [
            Tensor(name: "zero", elementType: .int64, shape: [1], values: [Int64(0)]),
            Tensor(name: "one", elementType: .int64, shape: [1], values: [Int64(1)]),
            Tensor(name: "channels", elementType: .int64, shape: [1], values: [Int64(8)])
        ]
        let batch = b.node("Slice", "batch", [b.node("Shape", "shape", [gap]), "zero", "one"])
        let target = b.node("Concat", "target", [batch, "channels"], [Attribute("axis", .int(0))])
        b.constant("fc_w", [8, 3])
        let output = b.node("MatMul", "fc", [b.node("Reshape", "flat", [gap, target]), "fc_w"])
        let model = b.model(input: [1, 3, 5, 5], outputs: [output])
        let (m, _) = try pruneKeepingOutputs(model, input: [1, 3, 5, 5])
        #expect(weight(m, "channels").bytes!.toArray(of: Int64.self) == [4])
        #expect(weight(m, "fc_w").floatValues! == rows(weight(model, "fc_w"), axis: 0, [0, 3, 4, 7]))
    }

    @Test func spatialFlattenCutsBlocksOfRows() throws {
        // Flatten of [1, 4, 3, 3]: channel c is columns 9c ..< 9c + 9 of the Gemm input.
        var b = ModelBuilder()
        let r = b.node("Relu", "r", [b.conv("c", "x", out: 4, in: 3, pad: 0, zero: [1, 2])])
        let flat = b.node("Flatten", "flat", [r], [Attribute("axis", .int(1))])
        b.constant("fc_w", [5, 36])
        let output = b.node("Gemm", "fc", [flat, "fc_w"], [Attribute("transB", .int(1))])
        let model = b.model(input: [1, 3, 5, 5], outputs: [output])
        let (m, _) = try pruneKeepingOutputs(model, input: [1, 3, 5, 5])
        #expect(weight(m, "fc_w").floatValues! == rows(weight(model, "fc_w"), axis: 1, Array(0..<9) + Array(27..<36)))
    }

    @Test func equalNormsRemoveTheLowerChannelsFirst() throws {
        var b = ModelBuilder()
        b.constant("c_w", [4, 3, 1, 1], [1, 1, 1, -1, -1, -1, 1, -1, 1, 0.5, 0.5, 2])
        let r = b.node("Relu", "r", [b.node("Conv", "c", ["x", "c_w"])])
        b.constant("d_w", [2, 4, 1, 1])
        let output = b.node("Conv", "d", [r, "d_w"])
        let model = b.model(input: [1, 3, 2, 2], outputs: [output])
        var m = model
        _ = try Pruning.prune(&m, options: PruneOptions(sparsity: 0.5, method: .channels, minElements: 0))
        // Every filter has L1 norm 3: channels 0 and 1 go.
        #expect(weight(m, "c_w").floatValues == [1, -1, 1, 0.5, 0.5, 2])
        #expect(weight(m, "d_w").floatValues! == rows(weight(model, "d_w"), axis: 1, [2, 3]))
    }

    @Test func excludedLayerKeepsItsChannelsAndUnclearConsumersBlock() throws {
        var b = ModelBuilder()
        let c1 = b.node("Relu", "r1", [b.conv("c1", "x", out: 4, in: 3)])
        let c2 = b.node("LRN", "lrn", [b.conv("c2", c1, out: 4, in: 4)], [Attribute("size", .int(3))])
        let output = b.conv("c3", c2, out: 2, in: 4)
        let model = b.model(input: [1, 3, 5, 5], outputs: [output])
        var m = model
        let report = try Pruning.prune(
            &m, options: PruneOptions(sparsity: 0.5, method: .channels, minElements: 0, exclude: ["c1"]))
        #expect(
            report.layers.map(\.reason) == [
                "excluded", "feeds LRN 'lrn', whose channel mapping is unclear", "reaches the graph output 'c3'"
            ])
        #expect(m.graph.initializers == model.graph.initializers)
    }

    @Test func reshapeMixingChannelsBlocks() throws {
        var b = ModelBuilder()
        let c = b.conv("c", "x", out: 4, in: 3, pad: 0)
        b.initializers.append(Tensor(name: "shape", elementType: .int64, shape: [3], values: [Int64(1), 2, 18]))
        let r = b.node("Reshape", "reshape", [c, "shape"])
        let output = b.node("Relu", "y", [r])
        let model = b.model(input: [1, 3, 5, 5], outputs: [output])
        var m = model
        let report = try Pruning.prune(&m, options: PruneOptions(sparsity: 0.5, method: .channels, minElements: 0))
        #expect(weight(m, "c_w") == weight(model, "c_w"))
        #expect(report.layers[0].pruned == false)
        #expect(report.layers[0].reason == "Reshape 'reshape' mixes the channels with other axes")
    }
}
