import FerryIR
import FerryONNX

/// The model file formats Ferry reads and writes.
public enum ModelFormat: String, CaseIterable, Sendable {
    case onnx

    /// The format a path's extension names, if any.
    public init?(path: String) {
        let name = splitPath(path).name.lowercased()
        guard let dot = name.lastIndex(of: ".") else { return nil }
        switch name[name.index(after: dot)...] {
        case "onnx": self = .onnx
        default: return nil
        }
    }
}

/// Errors of the format-independent entry point.
public enum FerryError: Error, CustomStringConvertible {
    /// The path's extension names no format Ferry knows, and none was given.
    case unknownFormat(path: String)

    public var description: String {
        switch self {
        case .unknownFormat(let path):
            return "\(path): cannot tell the format from the extension (known: \(ModelFormat.allCases.map { "." + $0.rawValue }.joined(separator: ", ")))"
        }
    }
}

/// A model loaded from disk, with where it came from.
public struct LoadedModel {
    public var model: Model
    public var format: ModelFormat
    /// The model file and every file its data was read from (never to be overwritten by a save).
    public var sourceFiles: [String]
}

/// Options for saving a model, whatever the format.
public struct SaveOptions {
    /// Replace an existing output.
    public var replaceExisting = false
    /// ONNX: put large initializers in this file next to the output.
    public var externalDataFile: String?
    /// ONNX: smallest initializer in bytes that goes to external data.
    public var sizeThreshold = 1024
    /// Files that must not be overwritten (normally `LoadedModel.sourceFiles`).
    public var protectedFiles: [String] = []

    public init() {}
}

/// Loads and saves models in any format Ferry supports, picking the format by file extension.
/// The CLI and library users share this entry point.
public enum ModelIO {
    /// Reads the model at `path`; `format` overrides the extension.
    public static func load(_ path: String, format: ModelFormat? = nil) throws -> LoadedModel {
        guard let format = format ?? ModelFormat(path: path) else { throw FerryError.unknownFormat(path: path) }
        switch format {
        case .onnx:
            let file = try ONNXReader(path: path).read()
            return LoadedModel(model: file.model, format: .onnx, sourceFiles: [path] + file.externalFiles)
        }
    }

    /// Writes `model` to `path` atomically; `format` overrides the extension.
    public static func save(_ model: Model, to path: String, format: ModelFormat? = nil, options: SaveOptions = SaveOptions()) throws {
        guard let format = format ?? ModelFormat(path: path) else { throw FerryError.unknownFormat(path: path) }
        switch format {
        case .onnx:
            var o = ONNXWriteOptions()
            o.externalDataFile = options.externalDataFile
            o.sizeThreshold = options.sizeThreshold
            o.replaceExisting = options.replaceExisting
            o.protectedFiles = options.protectedFiles
            try ONNXWriter(path: path, options: o).write(model)
        }
    }
}
