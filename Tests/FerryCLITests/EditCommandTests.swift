import FerryTestSupport
import Foundation
import Testing

/// `ferry edit`: each edit on small_cnn, read back with inspect; malformed or unknown values are
/// usage errors naming them (tools/interop_tools.py runs the edited files in onnxruntime).
@Suite struct EditCommandTests {
    let model = "Fixtures/onnx/valid/small_cnn.onnx"

    @Test func editsShowInTheWrittenModel() throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry(
            "edit", model, dir + "/e.onnx", "--batch", "dynamic", "--rename", "input=image", "--add-output", "r1",
            "--set-dim", "image:0=batch")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("wrote \(dir)/e.onnx: 8 -> 8 nodes"), "\(r.stdout)")
        let shown = try ferry("inspect", dir + "/e.onnx").stdout
        #expect(shown.contains("image   float32[batch,1,16,16]"), "\(shown)")
        #expect(shown.contains("output  float32[N,10]") && shown.contains("r1      float32[batch,4,16,16]"), "\(shown)")
        let cut = try ferry("edit", model, dir + "/cut.onnx", "--extract", "p1:f")
        #expect(cut.status == 0 && cut.stdout.contains("8 -> 3 nodes"), "\(cut.stdout)\(cut.stderr)")
        #expect(try ferry("inspect", dir + "/cut.onnx").stdout.contains("p1  float32[1,4,8,8]"))
    }

    @Test func opsetConversionIsReportedAndRefusalsNameTheNode() throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry("edit", model, dir + "/o11.onnx", "--opset", "11")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("note: opset 17 -> 11: ") && r.stdout.contains("note: IR version 8 -> 6"), "\(r.stdout)")
        let shown = try ferry("inspect", dir + "/o11.onnx").stdout
        #expect(shown.contains("ai.onnx 11") || shown.contains("opset 11") || shown.contains(":11"), "\(shown)")
        // ops newer than the target: written as the ops defining them, or refused naming the node
        let modern = try ferry("edit", "Fixtures/cli/opset_modern.onnx", dir + "/m13.onnx", "--opset", "13")
        #expect(modern.status == 0, "\(modern.stderr)")
        #expect(modern.stdout.contains("(Gelu 2, HardSwish 1, LayerNormalization 1)"), "\(modern.stdout)")
        let mish = try ferry("edit", "Fixtures/cli/opset_mish.onnx", dir + "/m17.onnx", "--opset", "17")
        #expect(mish.status == 1 && mish.stderr.split(separator: "\n").count == 1, "\(mish.stderr)")
        #expect(mish.stderr.contains("node 'mish' (Mish): Mish exists from opset 18 on"), "\(mish.stderr)")
    }

    @Test func externalDataStaysExternal() throws {
        let dir = try TestSupport.temporaryDirectory()
        // small_cnn with every weight in external data; its Gemm weight (over 1 KiB) stays external
        let source = dir + "/ext.onnx"
        let made = try ferry("convert", model, source, "--external-data", "ext.data", "--size-threshold", "0")
        #expect(made.status == 0, "\(made.stderr)")
        let r = try ferry("edit", source, dir + "/e.onnx", "--strip-docs")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/e.onnx.data"))
        let named = try ferry(
            "edit", source, dir + "/n.onnx", "--strip-docs", "--external-data", "weights.bin", "--size-threshold", "0")
        #expect(named.status == 0 && FileManager.default.fileExists(atPath: dir + "/weights.bin"), "\(named.stderr)")
        // a file nothing reaches the threshold of is not left behind
        let none = try ferry(
            "edit", model, dir + "/i.onnx", "--strip-docs", "--external-data", "none.bin", "--size-threshold", "1000000")
        #expect(none.status == 0 && !FileManager.default.fileExists(atPath: dir + "/none.bin"), "\(none.stderr)")
        let a = try ferry("run", model, "--output-dir", dir + "/a"),
            b = try ferry("run", dir + "/e.onnx", "--output-dir", dir + "/b")
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)\(b.stderr)")
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: dir + "/a/output.npy"))
                == Data(contentsOf: URL(fileURLWithPath: dir + "/b/output.npy")))
    }

    @Test(arguments: [
        (["--opset", "9"], "--opset: 9 is outside 11..."),
        (["--batch", "0"], "--batch takes a size of at least 1"), (["--set-dim", "input=4"], "--set-dim takes NAME:AXIS=VALUE"),
        (["--rename", "nope=x"], "--rename: 'nope' names no value of the graph"),
        (["--rename", "input=output"], "--rename: 'output' is empty or names a value already"),
        (["--add-output", "nope"], "--add-output: 'nope' is not a value the graph computes"),
        (["--extract", "p1:nope"], "--extract: 'nope' is not a value of the graph"), ([], "nothing to edit"),
        (["--merge", "Fixtures/onnx/valid/small_cnn.onnx"], "--merge and --connect go together"),
        (
            ["--merge", "Fixtures/onnx/valid/small_cnn.onnx", "--connect", "nope:input"],
            "--connect: 'nope' is not an output of the first model"
        )
    ])
    func badEditsAreUsageErrors(arguments: [String], message: String) throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry(["edit", model, dir + "/e.onnx"] + arguments)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/e.onnx"))
    }
}
