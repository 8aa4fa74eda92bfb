import ArgumentParser
import Ferry
import FerryIR
import FerryRuntime
import Foundation

/// `ferry run MODEL --input NAME=FILE.npy`: run a model in Ferry's interpreter.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on the CPU; inputs from .npy/.npz files or random, outputs written as .npy.",
        discussion:
            "Any format Ferry reads runs (a Keras model is converted in memory). Inputs not given with --input are random (fixed --seed; --shape for symbolic axes), and the inputs used are listed. Each output is written to DIR/<name>.npy when --output-dir is given, and summarised (shape, dtype, min, max, mean)."
    )

    @Argument(help: "The model file.")
    var model: String

    @OptionGroup var inputOptions: InputOptions

    @Option(help: ArgumentHelp("Write each output to DIR/<output name>.npy.", valueName: "dir"))
    var outputDir: String?

    @Flag(help: "With --output-dir: replace .npy files already there.")
    var force = false

    @OptionGroup var execution: ExecutionOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var reading: ReadingOptions

    func run() throws {
        let (session, planSeconds) = try plannedSession(model, reading: reading, execution: execution)
        let feeds = try inputOptions.feeds(for: session, random: true)
        if let outputDir, !force {
            // refuse before running, so that no file of the set is written
            for info in session.outputs where FerryIR.fileExists(outputPath(outputDir, info.name)) {
                throw FileError.outputExists(path: outputPath(outputDir, info.name))
            }
        }
        let runStart = Date()
        let outputs = try inputOptions.explainingDefaultedAxes(of: session) { try session.run(feeds.tensors) }
        let runSeconds = Date().timeIntervalSince(runStart)
        let inputs = feeds.summaries(session, seed: inputOptions.seed)
        var rows: [OutputSummary] = []
        for (name, tensor) in outputs {
            var file: String?
            if let outputDir {
                try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
                let path = outputPath(outputDir, name)
                try NumPyFile.write(tensor, to: path, replace: force)
                file = path
            }
            rows.append(OutputSummary(name: name, tensor: tensor, file: file))
        }
        if json {
            let report = RunReport(
                inputs: inputs, outputs: rows, planSeconds: planSeconds, runSeconds: runSeconds,
                peakActivationBytes: session.peakActivationBytes)
            try printJSON(report)
        } else {
            print(InputSummary.line(inputs))
            for r in rows {
                let stats = r.min.map { String(format: "min %.6g  max %.6g  mean %.6g", $0, r.max!, r.mean!) } ?? ""
                print("\(r.name)  \(r.dtype)\(r.shape)  \(stats)\(r.file.map { "  -> \($0)" } ?? "")")
            }
            print(
                String(
                    format: "plan %.1f ms, run %.1f ms, peak activations %.1f MB", planSeconds * 1000, runSeconds * 1000,
                    Double(session.peakActivationBytes) / 1e6))
        }
    }
}

/// Where `run --output-dir DIR` writes output `name`.
private func outputPath(_ dir: String, _ name: String) -> String { dir + "/" + fileSafe(name) + ".npy" }

/// An output name as a file name: anything but letters, digits, '-', '_' and '.' becomes '_'.
func fileSafe(_ name: String) -> String {
    let s = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") ? $0 : "_" })
    return s.isEmpty || s.hasPrefix(".") ? "_" + s : s
}

/// One output of `ferry run`.
struct OutputSummary: Encodable {
    let name: String
    let file: String?
    let shape: [Int]
    let dtype: String
    let min: Double?
    let max: Double?
    let mean: Double?

    init(name: String, tensor: Tensor, file: String?) {
        self.name = name
        self.file = file
        shape = tensor.shape
        dtype = tensor.elementType.name
        let values = tensor.numericValues
        if let values, !values.isEmpty {
            min = values.min()
            max = values.max()
            mean = values.reduce(0, +) / Double(values.count)
        } else {
            min = nil
            max = nil
            mean = nil
        }
    }
}

/// `ferry run --json` output.
struct RunReport: Encodable {
    let inputs: [InputSummary]
    let outputs: [OutputSummary]
    let planSeconds: Double
    let runSeconds: Double
    let peakActivationBytes: Int
}
