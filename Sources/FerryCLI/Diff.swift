import ArgumentParser
import Ferry
import FerryIR
import FerryRuntime
import Foundation

/// `ferry diff A B`: how two models differ, in structure and in the values of a run.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two models: interface, ops, initializers, attributes, and every value of a run on the same inputs.",
        discussion:
            "Any formats (a Keras .h5 against its ONNX conversion, a model against its optimize or quantize output). Both run on the same inputs (--input files, else random with --seed; B gets them by name, else by position); each value of A is compared with B's through a DequantizeLinear standing for it, else of the same name, else computed by the same op type at the same position. Exit 0 when the interfaces agree and every compared value is within tolerance (|a - b| <= atol + rtol * max |a| for each value), 1 when not. Tensor files compare their tensors."
    )

    @Argument(help: "The first model (the reference).")
    var a: String

    @Argument(help: "The second model.")
    var b: String

    @OptionGroup var inputOptions: InputOptions

    @Option(help: "Relative tolerance.")
    var rtol = 1e-4

    @Option(help: "Absolute tolerance.")
    var atol = 1e-5

    @Option(help: "How many of the values furthest from A's to list.")
    var worst = 5

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var reading: ReadingOptions

    func validate() throws {
        guard rtol >= 0, atol >= 0, rtol.isFinite, atol.isFinite else {
            throw ValidationError("--rtol and --atol must be 0 or more")
        }
        guard worst >= 0 else { throw ValidationError("--worst must be 0 or more") }
    }

    func run() throws {
        CrashGuard.guardReading(a)
        let modelA = try ModelIO.load(a, options: reading.loadOptions).model
        CrashGuard.guardReading(b)
        let modelB = try ModelIO.load(b, options: reading.loadOptions).model
        var options = DiffOptions()
        options.rtol = rtol
        options.atol = atol
        options.worst = worst
        var feeds: Feeds?
        if !modelA.graph.nodes.isEmpty && !modelB.graph.nodes.isEmpty {
            feeds = try inputOptions.feeds(
                for: modelA.graph.runtimeInputs, memoryLimit: SessionOptions().maxMemoryBytes, random: true)
        }
        var diff = try ModelDiff.compare(modelA, modelB, feeds: feeds?.tensors, options: options)
        if let feeds {
            diff.numeric?.inputs = feeds.random.isEmpty ? "given" : "random, seed \(inputOptions.seed)"
        }
        if json {
            try printJSON(DiffReport(a: a, b: b, diff: diff))
        } else {
            print(DiffText(a: a, b: b, diff: diff).text, terminator: "")
        }
        if !diff.equal { throw ExitCode(1) }
    }
}

/// `ferry diff --json` output.
struct DiffReport: Encodable {
    let a: String
    let b: String
    let diff: ModelDiff
}

/// The text form of a `ModelDiff`: what changed, then the run, then the verdict.
struct DiffText {
    let text: String

    init(a: String, b: String, diff d: ModelDiff) {
        var lines = ["A: \(a)", "B: \(b)"]
        func values(_ kind: String, _ changes: [ModelDiff.ValueChange]) {
            for c in changes {
                lines.append("\(kind) '\(c.name)': " + (c.a ?? "absent") + " -> " + (c.b ?? "absent"))
            }
        }
        values("input", d.inputs)
        values("output", d.outputs)
        if !d.ops.isEmpty {
            lines.append("ops: " + d.ops.map { "\($0.op) \($0.a) -> \($0.b)" }.joined(separator: ", "))
        }
        var initializers = "initializers: \(grouped(d.initializersInBoth)) in both, \(d.initializersChanged.count) changed"
        if !d.initializersOnlyInA.isEmpty { initializers += ", \(d.initializersOnlyInA.count) only in A" }
        if !d.initializersOnlyInB.isEmpty { initializers += ", \(d.initializersOnlyInB.count) only in B" }
        lines.append(initializers)
        for c in d.initializersChanged.prefix(10) {
            let difference = c.maxAbsDifference.map { ", max abs difference \(number($0))" } ?? ""
            lines.append("  '\(c.name)': \(c.a) -> \(c.b)\(difference)")
        }
        for c in d.attributes.prefix(20) {
            lines.append("attribute '\(c.attribute)' of '\(c.node)' (\(c.op)): \(c.a ?? "absent") -> \(c.b ?? "absent")")
        }
        if let n = d.numeric {
            lines.append(
                "run (inputs \(n.inputs); rtol \(number(n.rtol)), atol \(number(n.atol))): \(grouped(n.compared)) values compared "
                    + "(\(n.matchedByName) by name, \(n.matchedByPosition) by position, \(n.matchedByDequantize) through DequantizeLinear)"
            )
            if let f = n.firstOverTolerance {
                lines.append("\(grouped(n.overTolerance)) over the tolerance; the first: " + Self.pair(f))
            } else {
                lines.append("all within the tolerance")
            }
            if !n.worst.isEmpty {
                lines.append("furthest:")
                for p in n.worst { lines.append("  " + Self.pair(p)) }
            }
        }
        lines.append(d.equal ? "equal within the tolerance" : "different")
        text = lines.joined(separator: "\n") + "\n"
    }

    private static func pair(_ p: NumericDiff.Pair) -> String {
        let name = p.a == p.b ? "'\(p.a)'" : "'\(p.a)' / '\(p.b)'"
        if let m = p.mismatch { return "\(name) (\(p.op)): \(m)" }
        return "\(name) (\(p.op)): max abs difference \(number(p.maxAbsDifference)), relative \(number(p.maxRelDifference))"
    }
}

/// A figure with 3 significant digits.
private func number(_ x: Double) -> String { String(format: "%.3g", x) }
