import FerryHDF5
import FerryIR
import FerryKeras
import FerryTestSupport
import Foundation
import Testing

/// Structure of imported Keras models (the numbers are checked against Keras itself by
/// tools/interop_keras.py, which runs the converted graphs in onnxruntime).
@Suite struct KerasImportTests {
    private func legacy(_ name: String, _ options: KerasImportOptions = KerasImportOptions()) throws -> Model {
        try KerasFile.importLegacy(try HDF5File.open(TestSupport.fixture("keras/" + name)), options: options)
    }

    private func ops(_ m: Model) -> [String] { m.graph.nodes.map(\.opType) }

    @Test func theMnistCNNBecomesAChannelsFirstGraphWithOneTranspose() throws {
        let m = try legacy("mnist_cnn.h5")
        #expect(ops(m).filter { $0 == "Transpose" }.count == 1)
        #expect(ops(m).filter { $0 == "Conv" }.count == 3)
        #expect(ops(m).filter { $0 == "MaxPool" }.count == 2)
        #expect(ops(m).filter { $0 == "Gemm" }.count == 2)
        #expect(m.graph.inputs.first?.type?.description == "float32[N,28,28,1]")
        #expect(m.graph.outputs.first?.type?.description == "float32[N,10]")
        // Keras kernels (kh, kw, in, out) become ONNX (out, in, kh, kw).
        let conv = try #require(m.graph.nodes.first { $0.opType == "Conv" })
        let kernel = try #require(m.graph.initializers.first { $0.name == conv.inputs[1] })
        #expect(kernel.shape == [32, 1, 3, 3])
        try ModelValidator.validate(m)
    }

    @Test func channelsFirstInputsNeedNoTranspose() throws {
        var options = KerasImportOptions()
        options.channelsFirstInputs = true
        let m = try legacy("mnist_cnn.h5", options)
        #expect(!ops(m).contains("Transpose"))
        #expect(m.graph.inputs.first?.type?.description == "float32[N,1,28,28]")
    }

    @Test(arguments: ["conv2d", "lstm", "nested", "multi_io", "bidirectional"])
    func aKeras3ArchiveGivesTheSameWeightsAsTheLegacyFile(name: String) throws {
        let a = try legacy(name + ".h5")
        let b = try KerasFile.importArchive(TestSupport.fixture("keras/\(name).keras"))
        #expect(ops(a) == ops(b))
        let bytes = { (m: Model) in m.graph.initializers.map { $0.bytes?.toArray(of: UInt8.self) ?? [] } }
        #expect(bytes(a) == bytes(b))
    }

    @Test func weightsOnlyFilesAreNotModels() throws {
        #expect(!KerasFile.isFullModel(try HDF5File.open(TestSupport.fixture("keras/conv2d.weights.legacy.h5"))))
        #expect(!KerasFile.isFullModel(try HDF5File.open(TestSupport.fixture("keras/conv2d.weights.h5"))))
        #expect(KerasFile.isFullModel(try HDF5File.open(TestSupport.fixture("keras/conv2d.h5"))))
    }

    @Test func stringAttributesInEveryFormAreRead() throws {
        #expect(ops(try legacy("bidirectional.fixedstr.h5")) == ops(try legacy("bidirectional.h5")))
        #expect(ops(try legacy("merge.split.h5")) == ops(try legacy("merge.h5")))
    }

    @Test func anUnknownLayerIsNamedWithItsClass() throws {
        let error = #expect(throws: KerasError.self) { _ = try legacy("bad/unknown_layer.h5") }
        let text = String(describing: try #require(error))
        #expect(text.contains("'dense_1' (Frobnicate)") && !text.contains("\n"), "\(text)")
    }

    @Test func aWeightThatDisagreesWithTheConfigIsNamed() throws {
        let error = #expect(throws: KerasError.self) { _ = try legacy("bad/shape_mismatch.h5") }
        let text = String(describing: try #require(error))
        #expect(text.contains("dense/kernel:0") && text.contains("[10, 6]"), "\(text)")
    }
}

@Suite struct KerasExportTests {
    @Test(arguments: ["mnist_cnn", "lstm_stack", "conv2d", "nested", "embedding_rnn"])
    func anExportedModelImportsBackWithTheSameWeights(name: String) throws {
        let original = try KerasFile.importLegacy(try HDF5File.open(TestSupport.fixture("keras/\(name).h5")))
        let dir = try TestSupport.temporaryDirectory()
        try KerasFile.writeLegacy(original, to: dir + "/back.h5", replace: false)
        let back = try KerasFile.importLegacy(try HDF5File.open(dir + "/back.h5"))
        #expect(back.graph.nodes.map(\.opType) == original.graph.nodes.map(\.opType))
        #expect(
            back.graph.initializers.map { $0.bytes?.toArray(of: UInt8.self) ?? [] }
                == original.graph.initializers.map { $0.bytes?.toArray(of: UInt8.self) ?? [] })
    }

    @Test func opsWithoutALayerAreAllListed() throws {
        let x = ValueInfo(name: "x", type: TypeInfo(.tensor(.float, shape: [.symbol("N"), .fixed(4)])))
        let graph = Graph(
            name: "g",
            nodes: [
                Node(opType: "Sin", name: "sin", inputs: ["x"], outputs: ["a"]),
                Node(opType: "Erf", name: "erf", inputs: ["a"], outputs: ["y"])
            ], inputs: [x], outputs: [ValueInfo(name: "y", type: x.type)])
        let dir = try TestSupport.temporaryDirectory()
        let error = #expect(throws: KerasError.self) {
            try KerasFile.writeLegacy(Model(graph: graph), to: dir + "/m.h5", replace: false)
        }
        let text = String(describing: try #require(error))
        #expect(text.contains("Sin 'sin'") && text.contains("Erf 'erf'"), "\(text)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}

/// Keras loads legacy weights by position in its own `model.layers` order, so the written
/// `layer_names` must follow that order: compare with the order Keras itself wrote.
@Suite struct KerasLayerOrderTests {
    private func weightShapesInOrder(_ path: String) throws -> [[Int]] {
        let root = try (try HDF5File.open(path)).root.group("model_weights")
        return try (try root.attribute("layer_names")?.stringList ?? []).compactMap { name in
            let group = try root.group(name)
            guard let first = try group.attribute("weight_names")?.stringList?.first else { return nil }
            return try group.dataset(first).shape
        }
    }

    // (A shared layer comes back as one layer per call, so `shared` is not compared here.)
    @Test(arguments: ["activations", "multi_io", "merge", "conv2d", "padding_resize"])
    func writtenLayersFollowKerassOwnOrder(name: String) throws {
        let original = TestSupport.fixture("keras/\(name).h5")
        let model = try KerasFile.importLegacy(try HDF5File.open(original))
        let dir = try TestSupport.temporaryDirectory()
        do {
            try KerasFile.writeLegacy(model, to: dir + "/back.h5", replace: false)
        } catch KerasError.cannotExport {
            return // models that do not map back are covered by the refusal tests
        }
        #expect(try weightShapesInOrder(dir + "/back.h5") == weightShapesInOrder(original))
    }
}
