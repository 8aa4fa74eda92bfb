import ArgumentParser
import Ferry
import FerryIR
import FerryPasses
import FerryRuntime
import Foundation

/// `ferry convert IN OUT`: read a model in one format and write it in another (by extension).
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a model file; formats are picked by extension.",
        discussion: """
            Formats: .onnx; .h5/.hdf5 (a full Keras model, or any tree of tensors); .keras (Keras 3, read only); \
            .safetensors; .npz; .pt/.pth/.bin and .bin.index.json (PyTorch checkpoints, read without running \
            their pickle; --key picks the entry holding the tensors; written as a state dict torch.load \
            loads with weights_only=True). A graph written to .h5 becomes a Keras model that tf.keras and \
            Keras 3 load; --weights-only writes just its tensors.
            --dtype float16|bfloat16 stores the weights and runs the graph in half precision: Resize scales and \
            roi stay float32, Casts to float32 become Casts to the half type, nodes of --exclude (and \
            quantization ops, control flow, other domains) compute in float32 with Casts around them, float16 \
            weights beyond ±65504 are clamped (named in a warning). Tensor-only files: every float32 tensor is \
            rounded to nearest even.
            The output is written to a temporary file and renamed into place; the input is never modified.
            """)

    @Argument(help: "The model to read.")
    var input: String

    @Argument(help: "The file to write.")
    var output: String

    @Option(help: ArgumentHelp("Format of IN instead of the one its extension (or its content) shows.", valueName: "format"))
    var from: ModelFormat?

    @Option(help: ArgumentHelp("Format of OUT instead of the one its extension names.", valueName: "format"))
    var to: WritableFormat?

    @OptionGroup var externalData: ExternalDataOptions

    @Flag(help: "Write only the tensors (initializers), not the graph.")
    var weightsOnly = false

    @Flag(help: "HDF5: store tensors chunked and deflate-compressed.")
    var compress = false

    @Option(help: ArgumentHelp("Store weights and compute in half precision: float16 or bfloat16.", valueName: "type"))
    var dtype: HalfType?

    @Flag(help: "--dtype: keep float32 graph inputs and outputs (Casts at the edges), in their order.")
    var keepIOTypes = false

    @Option(
        parsing: .upToNextOption, help: ArgumentHelp("--dtype: node names or op types left in float32.", valueName: "node-or-op"))
    var exclude: [String] = []

    @OptionGroup var reading: ReadingOptions

    @OptionGroup var progress: ProgressOptions

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    @Flag(help: "Run IN and the written OUT in the interpreter on the same inputs and compare every output.")
    var check = false

    @Option(
        help: ArgumentHelp(
            "--check: largest difference allowed, |a - b| <= tolerance * (1 + |a|) (default 1e-4; 1e-2 with --dtype).",
            valueName: "x"))
    var tolerance: Double?

    @OptionGroup(title: "--check inputs") var checkInputs: InputOptions
    @OptionGroup(title: "--check runs") var execution: ExecutionOptions

    func validate() throws {
        _ = try outputFormat(output, given: to)
        if !check && (!checkInputs.inputs.isEmpty || !checkInputs.shapes.isEmpty) {
            throw ValidationError("--input and --shape are for --check")
        }
        guard (tolerance ?? 0) >= 0 else { throw ValidationError("--tolerance must be 0 or more") }
        if dtype == nil && (keepIOTypes || !exclude.isEmpty) {
            throw ValidationError("--keep-io-types and --exclude are for --dtype")
        }
    }

    /// The half-precision types of --dtype.
    enum HalfType: String, ExpressibleByArgument, CaseIterable {
        case float16, bfloat16
        var elementType: ElementType { self == .float16 ? .float16 : .bfloat16 }
    }

    func run() throws {
        progress.start()
        CrashGuard.guardReading(input)
        let loaded = try ModelIO.load(input, format: from, options: reading.loadOptions)
        if let source = loaded.tensorSource {
            print("\(loaded.model.graph.initializers.count) tensors from \(source) of \(input)")
        }
        var model = loaded.model
        if let dtype { model = try toHalfPrecision(model, dtype.elementType) }
        var options = SaveOptions()
        options.replaceExisting = force
        options.weightsOnly = weightsOnly
        options.compress = compress
        options.protectedFiles = loaded.sourceFiles
        externalData.apply(to: &options, output: output, from: loaded)
        try ModelIO.save(model, to: output, format: to?.format, options: options)
        if check { try compareOutputs(source: loaded.model) }
    }

    /// `model` converted by `--dtype`, with a line saying what changed and a warning per clamped tensor.
    private func toHalfPrecision(_ model: Model, _ type: ElementType) throws -> Model {
        let options = HalfPrecisionOptions(type: type, keepIOTypes: keepIOTypes, exclude: exclude)
        let (converted, report) = try HalfPrecisionConversion.convert(model, options)
        for (tensor, count) in report.clamped {
            warn("tensor '\(tensor)': \(count) values beyond float16's range clamped to ±65504")
        }
        var line = "\(type.name): \(report.convertedTensors) tensors converted"
        if !report.keptInFloat32.isEmpty {
            let shown = report.keptInFloat32.prefix(8).joined(separator: ", ")
            line +=
                "; \(report.keptInFloat32.count) nodes kept in float32 (\(shown)\(report.keptInFloat32.count > 8 ? ", ..." : ""))"
        }
        if report.castsAdded > 0 { line += "; \(report.castsAdded) casts added" }
        if report.upgradedToOpset13 { line += "; upgraded to opset 13 (bfloat16 starts there)" }
        print(line)
        return converted
    }

    /// Runs the source model and the file just written on the same inputs; fails when any output
    /// differs by more than the tolerance.
    private func compareOutputs(source: Model) throws {
        guard !source.graph.nodes.isEmpty else { throw ValidationError("--check needs a model with a graph, not only tensors") }
        let written = try ModelIO.load(output, format: to?.format, options: reading.loadOptions)
        let a = try InferenceSession(model: source, options: execution.sessionOptions)
        let b = try InferenceSession(model: written.model, options: execution.sessionOptions)
        let feeds = try checkInputs.feeds(for: a, random: true).tensors
        guard a.inputs.count == b.inputs.count else {
            throw CheckFailure("\(output) has \(b.inputs.count) inputs, \(input) has \(a.inputs.count)")
        }
        let feedsB = InputMatching.feeds(feeds, from: source.graph, to: written.model.graph)
        let (outA, outB) = try checkInputs.explainingDefaultedAxes(of: a) { (try a.run(feeds), try b.run(feedsB)) }
        guard outA.count == outB.count else {
            throw CheckFailure("\(output) has \(outB.count) outputs, \(input) has \(outA.count)")
        }
        var worst = 0.0
        for (x, y) in zip(outA, outB) {
            let sameType = x.tensor.elementType == y.tensor.elementType || dtype != nil && x.tensor.elementType == .float
            guard x.tensor.shape == y.tensor.shape, sameType else {
                throw CheckFailure(
                    "output '\(x.name)': \(input) gives \(x.tensor.elementType.name)\(x.tensor.shape), \(output) gives \(y.tensor.elementType.name)\(y.tensor.shape)"
                )
            }
            let (diff, relative) = maxDifference(x.tensor, y.tensor)
            worst = max(worst, relative)
            print("check: output '\(x.name)' \(x.tensor.shape): max difference \(String(format: "%.3g", diff))")
        }
        let limit = tolerance ?? (dtype == nil ? 1e-4 : 1e-2)
        if worst > limit {
            throw CheckFailure(
                "\(output) differs from \(input) by up to \(String(format: "%.3g", worst)) (relative), above --tolerance \(limit)"
            )
        }
    }
}

/// `convert --check` found different outputs.
struct CheckFailure: Error, CustomStringConvertible {
    let description: String
    init(_ text: String) { description = text }
}

/// The largest absolute difference between two tensors, and the largest |a - b| / (1 + |a|).
func maxDifference(_ a: Tensor, _ b: Tensor) -> (absolute: Double, relative: Double) {
    guard let x = a.numericValues, let y = b.numericValues else {
        return a.bytes == b.bytes ? (0, 0) : (.infinity, .infinity)
    }
    var absolute = 0.0, relative = 0.0
    if x.count != y.count { return (.infinity, .infinity) }
    for (p, q) in zip(x, y) {
        if p.isNaN && q.isNaN { continue }
        let d = abs(p - q)
        if d.isNaN { return (.infinity, .infinity) }
        absolute = max(absolute, d)
        relative = max(relative, d / (1 + abs(p)))
    }
    return (absolute, relative)
}
