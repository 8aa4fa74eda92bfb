import ArgumentParser
import Ferry
import FerryHDF5
import FerryIR
import FerryPasses
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

    @Flag(
        help:
            "List the element type and shape of every input and node output instead, inferred by running the model three times on zero inputs (symbolic sizes kept by name: N, N+1, ceil(H/2), N*T; unknown as ?)."
    )
    var shapes = false

    @Option(
        help: ArgumentHelp(
            "Also draw the graph: FILE.dot (Graphviz text), FILE.svg or FILE.html (a page that pans, zooms and folds nested graphs); .svg and .html need Graphviz's dot.",
            valueName: "file"))
    var graph: String?

    @Option(
        name: .customLong("shape"),
        help: ArgumentHelp(
            "With --shapes: fix an input's shape, NAME=1,3,224,224 (or DIMS for a single input).", valueName: "NAME=DIMS"))
    var inputShapeOptions: [String] = []

    @Option(
        help: ArgumentHelp(
            "Format of MODEL instead of the one its extension names; hdf5 lists the file's groups and datasets (paths, dtypes, shapes, attributes) as h5ls does.",
            valueName: "format"))
    var format: ModelFormat?

    @OptionGroup var reading: ReadingOptions

    func validate() throws {
        if let graph, ![".dot", ".svg", ".html"].contains(where: { graph.lowercased().hasSuffix($0) }) {
            throw ValidationError("--graph writes .dot, .svg or .html files (got '\(graph)')")
        }
        for s in inputShapeOptions { _ = try parseShapeOption(s) }
        if !inputShapeOptions.isEmpty && !shapes { throw ValidationError("--shape is for --shapes") }
    }

    func run() throws {
        CrashGuard.guardReading(model)
        if format == .hdf5 && !shapes {
            try listHDF5()
            return
        }
        var options = reading.loadOptions
        // the structure of a model whose weights file is missing can still be shown (not run)
        options.toleratesMissingExternalData = !shapes && graph == nil
        let loaded = try ModelIO.load(model, format: format, options: options)
        if shapes {
            guard !loaded.model.graph.nodes.isEmpty else {
                throw ValidationError("--shapes needs a model with a graph, not only tensors")
            }
            let given = try inputShapes(inputShapeOptions, inputs: loaded.model.graph.runtimeInputs.map(\.name))
            let listing = try SymbolicShapes.infer(loaded.model, given: given)
            let values = listing.values.map(ValueShapeRow.init)
            if json {
                try printJSON(
                    ValueShapeListing(file: model, values: values, symbolicSizeMultiple: listing.assumesMultiplesOf32 ? 32 : 1))
            } else {
                print(ValueShapeRow.table(values), terminator: "")
                if listing.assumesMultiplesOf32 {
                    print("(the model ran only with its symbolic sizes at multiples of 32: the sizes hold for those)")
                }
            }
            return
        }
        if let graph { try drawGraph(loaded.model, to: graph) }
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
        for (i, f) in s.missingFiles.enumerated() {
            row(i == 0 ? "missing" : "", "\(f) (external data not found: the weights' values are not read)")
        }
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

extension Inspect {
    /// `--graph FILE`: DOT, or Graphviz's SVG of it, or that SVG in a page; edges labelled with
    /// the inferred shapes when the model runs on probing inputs, else the declared ones.
    func drawGraph(_ m: Model, to path: String) throws {
        guard !m.graph.nodes.isEmpty else { throw ValidationError("--graph needs a model with a graph, not only tensors") }
        var shapes: [String: String] = [:]
        if let listing = try? SymbolicShapes.infer(m) {
            for v in listing.values {
                shapes[v.name] = "[" + (v.dims?.map(\.description).joined(separator: ",") ?? "?") + "]"
            }
        } else {
            for v in m.graph.valueInfo + m.graph.inputs { if let t = v.type { shapes[v.name] = t.description } }
        }
        let dot = GraphPicture.dot(m, shapes: shapes)
        var text = dot
        if !path.lowercased().hasSuffix(".dot") {
            let svg = try graphviz(dot)
            text = path.lowercased().hasSuffix(".svg") ? svg : GraphPicture.html(svg: svg, title: model)
        }
        let file = try AtomicFile(path: path, replace: true)
        try Array(text.utf8).withUnsafeBytes { try file.write($0) }
        try file.commit()
    }

    /// Graphviz's `dot -Tsvg` on `dot` text.
    private func graphviz(_ dot: String) throws -> String {
        guard
            let exe = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
                .map({ $0 + "/dot" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            throw ValidationError(
                "--graph: .svg and .html need Graphviz's dot (Debian: apt-get install graphviz); .dot needs nothing")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["-Tsvg"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        // write on another thread: dot may fill its output pipe before reading all its input
        let writer = Thread {
            input.fileHandleForWriting.write(Data(dot.utf8))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let svg = output.fileHandleForReading.readDataToEndOfFile()
        _ = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw CheckFailure("--graph: Graphviz's dot failed (status \(p.terminationStatus))")
        }
        return String(decoding: svg, as: UTF8.self)
    }

    /// `--format hdf5`: the groups and datasets actually in the file, as h5ls -r lists them, with
    /// their attributes (a Keras .h5 shown as the file it is, not as the model it holds).
    func listHDF5() throws {
        let file = try HDF5File.open(model, allowExternal: reading.allowExternalData, reading: reading.loadOptions.hdf5Reading)
        let entries = try HDF5TensorTree.listing(file)
        if json {
            try printJSON(HDF5Listing(file: model, entries: entries.map(HDF5Listing.Entry.init)))
            return
        }
        for e in entries {
            let kind = e.elementType.map { "dataset \($0.name)[\(e.shape!.map(String.init).joined(separator: ","))]" } ?? "group"
            print("\(e.path)  \(kind)")
            for a in e.attributes { print("    @\(a.key) = \(a.value)") }
        }
    }
}

/// `ferry inspect --format hdf5 --json` output.
struct HDF5Listing: Encodable {
    struct Entry: Encodable {
        let path: String
        /// "group" or "dataset".
        let kind: String
        let dtype: String?
        let shape: [Int]?
        let attributes: [String: String]

        init(_ e: HDF5TensorTree.Entry) {
            path = e.path
            kind = e.elementType == nil ? "group" : "dataset"
            dtype = e.elementType?.name
            shape = e.shape
            attributes = Dictionary(e.attributes.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
    }
    let file: String
    let entries: [Entry]
}

/// `ferry inspect --shapes --json` output.
struct ValueShapeListing: Encodable {
    let file: String
    let values: [ValueShapeRow]
    /// 32 when the model ran only with its symbolic sizes at multiples of 32 (the sizes hold for
    /// those), else 1.
    let symbolicSizeMultiple: Int
}

/// One value of `inspect --shapes`: each axis a size, a symbolic expression or null (unknown).
struct ValueShapeRow: Encodable {
    let name: String
    let dtype: String
    /// Nil when even the rank is unknown.
    let shape: [ModelSummary.ShapeAxis]?
    /// The op type computing it, or "input".
    let op: String

    init(_ v: SymbolicValue) {
        name = v.name
        dtype = v.elementType.name
        shape = v.dims?.map(ModelSummary.ShapeAxis.init)
        op = v.producer ?? "input"
    }

    /// The rows as aligned text columns: value, dtype, shape, op.
    static func table(_ rows: [ValueShapeRow]) -> String {
        let shapes = rows.map { r in r.shape.map { "[" + $0.map(\.text).joined(separator: ",") + "]" } ?? "[?]" }
        let nameWidth = max(5, rows.map(\.name.count).max() ?? 0), shapeWidth = max(5, shapes.map(\.count).max() ?? 0)
        let line = { (name: String, dtype: String, shape: String, op: String) in
            name.padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0)
                + dtype.padding(toLength: 10, withPad: " ", startingAt: 0)
                + shape.padding(toLength: shapeWidth + 2, withPad: " ", startingAt: 0) + op
        }
        return ([line("value", "dtype", "shape", "op")] + zip(rows, shapes).map { line($0.name, $0.dtype, $1, $0.op) })
            .joined(separator: "\n") + "\n"
    }
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
