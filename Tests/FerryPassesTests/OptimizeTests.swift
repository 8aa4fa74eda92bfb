import FerryIR
import FerryPasses
import FerryRuntime
import Testing

@Suite struct OptimizeTests {
    private let pads = Attribute("pads", .ints([1, 1, 1, 1]))

    @Test func identityAndDropoutGoAndOutputNamesStay() throws {
        let m = Build.model(
            [
                Node(opType: "Identity", name: "id", inputs: ["x"], outputs: ["a"]),
                Node(opType: "Relu", name: "relu", inputs: ["a"], outputs: ["b"]),
                Node(opType: "Dropout", name: "drop", inputs: ["b"], outputs: ["y", "mask"]),
                Node(opType: "Identity", name: "passthrough", inputs: ["x"], outputs: ["z"])
            ],
            inputs: [("x", [2, 3])], outputs: ["y", "z"])
        let o = try optimizedKeepingOutputs(m, passes: [IdentityElimination()])
        // The Dropout wrote a graph output: Relu now writes it. x -> z has no producer to rename.
        #expect(o.graph.nodes.map(\.opType) == ["Relu", "Identity"])
        #expect(o.graph.nodes[0].inputs == ["x"])
        #expect(o.graph.nodes[0].outputs == ["y"])
        #expect(o.graph.outputs.map(\.name) == ["y", "z"])
    }

    @Test func dropoutInTrainingModeOrWithAReadMaskStays() throws {
        let m = Build.model(
            [
                Node(opType: "Dropout", name: "d1", inputs: ["x", "", "train"], outputs: ["a"]),
                Node(opType: "Dropout", name: "d2", inputs: ["a"], outputs: ["b", "mask"]),
                Node(opType: "Cast", name: "cast", inputs: ["mask"], outputs: ["m"], attributes: [Attribute("to", .int(1))]),
                Node(opType: "Add", name: "add", inputs: ["b", "m"], outputs: ["y"])
            ],
            initializers: [Tensor(name: "train", elementType: .bool, shape: [], values: [UInt8(1)])],
            inputs: [("x", [4])], outputs: ["y"])
        var o = m
        #expect(try IdentityElimination().apply(to: &o) == 0)
    }

    @Test func constantsFoldThroughTheInterpreter() throws {
        let two = Tensor(name: "", floats: [2], shape: [])
        let nodes = [
            Node(opType: "Constant", name: "c", inputs: [], outputs: ["two"], attributes: [Attribute("value", .tensor(two))]),
            Node(opType: "Mul", name: "scale", inputs: ["w", "two"], outputs: ["w2"]),
            Node(opType: "Shape", name: "shape", inputs: ["x"], outputs: ["s"]),
            Node(opType: "Reshape", name: "flat", inputs: ["x", "s"], outputs: ["xs"]),
            Node(opType: "Add", name: "add", inputs: ["xs", "w2"], outputs: ["y"]),
            // 4 MB of zeros from 16 bytes: beyond the growth limit, stays a ConstantOfShape.
            Node(opType: "ConstantOfShape", name: "big", inputs: ["bigShape"], outputs: ["zeros"]),
            Node(
                opType: "ReduceSum", name: "sum", inputs: ["zeros"], outputs: ["total"],
                attributes: [Attribute("keepdims", .int(0))]),
            Node(opType: "Add", name: "out2", inputs: ["total", "zero"], outputs: ["y2"])
        ]
        let m = Build.model(
            nodes,
            initializers: [
                Build.random("w", [2, 3], seed: 1),
                Tensor(name: "bigShape", elementType: .int64, shape: [2], values: [Int64(1024), 1024]),
                Tensor(name: "zero", floats: [0], shape: [1])
            ],
            inputs: [("x", [2, 3])], outputs: ["y", "y2"])
        let o = try optimizedKeepingOutputs(m, passes: [ConstantFolding(), DeadCodeElimination()])
        #expect(o.graph.nodes.map(\.name) == ["flat", "add", "big", "sum", "out2"])
        // Shape of the fixed-shape input became [2, 3]; w * 2 became an initializer.
        let shape = o.graph.initializer(named: "s")
        #expect(shape?.bytes?.toArray(of: Int64.self) == [2, 3])
        let w = try #require(m.graph.initializer(named: "w")?.floatValues)
        #expect(o.graph.initializer(named: "w2")?.floatValues == w.map { $0 * 2 })
        #expect(o.graph.initializer(named: "w") == nil)
        // Random ops differ from run to run: never folded.
        var random = Build.model(
            [
                Node(
                    opType: "RandomUniform", name: "noise", inputs: [], outputs: ["r"],
                    attributes: [Attribute("shape", .ints([1]))]),
                Node(opType: "Add", name: "add", inputs: ["x", "r"], outputs: ["y"])
            ],
            inputs: [("x", [1])], outputs: ["y"])
        #expect(try ConstantFolding().apply(to: &random) == 0)
    }

