import ArgumentParser
import Ferry
import FerryIR

/// Arguments of the commands that read one model and write a transformed copy (edit, optimize,
/// quantize, prune): IN, OUT, --force, the reading options and where ONNX weights go. OUT's format
/// comes from its extension.
struct RewriteOptions: ParsableArguments {
    @Argument(help: "The model to read (never modified).")
    var input: String

    @Argument(help: "The file to write; its extension picks the format.")
    var output: String

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    @OptionGroup var reading: ReadingOptions

    @OptionGroup var externalData: ExternalDataOptions

    func validate() throws {
        _ = try outputFormat(output, given: nil)
    }

    /// Reads IN; a model without a graph (a weights-only file) is refused.
    func load() throws -> LoadedModel {
        CrashGuard.guardReading(input)
        let loaded = try ModelIO.load(input, options: reading.loadOptions)
        guard !loaded.isWeightsOnly else {
            throw FerryError.cannotWrite(path: output, reason: "\(input) holds tensors only, no graph to transform")
        }
        return loaded
    }

    /// Writes `model` to OUT atomically (`ModelIO.save` sorts and validates it), never over the
    /// files IN was read from; `compress` deflates HDF5 datasets. ONNX weights go where
    /// `ExternalDataOptions` says (external when IN's were).
    func save(_ model: Model, from loaded: LoadedModel, compress: Bool = false) throws {
        var options = SaveOptions()
        options.replaceExisting = force
        options.protectedFiles = loaded.sourceFiles
        options.compress = compress
        externalData.apply(to: &options, output: output, from: loaded)
        try ModelIO.save(model, to: output, options: options)
    }
}
