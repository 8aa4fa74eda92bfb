import CProtobufONNX
import FerryIR

/// Reads ONNX model files into the IR.
///
/// The file is memory-mapped and its structure checked (bounds, wire types, nesting depth) before
/// libprotobuf-c decodes it. Initializers of the main graph are decoded one at a time and their
/// file pages released as soon as they are copied, so peak memory stays close to the tensor bytes.
public struct ONNXReader {
    /// Deepest message nesting accepted (about 40 levels of nested subgraphs).
    public static let maxMessageDepth: UInt32 = 128

    /// The file being read, as given (used in error messages).
    public let path: String

    /// Reads a model whose external data files are missing: their tensors hold zeros and the
    /// files are listed in `ONNXModelFile.missingExternalFiles` (for showing the structure only).
    public var toleratesMissingExternalData = false

    public init(path: String) {
        self.path = path
    }

    /// Reads and validates the model.
    public func read() throws -> ONNXModelFile {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as FileError { throw ONNXError.io(e) }
        guard file.count > 0 else { throw ONNXError.emptyFile(file: path) }
        let external = ExternalDataReader(modelPath: path, toleratesMissing: toleratesMissingExternalData)
        let decoder = ProtoDecoder(file: path, external: external)

        try check(file.bytes, as: ferry_onnx_model_descriptor(), part: "")
        let model = try decodeStreaming(file, decoder) ?? decodeWhole(file.bytes, decoder)

        do { try ModelValidator.validate(model) } catch let e as IRError {
            if case .invalidTensor(let t, let reason) = e { throw ONNXError.invalidTensor(file: path, tensor: t, reason: reason) }
            throw ONNXError.invalidModel(file: path, error: e)
        }
        return ONNXModelFile(
            model: model, path: path, externalFiles: external.filesRead, missingExternalFiles: external.missing)
    }

    private func check(_ bytes: UnsafeRawBufferPointer, as descriptor: UnsafePointer<ProtobufCMessageDescriptor>, part: String)
        throws
    {
        var err = [CChar](repeating: 0, count: 512)
        let rc = ferry_pb_check(
            descriptor, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
            ONNXReader.maxMessageDepth, &err, err.count)
        if rc != 0 {
            let message = String(cString: err)
            // The C side writes "path: reason"; split it so the error names the part.
            if let sep = message.firstRange(of: ": ") {
                throw ONNXError.malformed(
                    file: path, part: String(message[..<sep.lowerBound]),
                    reason: "malformed protobuf: " + String(message[sep.upperBound...]))
            }
            throw ONNXError.malformed(file: path, part: part.isEmpty ? "model" : part, reason: "malformed protobuf: " + message)
        }
    }

    /// Decodes the model without its main-graph initializers, then each initializer on its own.
    /// Returns nil when the file does not have the one graph field this needs.
    private func decodeStreaming(_ file: MappedFile, _ decoder: ProtoDecoder) throws -> Model? {
        let bytes = file.bytes
        let graphs = findFields(bytes, number: 7)
        guard graphs.count == 1, let g = graphs.first else { return nil }
        let graphBytes = UnsafeRawBufferPointer(rebasing: bytes[g.payload_start..<g.payload_end])
        let initializers = findFields(graphBytes, number: 5)
        guard !initializers.isEmpty else { return nil }

        // The skeleton: the model with the graph's initializer fields cut out.
        var skeletonGraph: [UInt8] = []
        var at = 0
        for span in initializers {
            skeletonGraph.append(contentsOf: graphBytes[at..<span.record_start])
            at = span.payload_end
        }
        skeletonGraph.append(contentsOf: graphBytes[at...])
        var skeleton: [UInt8] = []
        skeleton.append(contentsOf: bytes[..<g.record_start])
        appendVarint(&skeleton, UInt64(7 << 3 | 2))
        appendVarint(&skeleton, UInt64(skeletonGraph.count))
        skeleton.append(contentsOf: skeletonGraph)
        skeleton.append(contentsOf: bytes[g.payload_end...])
        var model = try skeleton.withUnsafeBytes { try decodeWhole($0, decoder) }

        var tensors: [Tensor] = []
        tensors.reserveCapacity(initializers.count)
        for (i, span) in initializers.enumerated() {
            let start = g.payload_start + span.payload_start
            let end = g.payload_start + span.payload_end
            let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            guard
                let proto = onnx__tensor_proto__unpack(
                    &ferry_aligned_allocator, piece.count,
                    piece.baseAddress?.assumingMemoryBound(to: UInt8.self))
            else {
                throw ONNXError.malformed(
                    file: path, part: "graph.initializer[\(i)]", reason: "libprotobuf-c could not decode this tensor")
            }
            defer { onnx__tensor_proto__free_unpacked(proto, &ferry_aligned_allocator) }
            tensors.append(try decoder.tensor(proto))
            file.release(start..<end)
        }
        model.graph.initializers = tensors
        return model
    }

    private func decodeWhole(_ bytes: UnsafeRawBufferPointer, _ decoder: ProtoDecoder) throws -> Model {
        guard
            let proto = onnx__model_proto__unpack(
                &ferry_aligned_allocator, bytes.count,
                bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
        else {
            throw ONNXError.malformed(file: path, part: "model", reason: "libprotobuf-c could not decode the model")
        }
        defer { onnx__model_proto__free_unpacked(proto, &ferry_aligned_allocator) }
        return try decoder.model(proto)
    }

    private func findFields(_ bytes: UnsafeRawBufferPointer, number: UInt32) -> [FerryFieldSpan] {
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let n = ferry_pb_find_field(base, bytes.count, number, nil, 0)
        guard n > 0 else { return [] }
        var spans = [FerryFieldSpan](repeating: FerryFieldSpan(), count: n)
        _ = ferry_pb_find_field(base, bytes.count, number, &spans, n)
        return spans
    }
}

/// A model read from an ONNX file, with the files it was read from.
public struct ONNXModelFile {
    public var model: Model
    /// The model file's path.
    public var path: String
    /// External data files the model's tensors were read from.
    public var externalFiles: [String]
    /// With `toleratesMissingExternalData`: the data files that were not there.
    public var missingExternalFiles: [String] = []
}

func appendVarint(_ out: inout [UInt8], _ value: UInt64) {
    var v = value
    while v >= 0x80 {
        out.append(UInt8(v & 0x7f) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}
