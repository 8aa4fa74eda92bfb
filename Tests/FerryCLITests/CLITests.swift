import FerryTestSupport
import Foundation
import Testing

/// The result of running the `ferry` executable.
struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the built `ferry` binary (next to the test bundle) in the repository root.
func ferry(_ arguments: String...) throws -> Run { try ferry(arguments) }

/// Runs the built `ferry` binary with an argument list (and extra environment variables).
func ferry(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
    let exe = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    let binary = exe.deletingLastPathComponent().appendingPathComponent("ferry")
    let p = Process()
    p.executableURL = binary
    p.arguments = arguments
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    p.currentDirectoryURL = TestSupport.root
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(
        status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

@Suite struct InspectCommandTests {
    let model = "Fixtures/onnx/valid/small_cnn.onnx"

    @Test func tableMatchesGolden() throws {
        let r = try ferry("inspect", model)
        #expect(r.status == 0)
        #expect(
            r.stdout
                == String(decoding: try TestSupport.contents(TestSupport.fixture("cli/inspect_small_cnn.txt")), as: UTF8.self))
    }

    @Test func jsonMatchesGolden() throws {
        let r = try ferry("inspect", model, "--json")
        #expect(r.status == 0)
        #expect(
            r.stdout
                == String(decoding: try TestSupport.contents(TestSupport.fixture("cli/inspect_small_cnn.json")), as: UTF8.self))
    }

    /// A model whose strided branch meets the full-size one again: it runs only at multiples of
    /// 32, which the listing says.
    @Test(arguments: ["txt", "json"])
    func shapesMatchGolden(format: String) throws {
        let r = try ferry(["inspect", "Fixtures/cli/symbolic_pool.onnx", "--shapes"] + (format == "json" ? ["--json"] : []))
        #expect(r.status == 0, "\(r.stderr)")
        let golden = try TestSupport.contents(TestSupport.fixture("cli/inspect_shapes_symbolic_pool.\(format)"))
        #expect(r.stdout == String(decoding: golden, as: UTF8.self))
    }

    @Test func shapeOptionsAreForModelsWithGraphs() throws {
        #expect(try ferry("inspect", model, "--shape", "1,1,16,16").status == 2)
        let weights = try ferry("inspect", "Fixtures/torch/state_dict.pt", "--shapes")
        #expect(weights.status == 2 && weights.stderr.contains("--shapes needs a model with a graph"), "\(weights.stderr)")
        let fixed = try ferry("inspect", "Fixtures/cli/symbolic_pool.onnx", "--shapes", "--shape", "2,3,8,8")
        #expect(fixed.stdout.contains("pooled  float32   [2,3,4,4]"), "\(fixed.stdout)")
    }

    /// --format hdf5: the file as h5ls shows it, not the Keras model in it (interop_tools.py
    /// compares the listing with h5py's).
    @Test func hdf5FormatListsTheFile() throws {
        let r = try ferry("inspect", "Fixtures/keras/mnist_cnn.h5", "--format", "hdf5")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("/  group\n    @backend = tensorflow\n"), "\(r.stdout)")
        #expect(r.stdout.contains("\n/model_weights/conv2d/conv2d/kernel:0  dataset float32[3,3,1,32]\n"))
    }

    /// --graph FILE.dot needs no Graphviz: a box per node with its key attributes, edges with
    /// shapes (interop_tools.py has Graphviz parse it and the SVG and HTML forms).
    @Test func graphWritesDot() throws {
        let dir = try TestSupport.temporaryDirectory()
        #expect(try ferry("inspect", model, "--graph", dir + "/g.dot").status == 0)
        let dot = String(decoding: try TestSupport.contents(dir + "/g.dot"), as: UTF8.self)
        #expect(dot.hasPrefix("digraph \"small_cnn\" {\n"))
        #expect(dot.contains(#"label="Conv\nconv1\nkernel_shape=[3,3]\npads=[1,1,1,1]""#), "\(dot)")
        #expect(dot.contains(#"n1 -> n2 [tooltip="c1", label="[1,4,16,16]"];"#), "\(dot)")
        #expect(dot.components(separatedBy: "shape=box").count - 1 == 8)
        #expect(try ferry("inspect", model, "--graph", dir + "/g.png").status == 2)
    }

    /// A shared layer is one layer with one set of weights: tf.keras's count_params() gives 29
    /// for this fixture (two calls of a 24-parameter Dense, then a 5-parameter one).
    @Test func sharedKerasLayersAreCountedOnce() throws {
        let r = try ferry("inspect", "Fixtures/keras/shared.h5")
        #expect(r.status == 0)
        #expect(r.stdout.components(separatedBy: "shared_dense (Dense)").count == 2, "\(r.stdout)")
        #expect(r.stdout.contains("Total params: 29\n"), "\(r.stdout)")
    }

    /// A model whose external-data file is missing: inspect shows its structure and names the
    /// file; run still refuses it.
    @Test func aMissingWeightsFileIsNamedAndTheStructureShown() throws {
        let dir = try TestSupport.temporaryDirectory()
        #expect(
            try ferry("convert", model, dir + "/m.onnx", "--external-data", "m.weights", "--size-threshold", "64").status == 0)
        try FileManager.default.removeItem(atPath: dir + "/m.weights")
        let r = try ferry("inspect", dir + "/m.onnx")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\nmissing     m.weights (external data not found: the weights' values are not read)\n"))
        #expect(r.stdout.contains("nodes       8") && r.stdout.contains("parameters  5,466"), "\(r.stdout)")
        let run = try ferry("run", dir + "/m.onnx")
        #expect(run.status == 1 && run.stderr.contains("external data 'm.weights': No such file or directory"))
    }

    @Test func tensorsListsEveryInitializer() throws {
        let r = try ferry("inspect", model, "--tensors")
        #expect(r.status == 0)
        for name in ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"] {
            #expect(r.stdout.contains(name), "missing \(name)")
        }
    }

    @Test(arguments: ["empty.onnx", "truncated.onnx", "random.onnx", "dims_overflow.onnx", "deep_nesting.onnx", "ext_dotdot.onnx"]
    )
    func badInputIsOneLineAndExitOne(file: String) throws {
        let r = try ferry("inspect", "Fixtures/onnx/malformed/" + file)
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("error: Fixtures/onnx/malformed/" + file))
        #expect(r.stderr.filter { $0 == "\n" }.count == 1)
    }

    /// libhdf5 faults on these files; ferry reads HDF5 in its reader helper process (itself,
    /// started with the helper argument) and reports the fault as one line.
    @Test(arguments: ["crash_keras_conv2d_a.h5", "crash_keras_bidirectional_a.h5"])
    func hdf5FilesThatCrashLibhdf5AreOneLineAndExitOne(file: String) throws {
        for command in ["inspect", "convert"] {
            let dir = try TestSupport.temporaryDirectory()
            let r = try ferry([command, "Fixtures/hdf5/hostile/" + file] + (command == "convert" ? [dir + "/out.onnx"] : []))
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("error: Fixtures/hdf5/hostile/" + file), "\(r.stderr)")
            #expect(r.stderr.contains("reader helper"), "\(r.stderr)")
            #expect(r.stderr.filter { $0 == "\n" }.count == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        }
    }

    /// Fuzz findings kept in Fixtures/fuzz: read by the CLI, each is one line and exit 1.
    @Test func fuzzFindingsAreOneLineAndExitOne() throws {
        let dir = TestSupport.fixture("fuzz/npy")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(!files.isEmpty)
        for file in files {
            let r = try ferry("run", "Fixtures/onnx/valid/small_cnn.onnx", "--input", "Fixtures/fuzz/npy/" + file)
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("error: Fixtures/fuzz/npy/" + file), "\(r.stderr)")
            #expect(r.stderr.filter { $0 == "\n" }.count == 1)
        }
    }

    /// A missing file gets the same line whatever its kind.
    @Test(arguments: ["onnx", "h5", "safetensors", "pt", "npz", "keras", "bin"])
    func aMissingFileIsExitOne(ext: String) throws {
        let r = try ferry("inspect", "nope." + ext)
        #expect(r.status == 1)
        #expect(r.stderr == "error: nope.\(ext): open failed: No such file or directory\n", "\(r.stderr)")
    }
}

