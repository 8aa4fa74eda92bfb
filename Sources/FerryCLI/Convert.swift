import ArgumentParser
import Ferry
import FerryIR

/// `ferry convert IN OUT`: read a model in one format and write it in another (by extension).
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a model file; formats are picked by extension.",
        discussion: "The output is written to a temporary file and renamed into place; the input is never modified.")

    @Argument(help: "The model to read.")
    var input: String

    @Argument(help: "The file to write.")
    var output: String

    @Option(help: ArgumentHelp("ONNX: store large initializers in this file, created next to OUT.", valueName: "file"))
    var externalData: String?

    @Option(help: ArgumentHelp("ONNX: smallest initializer (bytes) stored as external data.", valueName: "bytes"))
    var sizeThreshold: Int = 1024

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    func validate() throws {
        guard ModelFormat(path: input) != nil else { throw ValidationError("cannot tell the format of '\(input)' from its extension") }
        guard ModelFormat(path: output) != nil else { throw ValidationError("cannot tell the format of '\(output)' from its extension") }
        guard sizeThreshold >= 0 else { throw ValidationError("--size-threshold must be 0 or more") }
        if let name = externalData, name.isEmpty || name.contains("/") {
            throw ValidationError("--external-data takes a plain file name; the file is created next to OUT")
        }
        if sizeThreshold != 1024 && externalData == nil {
            throw ValidationError("--size-threshold needs --external-data")
        }
    }

    func run() throws {
        do {
            let loaded = try ModelIO.load(input)
            var model = loaded.model
            _ = try TopologicalSortPass().run(on: &model)
            var options = SaveOptions()
            options.replaceExisting = force
            options.externalDataFile = externalData
            options.sizeThreshold = sizeThreshold
            options.protectedFiles = loaded.sourceFiles
            try ModelIO.save(model, to: output, options: options)
        } catch {
            reportFailure(error)
        }
    }
}
