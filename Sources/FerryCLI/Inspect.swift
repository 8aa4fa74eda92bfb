import ArgumentParser
import Ferry
import Foundation

/// `ferry inspect MODEL`: format, interface, operators and parameters of a model.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's format, inputs and outputs, operators and parameters.")

    @Argument(help: "The model file.")
    var model: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "List every stored tensor (initializers and Constant values).")
    var tensors = false

    @Option(help: ArgumentHelp("Format of MODEL instead of the one its extension names.", valueName: "format"))
    var format: ModelFormat?

    @OptionGroup var reading: ReadingOptions

    func run() throws {
        CrashGuard.guardReading(model)
        let loaded = try ModelIO.load(model, format: format, options: reading.loadOptions)
        let summary = ModelSummary(loaded, file: model, includeTensors: tensors)
        if json {
            try printJSON(summary)
        } else {
            print(SummaryTable(summary).text, terminator: "")
        }
    }
}

/// The text layout of a `ModelSummary`.
struct SummaryTable {
    let text: String

    init(_ s: ModelSummary) {
        var lines: [String] = []
        func row(_ key: String, _ value: String) { lines.append(key.padding(toLength: 12, withPad: " ", startingAt: 0) + value) }
        row("file", s.file)
        if s.format == "onnx" {
            row("format", "ONNX" + (s.irVersion.map { " (IR version \($0))" } ?? ""))
            row("opsets", s.opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        } else {
            row("format", s.format.uppercased() + (s.nodeCount == 0 ? " (tensors only)" : ""))
        }
        if s.format == "onnx" && !s.producer.isEmpty { row("producer", s.producer) }
        if s.format == "onnx" && !s.graphName.isEmpty { row("graph", s.graphName) }
        let width = (s.inputs + s.outputs).map(\.name.count).max() ?? 0
        for (i, v) in s.inputs.enumerated() {
            row(i == 0 ? "inputs" : "", v.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + v.type)
        }
        for (i, v) in s.outputs.enumerated() {
            row(i == 0 ? "outputs" : "", v.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + v.type)
        }
        if let layers = s.kerasLayers {
            lines.append("")
            let shapeText = { (shapes: [[Int?]]) in
                shapes.map { "(" + $0.map { $0.map(String.init) ?? "None" }.joined(separator: ", ") + ")" }.joined(
                    separator: ", ")
            }
            let nameWidth = max(14, layers.map { $0.name.count + $0.className.count + 3 }.max() ?? 0)
            let shapeWidth = max(14, layers.map { shapeText($0.outputShapes).count }.max() ?? 0)
            lines.append(
                "Layer (type)".padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0)
                    + "Output Shape".padding(toLength: shapeWidth + 2, withPad: " ", startingAt: 0) + "Param #")
            for l in layers {
                lines.append(
                    "\(l.name) (\(l.className))".padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0)
                        + shapeText(l.outputShapes).padding(toLength: shapeWidth + 2, withPad: " ", startingAt: 0)
                        + grouped(l.parameters))
            }
            lines.append("Total params: \(grouped(layers.reduce(0) { $0 + $1.parameters }))")
            lines.append("")
            lines.append("converted to ONNX (opset 17):")
        }
        row("nodes", "\(s.nodeCount)")
        let opWidth = s.ops.map(\.op.count).max() ?? 0
        for op in s.ops { row("", op.op.padding(toLength: opWidth + 2, withPad: " ", startingAt: 0) + "\(op.count)") }
        row("parameters", "\(grouped(s.parameterCount)) (\(byteText(s.parameterBytes)))")
        for g in s.parametersByDtype {
            row(
                "",
                g.dtype.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + grouped(g.count).padding(toLength: 16, withPad: " ", startingAt: 0) + byteText(g.bytes))
        }
        let keyWidth = min(40, s.metadata.map(\.key.count).max() ?? 0)
        for (i, m) in s.metadata.enumerated() {
            let flat = m.value.replacingOccurrences(of: "\n", with: " ")
            let value = flat.count > 120 ? String(flat.prefix(117)) + "..." : flat
            row(i == 0 ? "metadata" : "", m.key.padding(toLength: keyWidth + 2, withPad: " ", startingAt: 0) + value)
        }
        if let tensors = s.tensors {
            lines.append("")
            let nameWidth = max(4, tensors.map(\.name.count).max() ?? 0)
            lines.append(
                "name".padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0)
                    + "dtype     shape                 bytes       source")
            for t in tensors {
                let shape = "[" + t.shape.map(String.init).joined(separator: ",") + "]"
                lines.append(
                    t.name.padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0)
                        + t.dtype.padding(toLength: 10, withPad: " ", startingAt: 0)
                        + shape.padding(toLength: 22, withPad: " ", startingAt: 0)
                        + String(t.bytes).padding(toLength: 12, withPad: " ", startingAt: 0) + t.source)
            }
        }
        text = lines.joined(separator: "\n") + "\n"
    }
}

/// `1234567` as `1,234,567`.
func grouped(_ n: Int) -> String {
    let digits = Array(String(n))
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return out
}

/// A byte count in B, KB, MB or GB (powers of 1000, one decimal).
func byteText(_ n: Int) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var v = Double(n), u = 0
    while v >= 1000 && u < units.count - 1 {
        v /= 1000
        u += 1
    }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
}
