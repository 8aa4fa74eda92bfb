import FerryHDF5
import FerryIR
import FerryKeras
import FerryONNX
import FerrySafetensors
import FerryTorch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The model file formats Ferry reads and writes.
public enum ModelFormat: String, CaseIterable, Sendable {
    case onnx
    /// HDF5: Keras models and weight files, or any tree of tensors.
    case hdf5
    /// safetensors: named tensors and string metadata.
    case safetensors
    /// Keras 3 `.keras` archives.
    case keras
    /// NumPy `.npz` archives of named arrays.
    case npz
    /// PyTorch checkpoints (`torch.save`'s zip format): read without running their pickle; written
    /// as an OrderedDict of tensors that `torch.load(weights_only=True)` loads.
    case pytorch

    /// The format a path's extension names, if any.
    public init?(path: String) {
        let name = splitPath(path).name.lowercased()
        if name.hasSuffix(".bin.index.json") || name.hasSuffix(".pt.index.json") {
            self = .pytorch // a sharded checkpoint's index
            return
        }
        guard let dot = name.lastIndex(of: ".") else { return nil }
        switch name[name.index(after: dot)...] {
        case "onnx": self = .onnx
        case "h5", "hdf5": self = .hdf5
        case "safetensors": self = .safetensors
        case "keras": self = .keras
        case "pt", "pth", "bin": self = .pytorch
        case "npz": self = .npz
        default: return nil
        }
    }

    /// The format's name with its article, for messages: "an ONNX", "a safetensors".
    public var title: String {
        switch self {
        case .onnx: return "an ONNX"
        case .hdf5: return "an HDF5"
        case .safetensors: return "a safetensors"
        case .keras: return "a .keras"
        case .npz: return "a NumPy .npz"
        case .pytorch: return "a PyTorch"
        }
    }

    /// The extensions that name this format.
    public var extensions: [String] {
        switch self {
        case .onnx: return ["onnx"]
        case .hdf5: return ["h5", "hdf5"]
        case .safetensors: return ["safetensors"]
        case .keras: return ["keras"]
        case .pytorch: return ["pt", "pth", "bin"]
        case .npz: return ["npz"]
        }
    }
}

/// Errors of the format-independent entry point.
public enum FerryError: Error, CustomStringConvertible {
    /// The path's extension names no format Ferry knows, and none was given.
    case unknownFormat(path: String)
    /// The model cannot be written in the requested format as asked.
    case cannotWrite(path: String, reason: String)
    /// The format holds tensors only and the model has a graph.
    case tensorsOnly(path: String, format: String)
    /// The file's content is not in the format its extension names (`found`: what it holds, when known).
    case notFormat(path: String, expected: ModelFormat, found: ModelFormat?)
    /// The file is in another tool's format (TensorFlow Lite, Core ML, ...), which Ferry does not handle.
    case foreignFormat(path: String, name: String)

    public var description: String {
        switch self {
        case .unknownFormat(let path):
            let known = ModelFormat.allCases.flatMap(\.extensions).map { "." + $0 }.joined(separator: ", ")
            return "\(path): cannot tell the format from the extension (known: \(known))"
        case .cannotWrite(let path, let reason):
            return "\(path): \(reason)"
        case .tensorsOnly(let path, let format):
            return "\(path): \(format) holds tensors only, not the model's graph"
        case .notFormat(let path, let expected, let found):
            return "\(path): not \(expected.title) file" + (found.map { " (it is \($0.title) file)" } ?? "")
        case .foreignFormat(let path, let name):
            let written = ModelFormat.allCases.filter { $0 != .keras }.map { "." + $0.extensions[0] }.joined(separator: ", ")
            return "\(path): \(name) files are not a format Ferry reads or writes (it writes \(written))"
        }
    }
}

extension FerryError: Remediable {
    public var remedy: Remedy? {
        if case .tensorsOnly = self { return .writeWeightsOnly }
        return nil
    }
}

/// A model loaded from disk, with where it came from.
public struct LoadedModel {
    public var model: Model
    public var format: ModelFormat
    /// The model file and every file its data was read from (never to be overwritten by a save).
    public var sourceFiles: [String]
    /// For Keras files: the model's layers as `model.summary()` lists them.
    public var kerasLayers: [KerasLayerSummary]?
    /// For PyTorch checkpoints: where in the checkpoint the tensors came from.
    public var tensorSource: String?
    /// External data files that were missing (only with `LoadOptions.toleratesMissingExternalData`).
    public var missingFiles: [String] = []
    /// True when the file held only tensors (no graph).
    public var isWeightsOnly: Bool { model.graph.nodes.isEmpty }
}