/// Formats by content: an extension that names no format (or `.bin`, which may hold any) is read
/// by the file's first bytes; a file whose content is not the format its extension names says so.
@Suite struct FormatSniffingTests {
    @Test(arguments: [
        ("Fixtures/onnx/valid/small_cnn.onnx", "model.bin", "ONNX"), ("Fixtures/keras/mnist_cnn.h5", "weights.dat", "HDF5"),
        ("Fixtures/torch/state_dict.pt", "checkpoint.ckpt", "PYTORCH")
    ])
    func contentDecidesWhenTheExtensionCannot(fixture: String, name: String, format: String) throws {
        let dir = try TestSupport.temporaryDirectory()
        try FileManager.default.copyItem(atPath: fixture, toPath: dir + "/" + name)
        let r = try ferry("inspect", dir + "/" + name)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("format      \(format)"), "\(r.stdout)")
    }

    @Test func aFileOfAnotherKindIsNamedAsNotTheFormat() throws {
        let dir = try TestSupport.temporaryDirectory()
        try "hello\n".write(toFile: dir + "/text.onnx", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: "Fixtures/keras/mnist_cnn.h5", toPath: dir + "/keras.onnx")
        #expect(try ferry("inspect", dir + "/text.onnx").stderr == "error: \(dir)/text.onnx: not an ONNX file\n")
        #expect(
            try ferry("inspect", dir + "/keras.onnx").stderr
                == "error: \(dir)/keras.onnx: not an ONNX file (it is an HDF5 file)\n")
    }

    @Test func outputsFerryCannotWriteAreNamed() throws {
        let dir = try TestSupport.temporaryDirectory(), model = "Fixtures/onnx/valid/small_cnn.onnx"
        let cases = [
            (
                "out.tflite",
                "TensorFlow Lite files are not a format Ferry reads or writes (it writes .onnx, .h5, .safetensors, .npz, .pt)"
            ),
            ("out.keras", ".keras archives are read, not written"),
            ("out.xyz", "pass --to (onnx, hdf5, safetensors, npz, pytorch)")
        ]
        for (name, message) in cases {
            let r = try ferry("convert", model, dir + "/" + name)
            #expect(r.status == 2 && r.stderr.contains(message), "\(r.stderr)")
        }
        #expect(try ferry("convert", model, dir + "/out.keras", "--to", "keras").status == 2)
        let folder = try ferry("convert", model, dir + "/no/such/folder/out.onnx")
        #expect(folder.status == 1)
        #expect(folder.stderr == "error: \(dir)/no/such/folder/out.onnx: the folder \(dir)/no/such/folder does not exist\n")
    }
}

