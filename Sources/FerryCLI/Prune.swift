import ArgumentParser
import Ferry
import FerryIR
import FerryPasses
import Foundation

extension PruneMethod: ExpressibleByArgument {}
extension PruneScope: ExpressibleByArgument {}

/// `ferry prune IN OUT --sparsity S`: zero the smallest weights or remove whole channels.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prune a model's Conv, ConvTranspose, Gemm and MatMul weights.",
        discussion: """
            magnitude: the smallest-magnitude weights become zero, exactly the requested fraction of each weight \
            (--scope layer) or of all prunable weights together (--scope global); shapes stay.
            channels: whole filters / units with the smallest L1 norms are removed with the matching input channels \
            of the layers reading them (through normalization, activations, per-channel constants, Concat, residual \
            Adds, depthwise convolutions); layers whose channels reach a graph output or an op with no clear channel \
            mapping are left alone, and the summary says why.
            Prunable weights are float32 initializers of at least --min-elements elements (biases and normalization \
            parameters never are). The output format follows OUT's extension.
            """)

    @OptionGroup var files: RewriteOptions

    @OptionGroup var progress: ProgressOptions

    @Option(help: ArgumentHelp("Fraction to remove, in [0, 1).", valueName: "s"))
    var sparsity: Double

    @Option(help: "magnitude (unstructured) or channels (structured).")
    var method: PruneMethod = .magnitude

    @Option(help: "Magnitude only: rank weights per layer or over the whole model (default layer).")
    var scope: PruneScope?

    @Option(help: ArgumentHelp("Leave weight tensors with fewer elements alone.", valueName: "n"))
    var minElements: Int = PruneOptions.defaultMinElements

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Node names or op types to keep dense (channels: whose output channels all stay).", valueName: "node-or-op"))
    var exclude: [String] = []

    @Option(
        name: .customLong("shape"),
        help: ArgumentHelp(
            "Shape to count multiply-adds and follow channels with, NAME=1,3,224,224 (fills symbolic axes; without it they are 1).",
            valueName: "NAME=DIMS"))
    var shapes: [String] = []

    @Flag(
        help:
            "Store the result small on disk: ONNX writes mostly-zero weights as sparse initializers, HDF5 deflates its datasets.")
    var sparseStorage = false

    @Option(help: ArgumentHelp("Write the report as JSON to this file.", valueName: "file.json"))
    var report: String?

    func validate() throws {
        try validatingOptions { try options.validate() }
        for s in shapes { _ = try parseShapeOption(s) }
        if method == .channels && scope != nil { throw ValidationError("--scope is for --method magnitude") }
        if let report, report.isEmpty || report == files.input || report == files.output {
            throw ValidationError("--report needs a file name other than IN and OUT")
        }
    }

    /// The library options the flags ask for (input shapes apart: they are parsed in `run`).
    var options: PruneOptions {
        PruneOptions(sparsity: sparsity, method: method, scope: scope ?? .layer, minElements: minElements, exclude: exclude)
    }

    func run() throws {
        progress.start()
        let loaded = try files.load()
        var model = loaded.model
        var options = self.options
        options.inputShapes = try inputShapes(shapes, inputs: model.graph.runtimeInputs.map(\.name))
        var result = try Pruning.prune(&model, options: options)
        result.notes.append(try outputComparison(loaded.model, model, shapes: options.inputShapes))
        if sparseStorage && ModelFormat(path: files.output) == .onnx {
            let pruned = result.layers.filter(\.pruned).map(\.weight)
            let stored = SparseStorage.convert(&model, names: pruned)
            if (model.irVersion ?? 0) < 6 {
                result.notes.append("IR version \(model.irVersion ?? 0) has no sparse initializers; weights stored dense")
            } else if stored.isEmpty {
                result.notes.append(
                    "no weight stored as sparse: a sparse initializer takes less space only under a third nonzero (12 bytes per nonzero against 4 per element)"
                        + (pruned.isEmpty ? ", and no weight was pruned" : "; raise --sparsity above 0.67"))
            } else {
                result.notes.append("\(stored.count) weights stored as sparse initializers")
            }
        }
        try files.save(model, from: loaded, compress: sparseStorage)
        result.fileBytesBefore = fileSize(files.input)
        result.fileBytesAfter = fileSize(files.output)
        print(result.text, terminator: "")
        if let report { try writeJSON(result, to: report) }
    }

    /// The pruned model's outputs against the original's on random inputs (seed 0; the --shape
    /// sizes), as quantize compares with the float model: one note.
    private func outputComparison(_ original: Model, _ pruned: Model, shapes: [String: [Int]]) throws -> String {
        let outputs = try outputsOnRandomInputs(original, pruned, shapes: shapes, seed: 0)
        let text = outputs.map {
            "'\($0.a)' max abs difference \(String(format: "%.3g", $0.maxAbsDifference)) (\(String(format: "%.2g", $0.maxRelDifference * 100))% of its range)"
        }
        return "outputs vs the unpruned model on random inputs (seed 0): " + text.joined(separator: ", ")
    }
}