    @Test func overridableInitializersDoNotFold() throws {
        var m = Build.model(
            [
                Node(opType: "Neg", name: "neg", inputs: ["w"], outputs: ["n"]),
                Node(opType: "Add", name: "add", inputs: ["x", "n"], outputs: ["y"])
            ],
            initializers: [Build.random("w", [3], seed: 2)], inputs: [("x", [3]), ("w", [3])], outputs: ["y"])
        #expect(try ConstantFolding().apply(to: &m) == 0)
        // Before IR 4 a declared initializer is a constant.
        m.irVersion = 3
        #expect(try ConstantFolding().apply(to: &m) == 1)
        #expect(m.graph.inputs.map(\.name).contains("n"))
    }

    @Test func batchNormFoldsIntoConvWithAndWithoutBias() throws {
        for bias in [true, false] {
            let m = Build.model(
                [
                    Node(
                        opType: "Conv", name: "conv", inputs: ["x", "W"] + (bias ? ["B"] : []), outputs: ["c"], attributes: [pads]
                    ),
                    Node(
                        opType: "BatchNormalization", name: "bn", inputs: ["c", "bn_scale", "bn_bias", "bn_mean", "bn_var"],
                        outputs: ["y"], attributes: [Attribute("epsilon", .float(1e-3))])
                ],
                initializers: [Build.random("W", [4, 3, 3, 3], seed: 3), Build.random("B", [4], seed: 4)]
                    + Build.batchNorm("bn", 4, seed: 5),
                inputs: [("x", [1, 3, 6, 6])], outputs: ["y"])
            let o = try optimizedKeepingOutputs(m, passes: [BatchNormFolding(), DeadCodeElimination()])
            #expect(o.graph.nodes.map(\.opType) == ["Conv"])
            #expect(o.graph.nodes[0].outputs == ["y"])
            #expect(o.graph.initializers.count == 2)
        }
    }

    @Test func batchNormFoldsIntoGroupedConvTranspose() throws {
        // Weights [C_in = 4, M / group = 3, 3, 3] with 2 groups: 6 output channels.
        let m = Build.model(
            [
                Node(
                    opType: "ConvTranspose", name: "deconv", inputs: ["x", "W", "B"], outputs: ["c"],
                    attributes: [Attribute("group", .int(2)), Attribute("strides", .ints([2, 2]))]),
                Node(
                    opType: "BatchNormalization", name: "bn", inputs: ["c", "bn_scale", "bn_bias", "bn_mean", "bn_var"],
                    outputs: ["y"])
            ],
            initializers: [Build.random("W", [4, 3, 3, 3], seed: 6), Build.random("B", [6], seed: 7)]
                + Build.batchNorm("bn", 6, seed: 8),
            inputs: [("x", [1, 4, 5, 5])], outputs: ["y"])
        let o = try optimizedKeepingOutputs(m, passes: [BatchNormFolding(), DeadCodeElimination()])
        #expect(o.graph.nodes.map(\.opType) == ["ConvTranspose"])
    }

