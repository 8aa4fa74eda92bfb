import FerryHDF5
import FerryIR
import Foundation
import ZIPFoundation

/// Options for importing Keras models.
public struct KerasImportOptions {
    /// Make 3-D and larger graph inputs channels-first (N, C, ...) instead of Keras's channels-last.
    public var channelsFirstInputs = false
    /// How libhdf5 reads the weights of a `.keras` archive (in the reader helper unless trusted).
    public var hdf5Reading = HDF5Reading.helperProcess

    public init() {}
}

/// One layer call of an imported Keras model, as `model.summary()` lists it.
public struct KerasLayerSummary: Sendable, Encodable {
    /// The layer's name (nested models' layers as `outer/inner`).
    public var name: String
    public var className: String
    /// Output shapes, batch first (nil for unknown sizes).
    public var outputShapes: [[Int?]]
    /// Number of weights (trainable and not).
    public var parameters: Int
}

/// An imported Keras model: the IR and the layer table.
public struct KerasImport {
    public var model: Model
    public var layers: [KerasLayerSummary]
}

/// Reads Keras models: legacy full-model `.h5` files (Keras 2 / tf.keras, or Keras 3's legacy
/// writer) and Keras 3 `.keras` archives, into an IR graph with ONNX semantics (opset 17).
public enum KerasFile {
    /// True when the HDF5 file is a full Keras model (it has a `model_config`).
    public static func isFullModel(_ file: HDF5File) -> Bool {
        (try? file.root.attribute("model_config")) != nil
    }

    /// Imports a legacy `.h5` full model.
    public static func importLegacy(_ file: HDF5File, options: KerasImportOptions = KerasImportOptions()) throws -> Model {
        try importLegacyWithLayers(file, options: options).model
    }

    /// Imports a legacy `.h5` full model with its layer table.
    public static func importLegacyWithLayers(_ file: HDF5File, options: KerasImportOptions = KerasImportOptions()) throws
        -> KerasImport
    {
        let root = try file.root
        guard case .string(let json)? = try root.attribute("model_config") ?? nil else {
            throw KerasError.invalidConfig(file: file.path, reason: "no model_config attribute (not a full Keras model)")
        }
        let version = (try? root.attribute("keras_version"))??.stringList?.first ?? ""
        let weights = root.contains("model_weights") ? try root.group("model_weights") : root
        return try importModel(
            json: Data(json.utf8), file: file.path, weights: LegacyWeightStore(root: weights),
            keras3: version.hasPrefix("3"), producerVersion: version, options: options)
    }

    /// Imports a Keras 3 `.keras` archive (zip with config.json and model.weights.h5).
    public static func importArchive(_ path: String, options: KerasImportOptions = KerasImportOptions()) throws -> Model {
        try importArchiveWithLayers(path, options: options).model
    }

    /// Imports a Keras 3 `.keras` archive with its layer table.
    public static func importArchiveWithLayers(_ path: String, options: KerasImportOptions = KerasImportOptions()) throws
        -> KerasImport
    {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw KerasError.invalidConfig(file: path, reason: "not a .keras archive (\(error))")
        }
        // Members may expand at most 1024-fold over the archive's size (Keras stores them uncompressed).
        let archiveSize = FerryIR.fileSize(path) ?? 0
        func member(_ name: String, limit: Int) throws -> TensorBuffer {
            guard let entry = archive[name] else {
                throw KerasError.invalidConfig(file: path, reason: "the archive has no \(name)")
            }
            let cap = min(limit, max(archiveSize, 1).multipliedReportingOverflow(by: 1024).partialValue)
            guard entry.uncompressedSize <= UInt64(cap) else {
                throw KerasError.invalidConfig(
                    file: path, reason: "\(name) claims \(entry.uncompressedSize) bytes, more than the archive can hold")
            }
            let size = Int(entry.uncompressedSize)
            guard size > 0 else { return TensorBuffer(zeroed: 0) }
            guard let block = TensorBuffer.tryAllocate(size) else {
                throw KerasError.invalidConfig(file: path, reason: "no memory for \(name) (\(size) bytes)")
            }
            let buffer = TensorBuffer(adoptingMallocBlock: block, count: size)
            var filled = 0
            // The checksum is checked below, eight bytes per step (ZIPFoundation's own check goes a
            // byte at a time and took as long as the rest of reading a model).
            do {
                _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: true) { chunk in
                    guard chunk.count <= size - filled else { throw CocoaError(.fileReadTooLarge) }
                    chunk.copyBytes(to: (buffer.baseAddress + filled).assumingMemoryBound(to: UInt8.self), count: chunk.count)
                    filled += chunk.count
                }
            } catch {
                throw KerasError.invalidConfig(file: path, reason: "cannot read \(name) from the archive (\(error))")
            }
            guard filled == size, FerryIR.CRC32.checksum(buffer.bytes) == entry.checksum else {
                throw KerasError.invalidConfig(
                    file: path, reason: "\(name) is damaged (its size or checksum differs from the archive's)")
            }
            return buffer
        }
        let config = try member("config.json", limit: 256 << 20)
        let weightsImage = try member("model.weights.h5", limit: Int.max / 2)
        let weightsFile = try HDF5File.open(image: weightsImage, path: path + "/model.weights.h5", reading: options.hdf5Reading)
        return try importModel(
            json: Data(config.bytes), file: path, weights: Keras3WeightStore(root: try weightsFile.root),
            keras3: true, producerVersion: "3", options: options)
    }

    /// Imports the model a Keras config (`model_config`, or a `.keras` archive's config.json)
    /// describes, with no weights: layers that have weights fail with an error naming them. The
    /// config reader's own entry point (its fuzz target uses it).
    public static func importConfig(_ json: Data, file: String) throws -> Model {
        try importModel(
            json: json, file: file, weights: NoWeights(), keras3: true, producerVersion: "3", options: KerasImportOptions()
        ).model
    }

    static func importModel(
        json: Data, file: String, weights: KerasWeightStore, keras3: Bool, producerVersion: String,
        options: KerasImportOptions
    ) throws -> KerasImport {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: json) } catch {
            throw KerasError.invalidConfig(file: file, reason: "not valid JSON")
        }
        let spec: KerasModelSpec
        do { spec = try KerasModelSpec(json: object) } catch let e as KerasConfigError {
            throw KerasError.invalidConfig(file: file, reason: e.reason)
        }
        let importer = KerasImporter(
            file: file, weights: weights, keras3: keras3, channelsFirstInputs: options.channelsFirstInputs)
        let graph = try importer.importModel(spec)
        let model = Model(
            irVersion: 8, opsetImports: [OpsetID(domain: "", version: 17)], producerName: "ferry",
            producerVersion: "keras " + producerVersion, graph: graph)
        return KerasImport(model: model, layers: importer.summary)
    }
}
