import ArgumentParser
import Ferry
import FerryIR

/// Where an ONNX output keeps its large initializers (`convert`, `edit`, `optimize`, `quantize`,
/// `prune`): in the file --external-data names, else in `OUT.data` when the input model kept its
/// own in external data, else inline (protobuf's 2 GiB limit moves them out anyway).
struct ExternalDataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("ONNX: store large initializers in this file, created next to OUT.", valueName: "file"))
    var externalData: String?

    @Option(help: ArgumentHelp("ONNX: smallest initializer (bytes) stored as external data.", valueName: "bytes"))
    var sizeThreshold: Int = 1024

    func validate() throws {
        guard sizeThreshold >= 0 else { throw ValidationError("--size-threshold must be 0 or more") }
        if let name = externalData, name.isEmpty || name.contains("/") || name.contains("\\") || name.contains("..") {
            throw ValidationError("--external-data takes a plain file name; the file is created next to OUT")
        }
        if sizeThreshold != 1024 && externalData == nil {
            throw ValidationError("--size-threshold needs --external-data")
        }
    }

    /// Sets `options`' external data for writing `output`, read from `loaded`.
    func apply(to options: inout SaveOptions, output: String, from loaded: LoadedModel) {
        options.sizeThreshold = sizeThreshold
        if let externalData {
            options.externalDataFile = externalData
        } else if loaded.format == .onnx && loaded.sourceFiles.count > 1 {
            options.externalDataFile = splitPath(output).name + ".data"
        }
    }
}
