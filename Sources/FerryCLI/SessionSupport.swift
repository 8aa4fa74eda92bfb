import ArgumentParser
import Ferry
import FerryIR
import FerryRuntime
import Foundation

/// How the subcommands that run a model run it: threads, and the limits on each run's time and
/// activation memory (a run past either ends with one line naming the node it reached).
struct ExecutionOptions: ParsableArguments {
    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: ArgumentHelp("Stop a run that takes longer than this (default: no limit).", valueName: "seconds"))
    var timeout: Double?

    @Option(
        help: ArgumentHelp(
            "Most activation memory a run may hold at once, in bytes or with K, M, G (default: half the machine's memory).",
            valueName: "bytes"))
    var maxMemory: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let timeout, !(timeout > 0 && timeout.isFinite) {
            throw ValidationError("--timeout must be a positive number of seconds")
        }
        if let maxMemory, ExecutionOptions.bytes(maxMemory) == nil {
            throw ValidationError("--max-memory must be a positive byte count such as 500000000, 512M or 2G")
        }
    }

    /// A byte count with an optional K, M or G (powers of 1024) suffix.
    static func bytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var digits = Substring(text.uppercased())
        var scale = 1
        if let last = digits.last, let unit = units[last] {
            scale = unit
            digits = digits.dropLast()
        }
        guard let n = Int(digits), n > 0 else { return nil }
        let (total, overflow) = n.multipliedReportingOverflow(by: scale)
        return overflow ? nil : total
    }

    var sessionOptions: SessionOptions {
        SessionOptions(threads: threads, timeoutSeconds: timeout, maxMemoryBytes: maxMemory.flatMap(ExecutionOptions.bytes))
    }
}

/// Loads `model` and plans it; returns the session and the seconds planning took. The loaded model
/// is not kept: the session holds only the tensors its plan still needs.
func plannedSession(_ model: String, reading: ReadingOptions, execution: ExecutionOptions) throws -> (
    session: InferenceSession, seconds: Double
) {
    CrashGuard.guardReading(model)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    if let threads = execution.threads, threads > cores {
        warn("--threads \(threads) is more than this machine's \(cores) cores; runs are likely slower than with \(cores)")
    }
    let start = Date()
    let loaded = try ModelIO.load(model, options: reading.loadOptions)
    let session = try InferenceSession(model: (consume loaded).model, options: execution.sessionOptions)
    return (session, Date().timeIntervalSince(start))
}

/// Prints `value` as indented JSON with sorted keys.
func printJSON<T: Encodable>(_ value: T) throws {
    print(String(decoding: try jsonDocument(value), as: UTF8.self))
}

/// Writes `value` as a JSON document to `path` atomically (`--report FILE`), replacing a file there.
func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let file = try AtomicFile(path: path, replace: true)
    try jsonDocument(value).withUnsafeBytes { try file.write($0) }
    try file.commit()
}

/// Every JSON document the CLI writes (`--json` output, `--report` files): snake_case keys, sorted,
/// indented; infinities and NaN as the strings "inf", "-inf", "nan".
private func jsonDocument<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    // differences between values that cannot be compared are infinite: "inf", as Python's json reads it back with float()
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try encoder.encode(value)
}

/// The outputs of `original` and `rewritten` on the same random inputs (`seed`; `shapes` fill
/// symbolic axes), compared value by value: `optimize --check` and `prune`'s report.
func outputsOnRandomInputs(_ original: Model, _ rewritten: Model, shapes: [String: [Int]], seed: UInt64) throws
    -> [NumericDiff.Pair]
{
    var feeds = Feeds()
    try feeds.addRandom(
        for: original.graph.runtimeInputs, shapes: shapes, seed: seed, memoryLimit: SessionOptions().maxMemoryBytes)
    return try NumericDiff.outputs(original, rewritten, feeds: feeds.tensors)
}
