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

    @Flag(help: "Do not fuse Conv and activation pairs into com.microsoft FusedConv nodes.")
    var noFuseActivations = false

    @Option(
        name: .customLong("skip"), parsing: .upToNextOption,
        help: ArgumentHelp("Passes not to run (after IN and OUT, or one --skip per pass).", valueName: "pass"))
    var skip: [String] = []

    @Option(
        help: ArgumentHelp("Most bytes a constant fold may add to the model beyond the constants it reads.", valueName: "bytes"))
    var foldLimit = ConstantFolding.defaultGrowthLimit

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        try validatingOptions { _ = try optimizer() }
    }

    /// The optimizer the flags ask for; Conv + activation fusion only when OUT is ONNX.
    func optimizer() throws -> Optimizer {
        try Optimizer(
            skip: Set(skip), fuseActivations: !noFuseActivations && ModelFormat(path: files.output) == .onnx,
            foldLimit: foldLimit)
    }

    func run() throws {
        let loaded = try files.load()
        var model = loaded.model
        let before = GraphSize(model)
        let report = try optimizer().optimize(&model)
        try files.save(model, from: loaded)
        let after = GraphSize(model)
        let summary = Summary(
            nodesBefore: before.nodes, nodesAfter: after.nodes,
            initializerBytesBefore: before.initializerBytes, initializerBytesAfter: after.initializerBytes,
            rounds: report.rounds, passes: report.passes.map { Summary.Pass(name: $0.name, rewrites: $0.rewrites) })
        if json { try printJSON(summary) } else { print(summary.text(output: files.output)) }
    }

    /// Node count and initializer bytes of a main graph.
    private struct GraphSize {
        let nodes: Int
        let initializerBytes: Int
        init(_ model: Model) {
            nodes = model.graph.nodes.count
            initializerBytes = model.graph.initializers.reduce(0) { $0 + $1.byteCount }
        }
    }

    /// What `optimize` reports.
    private struct Summary: Encodable {
        struct Pass: Encodable {
            let name: String
            let rewrites: Int
        }
        let nodesBefore: Int
        let nodesAfter: Int
        let initializerBytesBefore: Int
        let initializerBytesAfter: Int
        let rounds: Int
        let passes: [Pass]

        func text(output: String) -> String {
            var lines = [
                "wrote \(output)",
                "nodes: \(nodesBefore) -> \(nodesAfter)",
                "initializer bytes: \(initializerBytesBefore) -> \(initializerBytesAfter)"
            ]
            let width = passes.map(\.name.count).max() ?? 0
            lines += passes.map { "  \($0.name.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.rewrites)" }
            return lines.joined(separator: "\n")
        }
    }
}
