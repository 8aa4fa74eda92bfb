import FerryIR
import FerryONNX
import FerryTestSupport
import Foundation
import Testing

@Suite struct RoundTripTests {
    static let models = [
        "storage_forms.onnx", "constant_nodes.onnx", "attributes.onnx", "subgraphs.onnx",
        "metadata.onnx", "small_cnn.onnx", "external/model.onnx"
    ]

    @Test(arguments: RoundTripTests.models)
    func writtenModelReadsBackEqual(name: String) throws {
        let original = try ONNXReader(path: TestSupport.fixture("onnx/valid/" + name)).read().model
        let dir = try TestSupport.temporaryDirectory()
        try ONNXWriter(path: dir + "/a.onnx").write(original)
        let again = try ONNXReader(path: dir + "/a.onnx").read().model
        #expect(again == original)
    }

    @Test(arguments: RoundTripTests.models)
    func outputIsDeterministic(name: String) throws {
        let model = try ONNXReader(path: TestSupport.fixture("onnx/valid/" + name)).read().model
        let dir = try TestSupport.temporaryDirectory()
        try ONNXWriter(path: dir + "/a.onnx").write(model)
        try ONNXWriter(path: dir + "/b.onnx").write(model)
        #expect(try TestSupport.contents(dir + "/a.onnx") == TestSupport.contents(dir + "/b.onnx"))
    }

    @Test func aFileWrittenByOnnxInCanonicalFormIsReproducedByteForByte() throws {
        let path = TestSupport.fixture("onnx/valid/small_cnn.onnx")
        let dir = try TestSupport.temporaryDirectory()
        try ONNXWriter(path: dir + "/a.onnx").write(try ONNXReader(path: path).read().model)
        #expect(try TestSupport.contents(dir + "/a.onnx") == TestSupport.contents(path))
    }

    @Test func metadataAndFunctionsSurvive() throws {
        let model = try ONNXReader(path: TestSupport.fixture("onnx/valid/metadata.onnx")).read().model
        #expect(!model.metadata.isEmpty)
        #expect(!model.functions.isEmpty)
        #expect(!model.trainingInfo.isEmpty)
        #expect(!model.graph.sparseInitializers.isEmpty)
        #expect(!model.graph.quantizationAnnotations.isEmpty)
        let symbolic = model.graph.inputs.first?.type
        #expect(symbolic?.description == "float32[batch,4]")
    }

    @Test func existingOutputIsRefusedUnlessReplacing() throws {
        let model = try ONNXReader(path: TestSupport.fixture("onnx/valid/small_cnn.onnx")).read().model
        let dir = try TestSupport.temporaryDirectory()
        try ONNXWriter(path: dir + "/a.onnx").write(model)
        #expect(throws: ONNXError.self) { try ONNXWriter(path: dir + "/a.onnx").write(model) }
        var options = ONNXWriteOptions()
        options.replaceExisting = true
        try ONNXWriter(path: dir + "/a.onnx", options: options).write(model)
        options.protectedFiles = [dir + "/a.onnx"]
        #expect(throws: ONNXError.self) { try ONNXWriter(path: dir + "/a.onnx", options: options).write(model) }
    }

    /// Payloads below, around and above the writer's staging threshold (512 KiB of a 1 MiB
    /// buffer), in an order that leaves bytes staged before each large one.
    @Test func payloadsOfEverySizeKeepTheirOrder() throws {
        let sizes = [10, 100_000, 600_000, 3, 400_000, 524_288, 524_287, 2_000_000, 1, 700_000]
        let tensors = sizes.enumerated().map { i, n in
            Tensor(
                name: "t\(i)", elementType: .uint8, shape: [n], values: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) })
        }
        let model = Model(
            irVersion: 8, opsetImports: [OpsetID(domain: "", version: 17)], graph: Graph(name: "sizes", initializers: tensors))
        let dir = try TestSupport.temporaryDirectory()
        try ONNXWriter(path: dir + "/m.onnx").write(model)
        #expect(try ONNXReader(path: dir + "/m.onnx").read().model == model)
    }
}