/// Options for loading a model, whatever the format.
public struct LoadOptions {
    /// HDF5: follow external links, external raw storage and virtual datasets, which read other files.
    public var allowExternalData = false
    /// ONNX: read a model whose external data files are missing (their tensors as zeros, the
    /// files listed in `LoadedModel.missingFiles`), to show its structure; nothing else should.
    public var toleratesMissingExternalData = false
    /// Keras: make image inputs channels-first (N, C, H, W) instead of Keras's (N, H, W, C).
    public var channelsFirstInputs = false
    /// PyTorch checkpoints: the top-level key whose value holds the tensors (default: the first
    /// dict of tensors, breadth first).
    public var checkpointKey: String?
    /// HDF5 and Keras: run libhdf5 in this process instead of the reader helper process. For
    /// trusted files only: a damaged or hostile file can then crash or hang the caller.
    public var hdf5InProcess = false

    /// How libhdf5 reads HDF5 files under these options.
    public var hdf5Reading: HDF5Reading { hdf5InProcess ? .inProcess : .helperProcess }

    public init() {}
}

/// Options for saving a model, whatever the format.
public struct SaveOptions {
    /// Replace an existing output.
    public var replaceExisting = false
    /// ONNX: put large initializers in this file next to the output.
    public var externalDataFile: String?
    /// ONNX: smallest initializer in bytes that goes to external data.
    public var sizeThreshold = 1024
    /// Write only the model's tensors (for formats that can hold a graph too).
    public var weightsOnly = false
    /// HDF5 (tensor trees and Keras models): store datasets chunked with shuffle + deflate.
    public var compress = false
    /// Files that must not be overwritten (normally `LoadedModel.sourceFiles`).
    public var protectedFiles: [String] = []

    public init() {}
}

/// Loads and saves models in any format Ferry supports, picking the format by file extension.
/// The CLI and library users share this entry point.
public enum ModelIO {
    /// Reads the model at `path`; `format` overrides the extension.
    public static func load(_ path: String, format: ModelFormat? = nil, options: LoadOptions = LoadOptions()) throws
        -> LoadedModel
    {
        // one wording for a missing file, whatever its kind
        guard fileExists(path) else { throw FileError.system(path: path, operation: "open", errno: ENOENT) }
        let chosen = try format ?? formatOf(path)
        switch chosen {
        case .onnx:
            var reader = ONNXReader(path: path)
            reader.toleratesMissingExternalData = options.toleratesMissingExternalData
            let file = try reader.read()
            var loaded = LoadedModel(model: file.model, format: .onnx, sourceFiles: [path] + file.externalFiles)
            loaded.missingFiles = file.missingExternalFiles
            return loaded
        case .hdf5:
            let file = try HDF5File.open(path, allowExternal: options.allowExternalData, reading: options.hdf5Reading)
            if KerasFile.isFullModel(file) {
                let k = try KerasFile.importLegacyWithLayers(file, options: kerasOptions(options))
                return LoadedModel(model: k.model, format: .hdf5, sourceFiles: [path] + file.externalFiles, kerasLayers: k.layers)
            }
            var model = weightsOnlyModel(try HDF5TensorTree.read(file))
            model.metadata = try HDF5TensorTree.metadata(file)
            return LoadedModel(model: model, format: .hdf5, sourceFiles: [path] + file.externalFiles)
        case .keras:
            let k = try KerasFile.importArchiveWithLayers(path, options: kerasOptions(options))
            return LoadedModel(model: k.model, format: .keras, sourceFiles: [path], kerasLayers: k.layers)
        case .safetensors:
            let content = try SafetensorsFile.read(path)
            var model = weightsOnlyModel(TiedTensors.restored(content.tensors, metadata: content.metadata))
            model.metadata = content.metadata
            return LoadedModel(model: model, format: .safetensors, sourceFiles: [path])
        case .npz:
            let arrays = try NumPyFile.readArchive(path)
            return LoadedModel(
                model: weightsOnlyModel(
                    arrays.map { a in
                        var t = a.tensor
                        t.name = a.name
                        return t
                    }), format: .npz, sourceFiles: [path])
        case .pytorch:
            let checkpoint = try TorchCheckpoint.read(path, key: options.checkpointKey)
            var model = weightsOnlyModel(checkpoint.tensors)
            model.metadata = checkpoint.entries
            var loaded = LoadedModel(model: model, format: .pytorch, sourceFiles: [path] + checkpoint.files)
            loaded.tensorSource = checkpoint.source
            return loaded
        }
    }

    /// The format of the file at `path`: its extension's, checked against its first bytes, or
    /// those bytes' when the extension names none (a `.bin` may hold any format).
    static func formatOf(_ path: String) throws -> ModelFormat {
        let named = ModelFormat(path: path), sniffed = ModelFormat.sniff(path)
        switch (named, sniffed) {
        case (nil, let found?):
            return found
        case (nil, nil):
            if let name = ModelFormat.foreignFormat(of: path) { throw FerryError.foreignFormat(path: path, name: name) }
            throw FerryError.unknownFormat(path: path)
        case (.pytorch?, let found?) where path.lowercased().hasSuffix(".bin") && !found.isZip:
            return found
        case (let n?, let found?) where found != n && !(found.isZip && n.isZip):
            throw FerryError.notFormat(path: path, expected: n, found: found)
        case (.onnx?, nil) where !ModelFormat.startsLikeONNX(path):
            throw FerryError.notFormat(path: path, expected: .onnx, found: nil)
        default:
            return named!
        }
    }