    @Test(arguments: [(0, true), (1, true), (1, false)])
    func batchNormFoldsIntoGemm(transB: Int, withC: Bool) throws {
        let b = transB == 1 ? [5, 3] : [3, 5]
        let m = Build.model(
            [
                Node(
                    opType: "Gemm", name: "gemm", inputs: ["x", "B"] + (withC ? ["C"] : []), outputs: ["g"],
                    attributes: [
                        Attribute("transB", .int(Int64(transB))), Attribute("alpha", .float(0.5)), Attribute("beta", .float(2))
                    ]),
                Node(
                    opType: "BatchNormalization", name: "bn", inputs: ["g", "bn_scale", "bn_bias", "bn_mean", "bn_var"],
                    outputs: ["y"])
            ],
            initializers: [Build.random("B", b, seed: 9), Build.random("C", [1, 5], seed: 10)]
                + Build.batchNorm("bn", 5, seed: 11),
            inputs: [("x", [4, 3])], outputs: ["y"])
        let o = try optimizedKeepingOutputs(m, passes: [BatchNormFolding(), DeadCodeElimination()])
        #expect(o.graph.nodes.map(\.opType) == ["Gemm"])
    }

    @Test func batchNormAfterMatMulBecomesScaledWeightsAndOneAdd() throws {
        let nodes = [
            Node(opType: "MatMul", name: "mm", inputs: ["x", "W"], outputs: ["p"]),
            Node(
                opType: "BatchNormalization", name: "bn", inputs: ["p", "bn_scale", "bn_bias", "bn_mean", "bn_var"],
                outputs: ["y"])
        ]
        let inits = [Build.random("W", [3, 5], seed: 12)] + Build.batchNorm("bn", 5, seed: 13)
        let o = try optimizedKeepingOutputs(
            Build.model(nodes, initializers: inits, inputs: [("x", [4, 3])], outputs: ["y"]),
            passes: [BatchNormFolding(), DeadCodeElimination()])
        #expect(o.graph.nodes.map(\.opType) == ["MatMul", "Add"])
        // A 3-D input's axis 1 is not the MatMul's column axis: nothing to fold.
        var m3 = Build.model(nodes, initializers: inits, inputs: [("x", [2, 5, 3])], outputs: ["y"])
        #expect(try BatchNormFolding().apply(to: &m3) == 0)
    }

    @Test func kerasStyleMulThenAddFoldIntoConv() throws {
        let m = Build.model(
            [
                Node(opType: "Conv", name: "conv", inputs: ["x", "W"], outputs: ["c"]),
                Node(opType: "Mul", name: "mul", inputs: ["k", "c"], outputs: ["s"]),
                Node(opType: "Add", name: "add", inputs: ["s", "t"], outputs: ["y"])
            ],
            initializers: [
                Build.random("W", [4, 2, 1, 1], seed: 14), Build.random("k", [1, 4, 1, 1], seed: 15),
                Build.random("t", [4, 1, 1], seed: 16)
            ],
            inputs: [("x", [1, 2, 3, 3])], outputs: ["y"])
        let o = try optimizedKeepingOutputs(m, passes: [BatchNormFolding(), DeadCodeElimination()])
        #expect(o.graph.nodes.map(\.opType) == ["Conv"])
        #expect(o.graph.nodes[0].inputs.count == 3)
    }

    @Test func sharedOrOutputIntermediatesAreNotFolded() throws {
        let inits = [Build.random("W", [4, 2, 1, 1], seed: 17)] + Build.batchNorm("bn", 4, seed: 18)
        let conv = Node(opType: "Conv", name: "conv", inputs: ["x", "W"], outputs: ["c"])
        let bn = Node(
            opType: "BatchNormalization", name: "bn", inputs: ["c", "bn_scale", "bn_bias", "bn_mean", "bn_var"], outputs: ["y"])
        var visible = Build.model([conv, bn], initializers: inits, inputs: [("x", [1, 2, 3, 3])], outputs: ["y", "c"])
        #expect(try BatchNormFolding().apply(to: &visible) == 0)
        var shared = Build.model(
            [conv, bn, Node(opType: "Relu", name: "r", inputs: ["c"], outputs: ["z"])],
            initializers: inits, inputs: [("x", [1, 2, 3, 3])], outputs: ["y", "z"])
        #expect(try BatchNormFolding().apply(to: &shared) == 0)
    }

