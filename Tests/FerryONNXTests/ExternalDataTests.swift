import FerryIR
import FerryONNX
import FerryTestSupport
import Foundation
import Testing

@Suite struct ExternalDataTests {
    private func model() throws -> Model {
        try ONNXReader(path: TestSupport.fixture("onnx/valid/small_cnn.onnx")).read().model
    }

    /// Writes `model` with all initializers of at least `threshold` bytes in `data`.
    private func writeExternal(_ model: Model, dir: String, data: String = "w.bin", threshold: Int = 16) throws -> ONNXWriteReport
    {
        var o = ONNXWriteOptions()
        o.externalDataFile = data
        o.sizeThreshold = threshold
        return try ONNXWriter(path: dir + "/m.onnx", options: o).write(model)
    }

    @Test func theFixtureReadsItsTensorsFromTheDataFile() throws {
        let file = try ONNXReader(path: TestSupport.fixture("onnx/valid/external/model.onnx")).read()
        #expect(
            file.externalFiles.map { $0.split(separator: "/").suffix(2).joined(separator: "/") } == [
                "external/weights.bin", "data/extra.bin"
            ])
        let w4 = try #require(file.model.graph.initializers.first { $0.name == "w4" })
        #expect(w4.bytes?.toArray(of: Float.self) == [2.0, 0.5, -1.0, 3.0])
    }

    @Test func writtenExternalDataIsAlignedAndReadBackEqual() throws {
        let original = try model()
        let dir = try TestSupport.temporaryDirectory()
        let report = try writeExternal(original, dir: dir)
        #expect(report.externalDataPath == dir + "/w.bin")
        let read = try ONNXReader(path: dir + "/m.onnx").read()
        #expect(read.model == original)
        #expect(read.externalFiles == [dir + "/w.bin"])
        // Aligned tensors are views of the mapped data file, not copies.
        let big = read.model.graph.initializers.filter { $0.byteCount >= 16 }
        #expect(!big.isEmpty)
        for t in big { #expect(t.bytes?.buffer.isWritable == false, "tensor \(t.name)") }
        #expect(report.modelBytes < 2000)
    }

    @Test func smallTensorsStayInline() throws {
        let original = try model()
        let dir = try TestSupport.temporaryDirectory()
        let largest = original.graph.initializers.map(\.byteCount).max()!
        let report = try writeExternal(original, dir: dir, threshold: largest)
        #expect(report.externalDataBytes == largest)
    }

    @Test func aModelOverTheInlineLimitMovesToExternalDataByItself() throws {
        let dir = try TestSupport.temporaryDirectory()
        var o = ONNXWriteOptions()
        o.inlineLimit = 1000
        let report = try ONNXWriter(path: dir + "/big.onnx", options: o).write(try model())
        #expect(report.externalDataPath == dir + "/big.onnx.data")
        #expect(try ONNXReader(path: dir + "/big.onnx").read().model == model())
    }

    @Test(arguments: ["sub/w.bin", "../w.bin", "a..b", "", "/tmp/w.bin"])
    func externalFileNamesMustBePlain(name: String) throws {
        let dir = try TestSupport.temporaryDirectory()
        #expect(throws: ONNXError.self) { _ = try writeExternal(try model(), dir: dir, data: name) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func anExistingDataFileIsNeverOverwrittenWithoutPermission() throws {
        let dir = try TestSupport.temporaryDirectory()
        try "keep".write(toFile: dir + "/w.bin", atomically: false, encoding: .utf8)
        #expect(throws: ONNXError.self) { _ = try writeExternal(try model(), dir: dir) }
        #expect(try String(contentsOfFile: dir + "/w.bin", encoding: .utf8) == "keep")
        #expect(!fileExists(dir + "/m.onnx"))
    }

    @Test func theInputsOwnDataFileIsNeverReplaced() throws {
        let dir = try TestSupport.temporaryDirectory()
        _ = try writeExternal(try model(), dir: dir)
        let read = try ONNXReader(path: dir + "/m.onnx").read()
        var o = ONNXWriteOptions()
        o.externalDataFile = "w.bin"
        o.sizeThreshold = 16
        o.replaceExisting = true
        o.protectedFiles = [read.path] + read.externalFiles
        #expect(throws: ONNXError.self) { try ONNXWriter(path: dir + "/other.onnx", options: o).write(read.model) }
    }

    // MARK: hostile locations, made at test time

    /// A model whose tensors live in `dir/w.bin`, then `attack` rearranges the files.
    private func attacked(_ attack: (String) throws -> Void) throws -> Error? {
        let dir = try TestSupport.temporaryDirectory()
        _ = try writeExternal(try model(), dir: dir)
        try attack(dir)
        do {
            _ = try ONNXReader(path: dir + "/m.onnx").read()
            return nil
        } catch {
            return error
        }
    }

    @Test func aSymbolicLinkIsRefused() throws {
        let error = try attacked { dir in
            try FileManager.default.moveItem(atPath: dir + "/w.bin", toPath: dir + "/real.bin")
            try FileManager.default.createSymbolicLink(atPath: dir + "/w.bin", withDestinationPath: dir + "/real.bin")
        }
        let text = try #require(error.map { String(describing: $0) })
        #expect(text.contains("symbolic link"))
        #expect(text.contains("m.onnx"))
    }

    @Test func aHardLinkIsRefused() throws {
        let error = try attacked { dir in
            try FileManager.default.linkItem(atPath: dir + "/w.bin", toPath: dir + "/alias.bin")
        }
        #expect(error.map { String(describing: $0).contains("hard links") } == true)
    }

    @Test func aLinkedFolderOnTheWayIsRefused() throws {
        let dir = try TestSupport.temporaryDirectory(), outside = try TestSupport.temporaryDirectory()
        let fm = FileManager.default
        try fm.copyItem(atPath: TestSupport.fixture("onnx/valid/external"), toPath: dir + "/m")
        _ = try ONNXReader(path: dir + "/m/model.onnx").read()
        try fm.moveItem(atPath: dir + "/m/data", toPath: outside + "/data")
        try fm.createSymbolicLink(atPath: dir + "/m/data", withDestinationPath: outside + "/data")
        let error = #expect(throws: ONNXError.self) { _ = try ONNXReader(path: dir + "/m/model.onnx").read() }
        let text = String(describing: try #require(error))
        #expect(text.contains("tensor 'w4'") && text.contains("symbolic link"), "\(text)")
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let dir = try TestSupport.temporaryDirectory()
        try FileManager.default.copyItem(atPath: TestSupport.fixture("onnx/valid/external"), toPath: dir + "/m")
        try FileManager.default.removeItem(atPath: dir + "/m/data/extra.bin")
        #expect(mkfifo(dir + "/m/data/extra.bin", 0o600) == 0)
        let error = #expect(throws: ONNXError.self) { _ = try ONNXReader(path: dir + "/m/model.onnx").read() }
        #expect(String(describing: try #require(error)).contains("not a regular file"))
    }

    @Test func theDataFileCannotTakeTheModelsName() throws {
        let dir = try TestSupport.temporaryDirectory()
        #expect(throws: ONNXError.self) { _ = try writeExternal(try model(), dir: dir, data: "m.onnx") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
