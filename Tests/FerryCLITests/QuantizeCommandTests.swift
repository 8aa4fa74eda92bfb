import FerryTestSupport
import Foundation
import Testing

@Suite struct QuantizeCommandTests {
    let model = "Fixtures/digits/digits_cnn.h5"
    let calibration = "Fixtures/digits/calibration"

    @Test func usageErrorsExitTwo() throws {
        let dir = try TestSupport.temporaryDirectory()
        for args in [
            [String](), ["--mode", "weights", "--format", "qoperator"], ["--calibrate", calibration, "--activation-type", "int4"],
            ["--calibrate", calibration, "--accuracy-target", "1.5"], ["--calibrate", calibration, "--method", "kl"],
            ["--mode", "weights", "--format", "matmulnbits"], ["--calibrate", calibration, "--bits", "4"],
            ["--mode", "weights", "--bits", "3"], ["--mode", "weights", "--bits", "4", "--block-size", "24"],
            ["--mode", "weights", "--bits", "4", "--format", "qoperator"], ["--mode", "weights", "--int8-activations"]
        ] {
            let r = try ferry(["quantize", model, dir + "/out.onnx"] + args)
            #expect(r.status == 2, "\(args)")
            #expect(!r.stderr.isEmpty)
        }
        let h5 = try ferry("quantize", model, dir + "/out.h5", "--mode", "weights")
        #expect(h5.status == 2)
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.onnx"))
    }

    /// Options are checked by the library (`QuantizationOptions.validate`); the CLI names the flag.
    @Test(arguments: [
        (["--mode", "dynamic", "--format", "qoperator"], "--format: qoperator needs static mode, not dynamic"),
        (["--calibrate", "Fixtures/digits/calibration", "--percentile", "101"], "--percentile: 101.0 is outside (50, 100]"),
        (
            ["--calibrate", "Fixtures/digits/calibration", "--accuracy-target", "0"],
            "--accuracy-target: 0.0 is not a cosine similarity in (0, 1]"
        )
    ])
    func libraryOptionChecksNameTheFlag(arguments: [String], message: String) throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry(["quantize", model, dir + "/out.onnx"] + arguments)
        #expect(r.status == 2)
        #expect(r.stderr.contains("Error: " + message) || r.stderr.contains("error: " + message), "\(r.stderr)")
    }

    @Test func badInputsFailOnOneLine() throws {
        let dir = try TestSupport.temporaryDirectory()
        let cases: [[String]] = [
            ["quantize", "Fixtures/onnx/malformed/bad_wire.onnx", dir + "/out.onnx", "--mode", "weights"],
            ["quantize", model, dir + "/out.onnx", "--calibrate", dir], // no samples
            ["quantize", model, dir + "/out.onnx", "--calibrate", dir + "/missing"],
            ["quantize", model, dir + "/out.onnx", "--mode", "weights", "--exclude", "no_such_layer"],
            ["quantize", model, dir + "/out.onnx", "--calibrate", "Fixtures/cli"] // samples of another model
        ]
        for args in cases {
            let r = try ferry(args)
            #expect(r.status == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.onnx"))
    }

    /// --calibrate takes one batch file too; a sample of the wrong shape is named with the shapes.
    @Test func oneCalibrationFileAndShapesNamed() throws {
        let dir = try TestSupport.temporaryDirectory()
        let one = try ferry("quantize", model, dir + "/q.onnx", "--calibrate", "Fixtures/digits/test_x.npy")
        #expect(one.status == 0, "\(one.stderr)")
        let wrong = try ferry("quantize", model, dir + "/w.onnx", "--calibrate", "Fixtures/cli/small_cnn.input.npy")
        #expect(wrong.status == 1)
        #expect(
            wrong.stderr
                == "error: calibration sample Fixtures/cli/small_cnn.input.npy: input 'image': float32[1, 1, 16, 16], the model expects float32[N,8,8,1]\n",
            "\(wrong.stderr)")
        let text = try ferry("quantize", model, dir + "/t.onnx", "--calibrate", "Package.swift")
        #expect(text.status == 1 && text.stderr.contains("not a .npy or .npz file, nor a folder of them"), "\(text.stderr)")
    }

    /// A target that int8 weights cannot reach (1.0): exit 1 and nothing written, unless
    /// --allow-miss; --keep-float-weights reaches it by keeping layers exactly float.
    @Test func aMissedAccuracyTargetFailsUnlessAllowed() throws {
        let dir = try TestSupport.temporaryDirectory()
        let args = ["--calibrate", calibration, "--accuracy-target", "1.0", "--percentile", "90", "--no-keep-edge-layers"]
        let missed = try ferry(["quantize", model, dir + "/q.onnx", "--report", dir + "/r.json"] + args)
        #expect(missed.status == 1 && missed.stderr.split(separator: "\n").count == 1, "\(missed.stderr)")
        #expect(missed.stderr.contains("accuracy target 1.0 not met (mean cosine 0.99"), "\(missed.stderr)")
        #expect(missed.stderr.contains("nothing written (--allow-miss writes it)"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/q.onnx"))
        let report = try JSONSerialization.jsonObject(with: try TestSupport.contents(dir + "/r.json")) as? [String: Any]
        let outcome = report?["accuracy_target"] as? [String: Any]
        #expect(outcome?["met"] as? Bool == false && (outcome?["reached"] as? Double ?? 1) < 1, "\(String(describing: outcome))")

        let allowed = try ferry(["quantize", model, dir + "/q.onnx", "--allow-miss"] + args)
        #expect(allowed.status == 0 && allowed.stdout.contains("NOT MET"), "\(allowed.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/q.onnx"))

        let floatWeights = try ferry(["quantize", model, dir + "/f.onnx", "--keep-float-weights"] + args)
        #expect(floatWeights.status == 0 && floatWeights.stdout.contains("accuracy target 1.0"), "\(floatWeights.stderr)")
        #expect(floatWeights.stdout.contains(": met (cosine 1.00000)"), "\(floatWeights.stdout)")
        #expect(try ferry(["quantize", model, dir + "/x.onnx", "--calibrate", calibration, "--allow-miss"]).status == 2)
    }

    @Test func staticWritesTheModelAndAJSONReport() throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry("quantize", model, dir + "/out.onnx", "--calibrate", calibration, "--report", dir + "/report.json")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("static (percentile), qdq, per-channel weights"))
        #expect(r.stdout.contains("top-1 kept"))
        let report = try JSONSerialization.jsonObject(with: try TestSupport.contents(dir + "/report.json")) as! [String: Any]
        let layers = report["layers"] as! [[String: Any]]
        #expect(layers.map { $0["node"] as! String } == ["conv1", "conv2", "conv3", "fc1", "probs_1"])
        #expect(layers.filter { $0["kept_float"] as! Bool }.count == 2)
        #expect((report["samples"] as! Int) == 200)
        #expect((report["output_cosine"] as! Double) > 0.999)
        #expect((report["weight_bytes_after"] as! Int) < (report["weight_bytes_before"] as! Int))
        // The written model runs in Ferry on the test images.
        let run = try ferry("run", dir + "/out.onnx", "--input", "Fixtures/digits/test_x.npy")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("float32[360, 10]"))
    }
}
