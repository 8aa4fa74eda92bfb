import ArgumentParser
import Ferry
import FerryIR
import FerryPasses

/// `ferry edit IN OUT`: model surgery (the library's `ModelEdit`).
struct Edit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Edit a model: batch size, input axes, renames, extra outputs, a subgraph, documentation.",
        discussion: """
            Edits apply in this order: --extract, --rename, --batch, --set-dim, --add-output, --merge, --opset, --strip-docs. \
            --batch sets every input's first axis (and outputs declared with the old batch); a Reshape whose constant \
            shape starts with the old batch size copies that axis from its input instead (0), and one that cannot be \
            changed safely is named. --opset rewrites the ops whose form or meaning changed between the two opsets, \
            as onnx's version converter does, and names any op the target opset cannot express. Declared shapes of \
            intermediate values are dropped (ferry inspect --shapes infers them).
            """)

    @OptionGroup var files: RewriteOptions

    @Option(help: ArgumentHelp("Batch size of every input's first axis: a number, or dynamic (N).", valueName: "n|dynamic"))
    var batch: String?

    @Option(
        parsing: .singleValue,
        help: ArgumentHelp(
            "Set an input axis: NAME:AXIS=SIZE, or NAME:AXIS=SYMBOL for a symbolic one.", valueName: "name:axis=value"))
    var setDim: [String] = []

    @Option(parsing: .singleValue, help: ArgumentHelp("Rename a value (input, output or intermediate).", valueName: "old=new"))
    var rename: [String] = []

    @Option(
        help: ArgumentHelp(
            "Keep only the subgraph from these values to these: IN1,IN2:OUT1,OUT2 (with the initializers it reads).",
            valueName: "inputs:outputs"))
    var extract: String?

    @Option(parsing: .singleValue, help: ArgumentHelp("Make an intermediate value a graph output.", valueName: "tensor"))
    var addOutput: [String] = []

    @Option(
        help: ArgumentHelp(
            "Convert to this ONNX opset (\(OpsetConversion.oldestTarget) to \(OpsetConversion.newest)); ops the target cannot express are named.",
            valueName: "n"))
    var opset: Int64?

    @OptionGroup var progress: ProgressOptions

    @Flag(help: "Remove the model's, the graph's and every node's doc strings.")
    var stripDocs = false

    @Option(help: ArgumentHelp("Append another model's graph (with --connect).", valueName: "model"))
    var merge: String?

    @Option(
        parsing: .singleValue,
        help: ArgumentHelp(
            "With --merge: feed the merged model's input B_IN with this model's output A_OUT.", valueName: "a_out:b_in"))
    var connect: [String] = []

    func validate() throws {
        _ = try edit()
    }

    /// The library edit the options ask for; usage errors for malformed values.
    func edit() throws -> ModelEdit {
        var e = ModelEdit()
        if let batch {
            if batch == "dynamic" {
                e.batch = .dynamic
            } else if let n = Int(batch), n >= 1 {
                e.batch = .fixed(n)
            } else {
                throw ValidationError("--batch takes a size of at least 1 or 'dynamic' (got '\(batch)')")
            }
        }
        for s in setDim {
            guard let colon = s.lastIndex(of: ":"), let eq = s.lastIndex(of: "="), colon < eq,
                let axis = Int(s[s.index(after: colon)..<eq]), axis >= 0, s.index(after: eq) < s.endIndex
            else { throw ValidationError("--set-dim takes NAME:AXIS=VALUE, e.g. input:0=4 or input:0=batch (got '\(s)')") }
            let value = String(s[s.index(after: eq)...])
            let dim: Dim = Int64(value).map { .fixed($0) } ?? .symbol(value)
            if case .fixed(let n) = dim.value, n < 0 {
                throw ValidationError("--set-dim: a size cannot be negative (got '\(s)')")
            }
            e.dims.append((String(s[..<colon]), axis, dim))
        }
        for r in rename {
            let parts = r.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--rename takes OLD=NEW (got '\(r)')")
            }
            e.renames.append((String(parts[0]), String(parts[1])))
        }
        if let extract {
            let sides = extract.split(separator: ":", omittingEmptySubsequences: false)
            let list = { (s: Substring) in s.split(separator: ",").map(String.init) }
            guard sides.count == 2, !list(sides[0]).isEmpty, !list(sides[1]).isEmpty else {
                throw ValidationError("--extract takes IN1,IN2:OUT1,OUT2 (got '\(extract)')")
            }
            e.extract = (list(sides[0]), list(sides[1]))
        }
        e.addOutputs = addOutput
        e.stripDocs = stripDocs
        e.opset = opset
        if (merge == nil) != connect.isEmpty { throw ValidationError("--merge and --connect go together") }
        if e.extract == nil && e.renames.isEmpty && e.batch == nil && e.dims.isEmpty && e.addOutputs.isEmpty && !stripDocs
            && merge == nil && opset == nil
        {
            throw ValidationError(
                "nothing to edit: give at least one of --batch, --set-dim, --rename, --extract, --add-output, --merge, --opset, --strip-docs"
            )
        }
        return e
    }

    func run() throws {
        progress.start()
        let loaded = try files.load()
        var model = loaded.model
        var edit = try edit()
        var sources = loaded
        if let merge {
            CrashGuard.guardReading(merge)
            let otherFile = try ModelIO.load(merge, options: files.reading.loadOptions)
            let other = otherFile.model
            sources.sourceFiles += otherFile.sourceFiles // never written over either
            let pairs = try connect.map { c -> (output: String, input: String) in
                let parts = c.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--connect takes A_OUT:B_IN (got '\(c)')")
                }
                return (parts[0], parts[1])
            }
            edit.merge = (other, pairs)
        }
        let report = try validatingOptions { try edit.apply(to: &model) }
        try files.save(model, from: sources)
        print("wrote \(files.output): \(grouped(loaded.model.graph.nodes.count)) -> \(grouped(model.graph.nodes.count)) nodes")
        for n in report.notes { print("note: \(n)") }
    }
}
