import FerryTestSupport
import Foundation
import Testing

/// Float32 values of a little-endian `.npy` file with a version-1 header.
func npyFloats(_ path: String) throws -> [Float] {
    let data = try TestSupport.contents(path)
    let headerLength = Int(data[8]) | Int(data[9]) << 8
    let body = data.dropFirst(10 + headerLength)
    return body.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

@Suite struct RunCommandTests {
    let model = "Fixtures/onnx/valid/small_cnn.onnx"

    @Test func outputsMatchOnnxruntime() throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry(
            "run", model, "--input", "input=Fixtures/cli/small_cnn.input.npy", "--output-dir", dir, "--threads", "1")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("inputs: input float32[1,1,16,16] (file)\noutput  float32[1, 10]  min "), "\(r.stdout)")
        let got = try npyFloats(dir + "/output.npy"), want = try npyFloats(TestSupport.fixture("cli/small_cnn.ort_output.npy"))
        #expect(got.count == want.count)
        for (g, w) in zip(got, want) { #expect(abs(g - w) <= 1e-5 + 1e-4 * abs(w)) }
    }

    @Test func npzAndBareFileInputsAndJson() throws {
        for input in ["Fixtures/cli/small_cnn.inputs.npz", "Fixtures/cli/small_cnn.input.npy"] {
            let r = try ferry("run", model, "--input", input, "--json")
            #expect(r.status == 0, "\(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            let outputs = json?["outputs"] as? [[String: Any]]
            #expect(outputs?.first?["name"] as? String == "output")
            #expect(outputs?.first?["shape"] as? [Int] == [1, 10])
            #expect((json?["peak_activation_bytes"] as? Int ?? 0) > 0)
        }
    }

    @Test(arguments: [
        (
            ["--input", "nope=Fixtures/cli/small_cnn.input.npy"],
            "error: input 'nope' is not an input of the model (inputs: input)"
        ),
        (
            ["--input", "input=Fixtures/cli/float64_input.npy"],
            "error: input 'input' is float64, the model expects float32[1,1,16,16]"
        ),
        (
            ["--input", "input=Fixtures/cli/object_array.npy"],
            "error: Fixtures/cli/object_array.npy: object arrays are refused (loading them would unpickle Python code)"
        ),
        (["--input", "input=Fixtures/cli/missing.npy"], "error: Fixtures/cli/missing.npy: open failed: No such file or directory")
    ])
    func badInputsAreOneLineErrors(arguments: [String], message: String) throws {
        let r = try ferry(["run", model] + arguments)
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix(message), "\(r.stderr)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1)
    }

    @Test func wrongShapeNamesTheInputAndTheExpectedShape() throws {
        let r = try ferry("run", "Fixtures/onnx/valid/small_cnn.onnx", "--input", "input=Fixtures/cli/small_cnn.ort_output.npy")
        #expect(r.status == 1)
        #expect(r.stderr == "error: input 'input' has shape [1, 10], the model expects float32[1,1,16,16]\n")
    }

    @Test func benchReportsLatencyAndProfile() throws {
        let r = try ferry("bench", model, "--runs", "3", "--warmup", "1", "--threads", "1", "--json")
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let latency = json?["latency_ms"] as? [String: Double]
        #expect((latency?["min"] ?? 0) > 0)
        #expect((latency?["median"] ?? 0) >= (latency?["min"] ?? 1))
        #expect(json?["runs"] as? Int == 3)
        let p = try ferry("bench", model, "--runs", "2", "--profile")
        #expect(p.status == 0)
        #expect(p.stdout.contains("per op type"))
        #expect(p.stdout.contains("Conv"))
        // --json --profile: the same figures as one object (tools/profile_vs_ort.py reads them)
        let j = try ferry("bench", model, "--runs", "2", "--threads", "1", "--profile", "--slowest", "1000", "--json")
        let profile =
            (try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])?["profile"] as? [String: Any]
        let opTypes = profile?["op_types"] as? [[String: Any]] ?? [], nodes = profile?["slowest_nodes"] as? [[String: Any]] ?? []
        #expect(opTypes.contains { $0["op"] as? String == "Conv" && ($0["ms"] as? Double ?? 0) > 0 })
        let shares = opTypes.compactMap { $0["share"] as? Double }.reduce(0, +)
        #expect(abs(shares - 1) < 1e-9, "op type shares add up to \(shares)")
        let nodeCount = opTypes.compactMap { $0["nodes"] as? Int }.reduce(0, +)
        #expect(nodes.count == nodeCount && nodes.allSatisfy { $0["node"] is String && $0["op"] is String })
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try ferry("bench", model, "--runs", "0").status == 2)
        #expect(try ferry("run", model, "--threads", "0").status == 2)
        #expect(try ferry("run", model, "--shape", "input=1,1,x").status == 2)
        // a nameless --shape is only for single-input models
        let two = try ferry("run", "Fixtures/quant/ops/qlinearmul_int8.onnx", "--shape", "1,4")
        #expect(two.status == 2 && two.stderr.contains("name one: --shape NAME=1,4"), "\(two.stderr)")
    }

    @Test func runMakesRandomInputsAndSaysSo() throws {
        let plain = try ferry("run", model)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.hasPrefix("inputs: input float32[1,1,16,16] (random, seed 0)\n"), "\(plain.stdout)")
        var means: [Double] = []
        for args in [["--shape", "input=1,1,16,16"], ["--shape", "1,1,16,16", "--seed", "3"]] {
            let r = try ferry(["run", model, "--json"] + args)
            #expect(r.status == 0, "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let input = (json["inputs"] as? [[String: Any]])?.first
            #expect(input?["shape"] as? [Int] == [1, 1, 16, 16] && input?["dtype"] as? String == "float32")
            #expect(input?["source"] as? String == "random, seed \(args.count == 2 ? 0 : 3)")
            let output = (json["outputs"] as? [[String: Any]])?.first
            means.append(try #require(output?["max"] as? Double))
        }
        #expect(means[0] != means[1], "another seed, other inputs")
    }

    @Test func outputDirFilesAreReplacedOnlyWithForce() throws {
        let dir = try TestSupport.temporaryDirectory()
        #expect(try ferry("run", model, "--output-dir", dir).status == 0)
        let before = try npyFloats(dir + "/output.npy")
        let again = try ferry("run", model, "--output-dir", dir, "--seed", "5")
        #expect(again.status == 1)
        #expect(again.stderr == "error: \(dir)/output.npy: already exists (pass --force to replace it)\n", "\(again.stderr)")
        #expect(try npyFloats(dir + "/output.npy") == before)
        #expect(try ferry("run", model, "--output-dir", dir, "--seed", "5", "--force").status == 0)
        #expect(try npyFloats(dir + "/output.npy") != before)
    }

    @Test func moreThreadsThanCoresIsAWarning() throws {
        let threads = ProcessInfo.processInfo.activeProcessorCount + 1
        let r = try ferry("bench", model, "--runs", "1", "--threads", "\(threads)")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("warning: --threads \(threads) is more than this machine's "), "\(r.stderr)")
        #expect(r.stdout.contains("inputs: input float32[1,1,16,16] (random, seed 0)"), "\(r.stdout)")
    }
}