@Suite struct ConvertCommandTests {
    let model = "Fixtures/onnx/valid/small_cnn.onnx"

    @Test func convertWritesAnEqualFileAndRefusesToOverwrite() throws {
        let dir = try TestSupport.temporaryDirectory()
        let out = dir + "/out.onnx"
        #expect(try ferry("convert", model, out).status == 0)
        #expect(try TestSupport.contents(out) == TestSupport.contents(TestSupport.fixture("onnx/valid/small_cnn.onnx")))
        let again = try ferry("convert", model, out)
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists (pass --force to replace it)"))
        #expect(try ferry("convert", model, out, "--force").status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.onnx"])
    }

    @Test func theInputIsNeverOverwritten() throws {
        let dir = try TestSupport.temporaryDirectory()
        let input = dir + "/in.onnx"
        try FileManager.default.copyItem(atPath: TestSupport.fixture("onnx/valid/small_cnn.onnx"), toPath: input)
        let before = try TestSupport.contents(input)
        let r = try ferry("convert", input, input, "--force")
        #expect(r.status == 1)
        #expect(r.stderr.contains("input"))
        try FileManager.default.linkItem(atPath: input, toPath: dir + "/alias.onnx")
        #expect(try ferry("convert", input, dir + "/alias.onnx", "--force").status == 1)
        #expect(try TestSupport.contents(input) == before)
    }

