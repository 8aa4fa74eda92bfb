import ArgumentParser
import Ferry
import FerryIR
import FerryPasses

/// `ferry optimize IN OUT`: graph optimizations that keep the model's outputs (to float rounding).
struct Optimize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Optimize a model's graph; the outputs stay the same up to float rounding.",
        discussion: """
            Passes (in order, repeated until nothing changes): \(Optimizer.passNames.joined(separator: ", ")). \
            Nested graphs (If/Loop/Scan bodies) are left as they are.
            fuse-activations writes com.microsoft FusedConv nodes, which onnxruntime and Ferry run but other \
            ONNX runtimes may not: pass --no-fuse-activations for standard ONNX only. It is off when OUT is not \
            an ONNX file.
            """)

    @OptionGroup var files: RewriteOptions

    @OptionGroup var progress: ProgressOptions

    @Flag(help: "Do not fuse Conv and activation pairs into com.microsoft FusedConv nodes.")
    var noFuseActivations = false

    @Option(
        name: .customLong("skip"), parsing: .upToNextOption,
        help: ArgumentHelp("Passes not to run (after IN and OUT, or one --skip per pass).", valueName: "pass"))
    var skip: [String] = []

    @Option(
        help: ArgumentHelp("Most bytes a constant fold may add to the model beyond the constants it reads.", valueName: "bytes"))
    var foldLimit = ConstantFolding.defaultGrowthLimit

    @Option(
        name: .customLong("shape"),
        help: ArgumentHelp(
            "Fix an input's symbolic sizes, NAME=1,3,224,224 (or DIMS for a single input), so the shape arithmetic after it folds.",
            valueName: "NAME=DIMS"))
    var shapeOptions: [String] = []

    @Flag(
        help:
            "Run IN and the optimized model on the same random inputs (--seed; the --shape sizes) and compare their outputs before writing OUT, as onnx-simplifier does."
    )
    var check = false

    @Option(help: "--check: seed of the random inputs.")
    var seed: UInt64 = 0

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        try validatingOptions { _ = try optimizer() }
        for s in shapeOptions { _ = try parseShapeOption(s) }
    }

    /// The optimizer the flags ask for; Conv + activation fusion only when OUT is ONNX.
    func optimizer() throws -> Optimizer {
        try Optimizer(
            skip: Set(skip), fuseActivations: !noFuseActivations && ModelFormat(path: files.output) == .onnx,
            foldLimit: foldLimit)
    }

    func run() throws {
        progress.start()
        let loaded = try files.load()
        var model = loaded.model
        let shapes = try validatingOptions { try inputShapes(shapeOptions, inputs: model.graph.runtimeInputs.map(\.name)) }
        let fixed = try validatingOptions { try InputShapeFixing(shapes: shapes).apply(to: &model) }
        var passes = fixed > 0 ? [Summary.Pass(name: "fix-input-shapes", rewrites: fixed)] : []
        let report = try optimizer().optimize(&model)
        passes += report.passes.map { Summary.Pass(name: $0.name, rewrites: $0.rewrites) }
        var checked: String?
        if check { checked = try compare(loaded.model, model, shapes: shapes) }
        try files.save(model, from: loaded)
        let summary = Summary(
            nodesBefore: loaded.model.graph.nodes.count, nodesAfter: model.graph.nodes.count,
            weightBytesBefore: loaded.model.graph.weightBytes, weightBytesAfter: model.graph.weightBytes,
            rounds: report.rounds, passes: passes, check: checked)
        if json { try printJSON(summary) } else { print(summary.text(output: files.output)) }
    }

    /// Runs both models on the same random inputs and compares their outputs (`DiffOptions`'
    /// tolerance); a difference fails the command before anything is written.
    private func compare(_ original: Model, _ optimized: Model, shapes: [String: [Int]]) throws -> String {
        let outputs = try outputsOnRandomInputs(original, optimized, shapes: shapes, seed: seed)
        let worst = outputs.map(\.maxAbsDifference).max() ?? 0
        // outputs only: with --shape the inputs' declared types differ on purpose
        guard outputs.count == original.graph.outputs.count, outputs.allSatisfy({ $0.toleranceRatio <= 1 }) else {
            let bad = outputs.first { $0.toleranceRatio > 1 }
            throw CheckFailure(
                "\(files.output) not written: the optimized model's output"
                    + (bad.map { " '\($0.a)' differs by up to \(String(format: "%.3g", $0.maxAbsDifference))" }
                        ?? "s differ from the input's")
                    + " on random inputs (seed \(seed))")
        }
        return
            "\(outputs.count) output(s) equal within the tolerance on random inputs (seed \(seed)), largest difference \(String(format: "%.3g", worst))"
    }

    /// What `optimize` reports.
    private struct Summary: Encodable {
        struct Pass: Encodable {
            let name: String
            let rewrites: Int
        }
        let nodesBefore: Int
        let nodesAfter: Int
        /// Bytes of the initializers and Constant node values: the weights wherever they are.
        let weightBytesBefore: Int
        let weightBytesAfter: Int
        let rounds: Int
        let passes: [Pass]
        /// With --check: what the comparison found.
        let check: String?

        func text(output: String) -> String {
            var lines = [
                "wrote \(output)",
                "nodes: \(grouped(nodesBefore)) -> \(grouped(nodesAfter))",
                "weight bytes (initializers and Constants): \(grouped(weightBytesBefore)) -> \(grouped(weightBytesAfter))"
            ]
            let width = passes.map(\.name.count).max() ?? 0
            lines += passes.map { "  \($0.name.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.rewrites)" }
            if let check { lines.append("check: " + check) }
            return lines.joined(separator: "\n")
        }
    }
}
