import ArgumentParser
import Ferry
import FerryPasses

/// Runs a library options check from a subcommand's `validate()`, so each option is checked once, in
/// the library: its `PassError.invalidOption` (which names the API property) becomes a usage error
/// naming the flag (the property `minElements` is the flag `--min-elements`; exit 2).
@discardableResult
func validatingOptions<T>(_ check: () throws -> T) throws -> T {
    do {
        return try check()
    } catch PassError.invalidOption(let option, let reason) {
        throw ValidationError("\(flagName(option)): \(reason)")
    }
}

/// The command-line flag of an API property: `accuracyTarget` -> `--accuracy-target`.
func flagName(_ property: String) -> String {
    "--" + property.map { $0.isUppercase ? "-" + $0.lowercased() : String($0) }.joined()
}

/// The formats Ferry writes, as `--to` offers them (.keras archives are read only).
enum WritableFormat: String, ExpressibleByArgument, CaseIterable {
    case onnx, hdf5, safetensors, npz, pytorch

    var format: ModelFormat { ModelFormat(rawValue: rawValue)! }
}

/// The format to write `path` in: `given` (`--to`), else the one its extension names; a usage
/// error naming the problem otherwise (another tool's format, .keras, an unknown extension).
func outputFormat(_ path: String, given: WritableFormat?) throws -> ModelFormat {
    if let given { return given.format }
    switch ModelFormat(path: path) {
    case .keras?:
        throw ValidationError(
            "\(path): .keras archives are read, not written; a .h5 file is a Keras model Keras loads (tf.keras and Keras 3)")
    case let format?:
        return format
    case nil:
        if let name = ModelFormat.foreignFormat(of: path) {
            throw ValidationError(FerryError.foreignFormat(path: path, name: name).description)
        }
        let offered = WritableFormat.allCases.map(\.rawValue).joined(separator: ", ")
        throw ValidationError("cannot tell the format of '\(path)' from its extension; pass --to (\(offered))")
    }
}