    /// Writes `model` to `path` atomically; `format` overrides the extension. A model with a graph
    /// is written with its nodes in topological order, and only when it passes `ModelValidator`.
    public static func save(_ model: Model, to path: String, format: ModelFormat? = nil, options: SaveOptions = SaveOptions())
        throws
    {
        guard let format = format ?? ModelFormat(path: path) else { throw FerryError.unknownFormat(path: path) }
        var model = model
        if !model.graph.nodes.isEmpty {
            do {
                _ = try TopologicalSortPass().run(on: &model)
                try ModelValidator.validate(model)
            } catch let e as IRError {
                throw FerryError.cannotWrite(path: path, reason: e.description)
            }
        }
        switch format {
        case .onnx:
            var o = ONNXWriteOptions()
            o.externalDataFile = options.externalDataFile
            o.sizeThreshold = options.sizeThreshold
            o.replaceExisting = options.replaceExisting
            o.protectedFiles = options.protectedFiles
            if options.weightsOnly && !model.graph.sparseInitializers.isEmpty {
                throw FerryError.cannotWrite(path: path, reason: "writing the weights alone would drop the sparse initializers")
            }
            try ONNXWriter(path: path, options: o).write(options.weightsOnly ? weightsOnlyModel(model.graph.initializers) : model)
        case .hdf5:
            if !options.weightsOnly && !model.graph.nodes.isEmpty {
                try KerasFile.writeLegacy(
                    model, to: path, replace: options.replaceExisting, protectedFiles: options.protectedFiles,
                    compress: options.compress)
                return
            }
            guard model.graph.sparseInitializers.isEmpty else {
                throw FerryError.cannotWrite(path: path, reason: "sparse initializers cannot be written to HDF5")
            }
            try HDF5TensorTree.write(
                model.graph.initializers, to: path, compress: options.compress,
                replace: options.replaceExisting, protectedFiles: options.protectedFiles, metadata: model.metadata)
        case .keras:
            throw FerryError.cannotWrite(path: path, reason: "writing .keras archives is not supported yet")
        case .npz:
            guard options.weightsOnly || model.graph.nodes.isEmpty else {
                throw FerryError.tensorsOnly(path: path, format: "NumPy archives")
            }
            do {
                try NumPyFile.writeArchive(
                    model.graph.initializers, to: path, replace: options.replaceExisting, protectedFiles: options.protectedFiles)
            } catch let e as FileError {
                throw FerryError.cannotWrite(path: path, reason: e.description)
            }
        case .pytorch:
            guard options.weightsOnly || model.graph.nodes.isEmpty else {
                throw FerryError.tensorsOnly(path: path, format: "PyTorch checkpoints")
            }
            guard model.graph.sparseInitializers.isEmpty else {
                throw FerryError.cannotWrite(path: path, reason: "sparse initializers cannot be written to a PyTorch checkpoint")
            }
            // Tied weights read from a checkpoint (`ferry.alias.NAME`) share their storage again.
            try TorchCheckpointWriter.write(
                model.graph.initializers, aliases: TiedTensors.aliases(in: model.metadata), to: path,
                replace: options.replaceExisting,
                protectedFiles: options.protectedFiles)
        case .safetensors:
            guard options.weightsOnly || model.graph.nodes.isEmpty else {
                throw FerryError.tensorsOnly(path: path, format: "safetensors")
            }
            guard model.graph.sparseInitializers.isEmpty else {
                throw FerryError.cannotWrite(path: path, reason: "sparse initializers cannot be written to safetensors")
            }
            try SafetensorsFile.write(
                SafetensorsContent(
                    tensors: TiedTensors.withoutCopies(model.graph.initializers, metadata: model.metadata),
                    metadata: model.metadata), to: path,
                replace: options.replaceExisting, protectedFiles: options.protectedFiles)
        }
    }

    private static func kerasOptions(_ o: LoadOptions) -> KerasImportOptions {
        var k = KerasImportOptions()
        k.channelsFirstInputs = o.channelsFirstInputs
        k.hdf5Reading = o.hdf5Reading
        return k
    }

    /// A model holding only `tensors` as initializers (no nodes): what weights-only files import as.
    public static func weightsOnlyModel(_ tensors: [Tensor]) -> Model {
        Model(
            irVersion: 8, opsetImports: [OpsetID(domain: "", version: 17)], producerName: "ferry",
            graph: Graph(name: "weights", initializers: tensors))
    }
}
