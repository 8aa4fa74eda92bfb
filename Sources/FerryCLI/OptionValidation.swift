import ArgumentParser
import FerryPasses

/// Runs a library options check from a subcommand's `validate()`, so each option is checked once, in
/// the library: its `PassError.invalidOption` (which names the API property) becomes a usage error
/// naming the flag (the property `minElements` is the flag `--min-elements`; exit 2).
func validatingOptions(_ check: () throws -> Void) throws {
    do {
        try check()
    } catch PassError.invalidOption(let option, let reason) {
        throw ValidationError("\(flagName(option)): \(reason)")
    }
}

/// The command-line flag of an API property: `accuracyTarget` -> `--accuracy-target`.
func flagName(_ property: String) -> String {
    "--" + property.map { $0.isUppercase ? "-" + $0.lowercased() : String($0) }.joined()
}