    @Test func externalDataGoesNextToTheOutput() throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry("convert", model, dir + "/out.onnx", "--external-data", "out.weights", "--size-threshold", "100")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir)) == ["out.onnx", "out.weights"])
        let inspect = try ferry("inspect", dir + "/out.onnx", "--json")
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("\"parameter_count\""))
    }

    @Test func filesReadThroughExternalLinksAreNeverOverwritten() throws {
        let dir = try TestSupport.temporaryDirectory()
        for f in ["elink.h5", "other.h5"] {
            try FileManager.default.copyItem(atPath: TestSupport.fixture("hdf5/" + f), toPath: dir + "/" + f)
        }
        let before = try TestSupport.contents(dir + "/other.h5")
        let r = try ferry("convert", dir + "/elink.h5", dir + "/other.h5", "--force", "--allow-external-data")
        #expect(r.status == 1)
        #expect(r.stderr.contains("input"))
        #expect(try TestSupport.contents(dir + "/other.h5") == before)
        #expect(try ferry("convert", dir + "/elink.h5", dir + "/copy.safetensors", "--allow-external-data").status == 0)
    }

    @Test func aFailedConversionLeavesNothing() throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry("convert", "Fixtures/onnx/malformed/truncated.onnx", dir + "/out.onnx")
        #expect(r.status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func dtypeWritesAHalfPrecisionModelThatMatches() throws {
        let dir = try TestSupport.temporaryDirectory()
        let out = dir + "/half.onnx"
        let r = try ferry("convert", model, out, "--dtype", "float16", "--check")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("float16: "))
        #expect(r.stdout.contains("tensors converted"))
        let inspect = try ferry("inspect", out)
        #expect(inspect.stdout.contains("float16["))
        let unknown = try ferry("convert", model, dir + "/x.onnx", "--dtype", "float16", "--exclude", "NoSuchOp")
        #expect(unknown.status != 0 && unknown.stderr.contains("NoSuchOp"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["half.onnx"])
    }

    @Test(arguments: [
        ["convert", "a.onnx", "b.onnx", "--keep-io-types"], ["convert", "a.onnx", "b.onnx", "--exclude", "Conv"],
        ["convert", "a.onnx", "b.onnx", "--dtype", "float8"]
    ])
    func dtypeOptionsWithoutDtypeExitTwo(arguments: [String]) throws {
        #expect(try ferry(arguments).status == 2)
    }

    @Test(arguments: [
        ["convert"], ["convert", "a.onnx"], ["convert", "a.onnx", "b.tflite"], ["convert", "a.onnx", "b.onnx", "--bogus"],
        ["convert", "a.onnx", "b.onnx", "--external-data", "x/y.bin"], ["convert", "a.onnx", "b.onnx", "--external-data", "..x"],
        ["inspect"], ["frobnicate"], ["convert", "a.onnx", "b.xyz"], ["convert", "a.onnx", "b.xyz", "--to", "zip"]
    ])
    func usageErrorsExitTwo(arguments: [String]) throws {
        let exe = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let p = Process()
        p.executableURL = exe.deletingLastPathComponent().appendingPathComponent("ferry")
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 2)
    }
}