    @Test func parametersOfTheWrongSizeAreLeftAlone() throws {
        let bn = Node(
            opType: "BatchNormalization", name: "bn", inputs: ["c", "bn_scale", "bn_bias", "bn_mean", "bn_var"], outputs: ["y"])
        let cases: [[Tensor]] = [
            [Build.random("W", [4, 2, 1, 1], seed: 30), Build.random("B", [3], seed: 31)] + Build.batchNorm("bn", 4, seed: 32),
            [Build.random("W", [4, 2, 1, 1], seed: 33), Build.random("B", [4], seed: 34)] + Build.batchNorm("bn", 3, seed: 35),
            [Tensor(name: "W", floats: [], shape: [0, 2, 1, 1]), Tensor(name: "B", floats: [], shape: [0])]
                + Build.batchNorm("bn", 0, seed: 36)
        ]
        for inits in cases {
            var m = Build.model(
                [Node(opType: "Conv", name: "conv", inputs: ["x", "W", "B"], outputs: ["c"]), bn],
                initializers: inits, inputs: [("x", [1, 2, 3, 3])], outputs: ["y"])
            #expect(try BatchNormFolding().apply(to: &m) == 0)
        }
    }

    @Test func convAndActivationFuseIntoFusedConv() throws {
        let acts: [(Node, [Tensor])] = [
            (Node(opType: "Relu", name: "act", inputs: ["c"], outputs: ["y"]), []),
            (
                Node(
                    opType: "LeakyRelu", name: "act", inputs: ["c"], outputs: ["y"], attributes: [Attribute("alpha", .float(0.3))]
                ), []
            ),
            (Node(opType: "HardSigmoid", name: "act", inputs: ["c"], outputs: ["y"]), []),
            (Node(opType: "Sigmoid", name: "act", inputs: ["c"], outputs: ["y"]), []),
            (Node(opType: "Tanh", name: "act", inputs: ["c"], outputs: ["y"]), []),
            (
                Node(opType: "Clip", name: "act", inputs: ["c", "lo", "hi"], outputs: ["y"]),
                [Tensor(name: "lo", floats: [-0.5], shape: []), Tensor(name: "hi", floats: [0.7], shape: [])]
            )
        ]
        for (act, extra) in acts {
            let m = Build.model(
                [Node(opType: "Conv", name: "conv", inputs: ["x", "W", "B"], outputs: ["c"], attributes: [pads]), act],
                initializers: [Build.random("W", [4, 3, 3, 3], seed: 19), Build.random("B", [4], seed: 20)] + extra,
                inputs: [("x", [1, 3, 5, 5])], outputs: ["y"])
            let o = try optimizedKeepingOutputs(m, passes: [ActivationFusion(), DeadCodeElimination()])
            #expect(o.graph.nodes.map(\.opType) == ["FusedConv"], "\(act.opType)")
            #expect(o.graph.nodes[0].domain == "com.microsoft")
            #expect(o.graph.nodes[0].attribute("activation") == .string(Array(act.opType.utf8)))
            #expect(o.opsetVersion(for: "com.microsoft") == 1)
        }
    }

