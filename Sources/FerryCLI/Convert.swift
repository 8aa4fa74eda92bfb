import ArgumentParser
import Ferry
import FerryIR

/// `ferry convert IN OUT`: read a model in one format and write it in another (by extension).
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a model file; formats are picked by extension.",
        discussion: """
            Formats: .onnx; .h5/.hdf5 (a full Keras model, or any tree of tensors); .keras (Keras 3, read only); \
            .safetensors. A graph written to .h5 becomes a Keras model that tf.keras and Keras 3 load; \
            --weights-only writes just its tensors.
            The output is written to a temporary file and renamed into place; the input is never modified.
            """)

    @Argument(help: "The model to read.")
    var input: String

    @Argument(help: "The file to write.")
    var output: String

    @Option(help: ArgumentHelp("Format of IN instead of the one its extension names.", valueName: "format"))
    var from: ModelFormat?

    @Option(help: ArgumentHelp("Format of OUT instead of the one its extension names.", valueName: "format"))
    var to: ModelFormat?

    @Option(help: ArgumentHelp("ONNX: store large initializers in this file, created next to OUT.", valueName: "file"))
    var externalData: String?

    @Option(help: ArgumentHelp("ONNX: smallest initializer (bytes) stored as external data.", valueName: "bytes"))
    var sizeThreshold: Int = 1024

    @Flag(help: "Write only the tensors (initializers), not the graph.")
    var weightsOnly = false

    @Flag(help: "HDF5: store tensors chunked and deflate-compressed.")
    var compress = false

    @OptionGroup var reading: ReadingOptions

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    func validate() throws {
        guard from ?? ModelFormat(path: input) != nil else { throw ValidationError("cannot tell the format of '\(input)' from its extension; pass --from") }
        guard to ?? ModelFormat(path: output) != nil else { throw ValidationError("cannot tell the format of '\(output)' from its extension; pass --to") }
        guard sizeThreshold >= 0 else { throw ValidationError("--size-threshold must be 0 or more") }
        if let name = externalData, name.isEmpty || name.contains("/") || name.contains("\\") || name.contains("..") {
            throw ValidationError("--external-data takes a plain file name; the file is created next to OUT")
        }
        if sizeThreshold != 1024 && externalData == nil {
            throw ValidationError("--size-threshold needs --external-data")
        }
    }

    func run() throws {
        do {
            CrashGuard.guardReading(input)
            let loaded = try ModelIO.load(input, format: from, options: reading.loadOptions)
            var model = loaded.model
            _ = try TopologicalSortPass().run(on: &model)
            var options = SaveOptions()
            options.replaceExisting = force
            options.externalDataFile = externalData
            options.sizeThreshold = sizeThreshold
            options.weightsOnly = weightsOnly
            options.compress = compress
            options.protectedFiles = loaded.sourceFiles
            try ModelIO.save(model, to: output, format: to, options: options)
        } catch {
            reportFailure(error)
        }
    }
}