/// Random inputs with symbolic axes set to 1 that the model cannot take: the error says so and
/// shows the --shape to give; with it the model runs.
@Suite struct DefaultedAxesTests {
    @Test func benchNamesTheSymbolicAxesAndTheShapeOption() throws {
        let model = "Fixtures/cli/symbolic_pool.onnx"
        let r = try ferry("bench", model, "--runs", "1")
        #expect(r.status == 1)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(
            r.stderr.contains("the random inputs set symbolic axes to 1")
                && r.stderr.contains("'x' (N, H, W): --shape x=N,3,H,W"), "\(r.stderr)")
        #expect(try ferry("bench", model, "--runs", "1", "--shape", "x=1,3,8,8").status == 0)
    }
}

/// FERRY_ISA limits the kernels for the whole process; the outputs do not depend on it.
@Suite struct InstructionSetLimitTests {
    let model = "Fixtures/onnx/valid/small_cnn.onnx"

    @Test func everyLimitGivesTheSameOutputsAndBenchNamesIt() throws {
        var outputs: [[Float]] = []
        for isa in ["portable", "avx2", "best"] {
            let dir = try TestSupport.temporaryDirectory()
            let r = try ferry(
                ["run", model, "--input", "input=Fixtures/cli/small_cnn.input.npy", "--output-dir", dir],
                environment: ["FERRY_ISA": isa])
            #expect(r.status == 0, "\(r.stderr)")
            outputs.append(try npyFloats(dir + "/output.npy"))
            let b = try ferry(["bench", model, "--runs", "1", "--json"], environment: ["FERRY_ISA": isa])
            let json = try JSONSerialization.jsonObject(with: Data(b.stdout.utf8)) as? [String: Any]
            let active = json?["isa"] as? String
            #expect(
                isa == "best" ? active != nil : active == isa || (isa == "avx2" && active == "portable"),
                "FERRY_ISA=\(isa): \(active ?? "none")")
        }
        for o in outputs.dropFirst() {
            for (a, b) in zip(o, outputs[0]) { #expect(abs(a - b) <= 1e-5 + 1e-5 * abs(b)) }
        }
    }

    @Test func anUnknownLimitIsAUsageError() throws {
        let r = try ferry(["inspect", model], environment: ["FERRY_ISA": "avx1024"])
        #expect(r.status == 2)
        #expect(r.stderr == "error: FERRY_ISA=avx1024 is not one of best, avx2, portable\n")
    }
}