    @Test func unfusableActivationAndOptedOutFusionLeaveConvAlone() throws {
        let conv = Node(opType: "Conv", name: "conv", inputs: ["x", "W"], outputs: ["c"])
        let inits = [Build.random("W", [2, 2, 1, 1], seed: 21)]
        var elu = Build.model(
            [conv, Node(opType: "Elu", name: "e", inputs: ["c"], outputs: ["y"])],
            initializers: inits, inputs: [("x", [1, 2, 2, 2])], outputs: ["y"])
        #expect(try ActivationFusion().apply(to: &elu) == 0)
        var relu = Build.model(
            [conv, Node(opType: "Relu", name: "r", inputs: ["c"], outputs: ["y"])],
            initializers: inits, inputs: [("x", [1, 2, 2, 2])], outputs: ["y"])
        _ = try Optimizer(fuseActivations: false).optimize(&relu)
        #expect(relu.graph.nodes.map(\.opType) == ["Conv", "Relu"])
    }

    @Test func transposePairsCancelAndChainsCompose() throws {
        func transpose(_ name: String, _ input: String, _ output: String, _ perm: [Int64]) -> Node {
            Node(
                opType: "Transpose", name: name, inputs: [input], outputs: [output], attributes: [Attribute("perm", .ints(perm))])
        }
        let cancel = Build.model(
            [
                transpose("t1", "x", "a", [0, 2, 3, 1]), transpose("t2", "a", "b", [0, 3, 1, 2]),
                Node(opType: "Relu", name: "r", inputs: ["b"], outputs: ["y"])
            ],
            inputs: [("x", [1, 2, 3, 4])], outputs: ["y"])
        let o = try optimizedKeepingOutputs(cancel)
        #expect(o.graph.nodes.map(\.opType) == ["Relu"])
        #expect(o.graph.nodes[0].inputs == ["x"])
        let chain = Build.model(
            [transpose("t1", "x", "a", [1, 0, 2]), transpose("t2", "a", "y", [0, 2, 1])],
            inputs: [("x", [2, 3, 4])], outputs: ["y"])
        let c = try optimizedKeepingOutputs(chain)
        #expect(c.graph.nodes.map(\.opType) == ["Transpose"])
        #expect(c.graph.nodes[0].ints("perm") == [1, 2, 0])
        #expect(c.graph.nodes[0].inputs == ["x"])
    }

    @Test func reshapeOfReshapeCollapses() throws {
        let m = Build.model(
            [
                Node(opType: "Reshape", name: "r1", inputs: ["x", "s1"], outputs: ["a"]),
                Node(opType: "Reshape", name: "r2", inputs: ["a", "s2"], outputs: ["y"])
            ],
            initializers: [
                Tensor(name: "s1", elementType: .int64, shape: [2], values: [Int64(6), 4]),
                Tensor(name: "s2", elementType: .int64, shape: [3], values: [Int64(3), -1, 2])
            ],
            inputs: [("x", [2, 3, 4])], outputs: ["y"])
        let o = try optimizedKeepingOutputs(m)
        #expect(o.graph.nodes.map(\.name) == ["r2"])
        #expect(o.graph.nodes[0].inputs == ["x", "s2"])
    }

    @Test func identicalInitializersMerge() throws {
        let w = Build.random("w1", [8], seed: 22)
        var w2 = w
        w2.name = "w2"
        var w3 = w
        w3.name = "w3"
        let nodes = [
            Node(opType: "Add", name: "a", inputs: ["x", "w1"], outputs: ["p"]),
            Node(opType: "Mul", name: "m", inputs: ["p", "w2"], outputs: ["q"]),
            Node(opType: "Sub", name: "s", inputs: ["q", "w3"], outputs: ["y"])
        ]
        // IR 8: w3 is also a declared input, so callers may override it; it keeps its reader.
        let m = Build.model(nodes, initializers: [w, w2, w3], inputs: [("x", [8]), ("w3", [8])], outputs: ["y"])
        let o = try optimizedKeepingOutputs(m, passes: [InitializerDedup(), DeadCodeElimination()])
        #expect(o.graph.initializers.map(\.name) == ["w1", "w3"])
        #expect(o.graph.nodes.map { $0.inputs[1] } == ["w1", "w1", "w3"])
        // IR 3: every initializer is declared and constant; the survivor keeps its declaration.
        var old = Build.model(
            nodes, initializers: [w, w2, w3], inputs: [("x", [8]), ("w1", [8]), ("w2", [8]), ("w3", [8])],
            outputs: ["y"], ir: 3)
        _ = try Optimizer(passes: [InitializerDedup(), DeadCodeElimination()]).optimize(&old)
        #expect(old.graph.initializers.map(\.name) == ["w1"])
        #expect(old.graph.inputs.map(\.name) == ["x", "w1"])
    }

