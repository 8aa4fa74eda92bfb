import FerryTestSupport
import Foundation
import Testing

@Suite struct OptimizeCommandTests {
    /// Values of `got` against a reference nobody here computed (onnxruntime's or Keras's output).
    private func expectClose(_ got: [Float], _ want: [Float], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == want.count && !got.isEmpty, sourceLocation: sourceLocation)
        for (g, w) in zip(got, want) { #expect(abs(g - w) <= 1e-5 + 1e-4 * abs(w), sourceLocation: sourceLocation) }
    }

    @Test func smallCnnKeepsOnnxruntimeOutputs() throws {
        let dir = try TestSupport.temporaryDirectory()
        let out = dir + "/small_cnn.opt.onnx"
        let r = try ferry("optimize", "Fixtures/onnx/valid/small_cnn.onnx", out)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("nodes: 8 -> 6"), "\(r.stdout)")
        #expect(r.stdout.contains("fuse-activations    2"), "\(r.stdout)")
        let run = try ferry("run", out, "--input", "input=Fixtures/cli/small_cnn.input.npy", "--output-dir", dir)
        #expect(run.status == 0, "\(run.stderr)")
        expectClose(try npyFloats(dir + "/output.npy"), try npyFloats(TestSupport.fixture("cli/small_cnn.ort_output.npy")))
        // Standard ONNX only: the Conv + Relu pairs stay apart.
        let plain = try ferry("optimize", "Fixtures/onnx/valid/small_cnn.onnx", out, "--force", "--no-fuse-activations", "--json")
        #expect(plain.status == 0, "\(plain.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any]
        #expect(json?["nodes_after"] as? Int == 8)
        #expect((json?["passes"] as? [[String: Any]])?.contains { $0["name"] as? String == "fuse-activations" } == false)
    }

    /// --shape fixes the symbolic sizes so the Shape arithmetic folds; --check compares the
    /// outputs (tools/interop_tools.py checks the file in onnxruntime).
    @Test func fixedShapesFoldTheShapeArithmetic() throws {
        let dir = try TestSupport.temporaryDirectory()
        let model = "Fixtures/cli/shape_reshape.onnx"
        let symbolic = try ferry("optimize", model, dir + "/a.onnx")
        #expect(symbolic.status == 0 && symbolic.stdout.contains("nodes: 9 -> 9"), "\(symbolic.stdout)")
        let fixed = try ferry("optimize", model, dir + "/b.onnx", "--shape", "2,3,16", "--check", "--json")
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(fixed.stdout.utf8)) as? [String: Any])
        #expect(json["nodes_after"] as? Int == 3)
        #expect((json["passes"] as? [[String: Any]])?.first?["name"] as? String == "fix-input-shapes")
        #expect((json["check"] as? String)?.hasPrefix("1 output(s) equal within the tolerance") == true, "\(json)")
        let inspect = try ferry("inspect", dir + "/b.onnx")
        #expect(inspect.stdout.contains("x  float32[2,3,16]"), "\(inspect.stdout)")
        // sizes that contradict the declared ones, or an input the model lacks: usage errors
        #expect(try ferry("optimize", model, dir + "/c.onnx", "--shape", "2,3,8").status == 2)
        #expect(try ferry("optimize", model, dir + "/c.onnx", "--shape", "nope=2,3,16").status == 1)
    }

    @Test func kerasBatchNormsFoldAndKerasOutputsStay() throws {
        let dir = try TestSupport.temporaryDirectory()
        let out = dir + "/normalization.onnx"
        let r = try ferry("optimize", "Fixtures/keras/normalization.h5", out, "--json")
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let passes = json?["passes"] as? [[String: Any]] ?? []
        #expect(passes.first { $0["name"] as? String == "fold-batch-norm" }?["rewrites"] as? Int == 1) // one BatchNormalization
        #expect((json?["nodes_after"] as? Int ?? 99) < (json?["nodes_before"] as? Int ?? 0))
        let run = try ferry(
            "run", out, "--input", "image=Fixtures/keras/normalization.input_0.npy",
            "--input", "seq=Fixtures/keras/normalization.input_1.npy", "--output-dir", dir)
        #expect(run.status == 0, "\(run.stderr)")
        for (k, name) in ["layer_normalization_2", "layer_normalization", "batch_normalization_4"].enumerated() {
            expectClose(
                try npyFloats(dir + "/\(name).npy"), try npyFloats(TestSupport.fixture("keras/normalization.output_\(k).npy")))
        }
    }

    @Test func kerasToKerasKeepsOutputs() throws {
        let dir = try TestSupport.temporaryDirectory()
        let out = dir + "/conv2d.h5"
        let r = try ferry("optimize", "Fixtures/keras/conv2d.h5", out)
        #expect(r.status == 0, "\(r.stderr)")
        let run = try ferry("run", out, "--input", "image=Fixtures/keras/conv2d.input_0.npy", "--output-dir", dir, "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let names = (json?["outputs"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names.count == 4)
        for (k, name) in names.enumerated() {
            expectClose(try npyFloats(dir + "/\(name).npy"), try npyFloats(TestSupport.fixture("keras/conv2d.output_\(k).npy")))
        }
    }

    @Test func errorsAreOneLine() throws {
        let dir = try TestSupport.temporaryDirectory()
        #expect(try ferry("optimize", "Fixtures/onnx/valid/small_cnn.onnx", dir + "/o.onnx", "--skip", "bogus").status == 2)
        #expect(try ferry("optimize", "Fixtures/onnx/valid/small_cnn.onnx", dir + "/o.txt").status == 2)
        let missing = try ferry("optimize", "Fixtures/onnx/valid/missing.onnx", dir + "/o.onnx")
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: ") && missing.stderr.filter { $0 == "\n" }.count == 1, "\(missing.stderr)")
        #expect(try ferry("optimize", "Fixtures/onnx/valid/small_cnn.onnx", dir + "/o.onnx").status == 0)
        let exists = try ferry("optimize", "Fixtures/onnx/valid/small_cnn.onnx", dir + "/o.onnx")
        #expect(exists.status == 1)
        #expect(exists.stderr.filter { $0 == "\n" }.count == 1, "\(exists.stderr)")
    }
}
