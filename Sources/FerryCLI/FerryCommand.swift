import ArgumentParser
import FerryHDF5
import FerryIR
import FerryRuntime
import Foundation

/// The `ferry` command: inspect and convert neural-network model files.
@main
struct FerryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract:
            "Inspect, convert and run neural-network model files: ONNX, Keras (.h5, .keras), HDF5 tensor trees, safetensors, .npz and PyTorch checkpoints.",
        version: "0.1.0",
        subcommands: [
            Inspect.self, Convert.self, Run.self, Bench.self, Diff.self, Edit.self, Optimize.self, Quantize.self, Prune.self
        ]
    )

    /// Runs the command line; errors print one line and exit 1, usage errors exit 2.
    static func main() {
        // Started as the HDF5 reader helper (by this program's own HDF5 reading): serve, exit.
        // Otherwise this program becomes the helper its HDF5 reading starts.
        HDF5ReaderHelper.serveIfAsked()
        if let value = KernelISA.invalidEnvironmentValue {
            FileHandle.standardError.write(Data("error: FERRY_ISA=\(value) is not one of best, avx2, portable\n".utf8))
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CleanExit {
            exit(withError: error)
        } catch let error as ExitCode {
            exit(withError: error)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure || code.rawValue == 64 {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            if code != .failure {
                exit(withError: error)
            }
            reportFailure(error)
        }
    }
}

/// Prints `error` as a single line on standard error, with the flag that remedies it, and exits
/// with status 1.
func reportFailure(_ error: Error) -> Never {
    var text = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    switch (error as? Remediable)?.remedy {
    case .replaceOutput?: text += " (pass --force to replace it)"
    case .allowExternalData?: text += " (pass --allow-external-data to follow it)"
    case .useExternalData?: text += "; use --external-data"
    case .writeWeightsOnly?: text += "; pass --weights-only to write the model's initializers"
    case nil: break
    }
    FileHandle.standardError.write(Data("error: \(text)\n".utf8))
    exit(1)
}

/// Prints `text` as a warning on standard error; the command goes on.
func warn(_ text: String) {
    FileHandle.standardError.write(Data("warning: \(text)\n".utf8))
}