    @Test func valuesNestedGraphsCaptureAreKept() throws {
        let thenBranch = Graph(
            name: "then", nodes: [Node(opType: "Relu", name: "tr", inputs: ["t"], outputs: ["o1"])],
            outputs: [ValueInfo(name: "o1", type: nil)])
        let elseBranch = Graph(
            name: "else", nodes: [Node(opType: "Neg", name: "en", inputs: ["t"], outputs: ["o2"])],
            outputs: [ValueInfo(name: "o2", type: nil)])
        let m = Build.model(
            [
                Node(opType: "Identity", name: "id", inputs: ["x"], outputs: ["t"]),
                Node(
                    opType: "ReduceSum", name: "sum", inputs: ["x"], outputs: ["s"], attributes: [Attribute("keepdims", .int(0))]),
                Node(opType: "Greater", name: "gt", inputs: ["s", "zero"], outputs: ["cond"]),
                Node(
                    opType: "If", name: "if", inputs: ["cond"], outputs: ["y"],
                    attributes: [Attribute("then_branch", .graph(thenBranch)), Attribute("else_branch", .graph(elseBranch))])
            ],
            initializers: [Tensor(name: "zero", floats: [0], shape: [])],
            inputs: [("x", [5])], outputs: ["y"])
        let o = try optimizedKeepingOutputs(m)
        #expect(o.graph.nodes.contains { $0.outputs == ["t"] })
        #expect(o.graph.nodes.last?.subgraphs == [thenBranch, elseBranch])
    }

    @Test func pipelineReportsEachPassAndReachesAFixedPoint() throws {
        // Constant-folded batch-norm parameters, then the fold into the conv, then the activation.
        let half = Tensor(name: "", floats: [0.5], shape: [])
        let m = Build.model(
            [
                Node(
                    opType: "Constant", name: "k", inputs: [], outputs: ["half"], attributes: [Attribute("value", .tensor(half))]),
                Node(opType: "Mul", name: "var", inputs: ["bn_var", "half"], outputs: ["v"]),
                Node(opType: "Conv", name: "conv", inputs: ["x", "W"], outputs: ["c"], attributes: [pads]),
                Node(
                    opType: "BatchNormalization", name: "bn", inputs: ["c", "bn_scale", "bn_bias", "bn_mean", "v"], outputs: ["b"]
                ),
                Node(opType: "Identity", name: "id", inputs: ["b"], outputs: ["i"]),
                Node(opType: "Relu", name: "relu", inputs: ["i"], outputs: ["y"])
            ],
            initializers: [Build.random("W", [3, 2, 3, 3], seed: 23)] + Build.batchNorm("bn", 3, seed: 24),
            inputs: [("x", [1, 2, 4, 4])], outputs: ["y"])
        var o = m
        let report = try Optimizer().optimize(&o)
        let counts = Dictionary(uniqueKeysWithValues: report.passes.map { ($0.name, $0.rewrites) })
        #expect(counts["fold-constants"] == 2)
        #expect(counts["fold-batch-norm"] == 1)
        #expect(counts["eliminate-identity"] == 1)
        #expect(counts["fuse-activations"] == 1)
        #expect(report.rounds >= 2)
        #expect(o.graph.nodes.map(\.opType) == ["FusedConv"])
        try optimizedKeepingOutputs(m)
        #expect(throws: PassError.self) { try Optimizer(skip: ["no-such-pass"]) }
    }
}
