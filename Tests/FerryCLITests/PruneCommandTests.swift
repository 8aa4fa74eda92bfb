import FerryTestSupport
import Foundation
import Testing

@Suite struct PruneCommandTests {
    /// The report compares the outputs with the unpruned model's and says why sparse storage
    /// stored nothing; counts are written 1,234.
    @Test func reportSaysWhatHappened() throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry(
            "prune", "Fixtures/onnx/valid/small_cnn.onnx", dir + "/p.onnx", "--sparsity", "0.5", "--sparse-storage")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("parameters: 5,466 -> 5,466 (nonzero 5,466 -> 2,906)"), "\(r.stdout)")
        #expect(r.stdout.contains("note: outputs vs the unpruned model on random inputs (seed 0): 'output' max abs difference "))
        #expect(
            r.stdout.contains(
                "note: no weight stored as sparse: a sparse initializer takes less space only under a third nonzero"))
    }

    let model = "Fixtures/onnx/valid/small_cnn.onnx"

    @Test func usageErrorsExitTwo() throws {
        let dir = try TestSupport.temporaryDirectory()
        for args in [
            ["--sparsity", "1"], ["--sparsity", "-0.1"], ["--sparsity", "0.5", "--method", "random"],
            ["--sparsity", "0.5", "--method", "channels", "--scope", "global"], ["--sparsity", "0.5", "--shape", "x"]
        ] {
            let r = try ferry(["prune", model, dir + "/out.onnx"] + args)
            #expect(r.status == 2, "\(args)")
            #expect(!r.stderr.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.onnx"))
    }

    @Test func badModelAndBadExclusionFailOnOneLine() throws {
        let dir = try TestSupport.temporaryDirectory()
        let bad = try ferry("prune", "Fixtures/onnx/malformed/bad_wire.onnx", dir + "/out.onnx", "--sparsity", "0.5")
        #expect(bad.status == 1)
        #expect(bad.stderr.split(separator: "\n").count == 1)
        let excluded = try ferry("prune", model, dir + "/out.onnx", "--sparsity", "0.5", "--exclude", "nothing_by_that_name")
        #expect(excluded.status == 1)
        #expect(excluded.stderr.contains("'nothing_by_that_name' is neither a node name nor an op type"))
    }

    @Test func magnitudeWritesTheModelAndAJSONReport() throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry(
            "prune", model, dir + "/out.onnx", "--sparsity", "0.5", "--min-elements", "0", "--report", dir + "/report.json")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("magnitude pruning, sparsity 0.5"))
        let report = try JSONSerialization.jsonObject(with: try TestSupport.contents(dir + "/report.json")) as! [String: Any]
        let layers = report["layers"] as! [[String: Any]]
        #expect(!layers.isEmpty)
        #expect(layers.allSatisfy { ($0["zeros_fraction"] as! Double) >= 0.49 })
        let size = try FileManager.default.attributesOfItem(atPath: dir + "/out.onnx")[.size] as! Int
        #expect(report["file_bytes_after"] as? Int == size)
        // The written model reads back and runs.
        #expect(try ferry("inspect", dir + "/out.onnx").status == 0)
    }

    @Test func channelPrunedKerasModelIsWrittenBackAsKeras() throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry("prune", "Fixtures/keras/mnist_cnn.h5", dir + "/pruned.h5", "--method", "channels", "--sparsity", "0.5")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("conv2d_1 (Conv) [32,32,3,3]  channels 32/64"))
        let inspect = try ferry("inspect", dir + "/pruned.h5")
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("28394") || inspect.stdout.contains("28,394"))
    }

    @Test func sparseStorageDeflatesKerasWeights() throws {
        let dir = try TestSupport.temporaryDirectory()
        #expect(try ferry("prune", "Fixtures/keras/mnist_cnn.h5", dir + "/plain.h5", "--sparsity", "0.5").status == 0)
        #expect(
            try ferry("prune", "Fixtures/keras/mnist_cnn.h5", dir + "/small.h5", "--sparsity", "0.5", "--sparse-storage").status
                == 0)
        let plain = try FileManager.default.attributesOfItem(atPath: dir + "/plain.h5")[.size] as! Int
        let small = try FileManager.default.attributesOfItem(atPath: dir + "/small.h5")[.size] as! Int
        #expect(small < plain)
    }
}
