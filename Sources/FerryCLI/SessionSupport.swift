import ArgumentParser
import Ferry
import FerryIR
import FerryRuntime
import Foundation

/// The thread count of the subcommands that run a model.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }
}

/// Loads `model` and plans it; returns the session and the seconds planning took. The loaded model
/// is not kept: the session holds only the tensors its plan still needs.
func plannedSession(_ model: String, reading: ReadingOptions, threads: ThreadOptions) throws -> (
    session: InferenceSession, seconds: Double
) {
    CrashGuard.guardReading(model)
    let start = Date()
    let session = try InferenceSession(
        model: try ModelIO.load(model, options: reading.loadOptions).model,
        options: SessionOptions(threads: threads.threads))
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
/// indented.
private func jsonDocument<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return try encoder.encode(value)
}

/// The elements of a numeric tensor as Doubles; nil for element types the CLI does not summarise.
func numericValues(_ t: Tensor) -> [Double]? {
    guard let b = t.bytes else { return nil }
    switch t.elementType {
    case .float: return b.toArray(of: Float.self).map(Double.init)
    case .double: return b.toArray(of: Double.self)
    case .int64: return b.toArray(of: Int64.self).map(Double.init)
    case .int32: return b.toArray(of: Int32.self).map(Double.init)
    case .uint8, .bool: return b.toArray(of: UInt8.self).map(Double.init)
    case .int8: return b.toArray(of: Int8.self).map(Double.init)
    default: return nil
    }
}
