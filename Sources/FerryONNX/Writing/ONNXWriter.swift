import CProtobufONNX
import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `ONNXWriter` writes a model.
public struct ONNXWriteOptions {
    /// Put graph initializers of at least `sizeThreshold` bytes into this file, a plain file name
    /// created next to the output. nil keeps all data inline unless the model would pass `inlineLimit`.
    public var externalDataFile: String?
    /// Smallest initializer, in bytes, that goes to external data.
    public var sizeThreshold: Int = 1024
    /// Replace an existing output (and external data file) instead of refusing.
    public var replaceExisting = false
    /// Files that must never be replaced (the inputs the model was read from).
    public var protectedFiles: [String] = []
    /// Largest model written inline; protobuf cannot encode messages of 2 GiB or more, so a larger
    /// model moves its initializers to `<output name>.data` automatically.
    public var inlineLimit: Int = Int(Int32.max)

    public init() {}
}

/// What a write produced.
public struct ONNXWriteReport {
    /// Bytes of the model file.
    public var modelBytes: Int
    /// The external data file written, if any, and its size.
    public var externalDataPath: String?
    public var externalDataBytes: Int
}

/// Writes the IR as an ONNX file, atomically (temporary file, then rename) and deterministically
/// (the same model gives the same bytes). Tensor data is streamed from memory, never copied.
public struct ONNXWriter {
    public let path: String
    public let options: ONNXWriteOptions

    public init(path: String, options: ONNXWriteOptions = ONNXWriteOptions()) {
        self.path = path
        self.options = options
    }

    @discardableResult
    public func write(_ model: Model) throws -> ONNXWriteReport {
        try refuseProtected(path)
        var externalName = options.externalDataFile
        var threshold = options.sizeThreshold
        if externalName == nil && tensorBytes(model) >= options.inlineLimit {
            externalName = splitPath(path).name + ".data"
            threshold = min(threshold, 1024)
        }
        let encoder = ProtoEncoder()
        var external: ExternalDataWriter?
        if let name = externalName {
            let writer = try ExternalDataWriter(
                name: name, besides: path, replace: options.replaceExisting,
                protected: options.protectedFiles, threshold: threshold, expectedBytes: tensorBytes(model, atLeast: threshold))
            encoder.placeExternally = { try writer.place($0) }
            external = writer
        }
        // The encoder's arena owns the messages and keeps the tensor memory they point into alive.
        return try withExtendedLifetime(encoder) {
            try pack(encoder, model, external)
        }
    }

    private func pack(_ encoder: ProtoEncoder, _ model: Model, _ external: ExternalDataWriter?) throws -> ONNXWriteReport {
        let proto: UnsafeMutablePointer<Onnx__ModelProto>
        do { proto = try encoder.model(model) } catch let e as FileError { throw ONNXError.io(e) }
        if external != nil { Progress.report("writing external data (MiB)", done: 1, total: 1) }
        let size = onnx__model_proto__get_packed_size(proto)
        guard size < options.inlineLimit || size <= Int(Int32.max) else {
            throw ONNXError.tooLargeForOneFile(file: path, bytes: size)
        }
        guard size <= Int(Int32.max) else {
            throw ONNXError.unwritable(
                file: path, part: "model", reason: "\(size) bytes is over protobuf's 2 GiB limit even with external data")
        }
        do {
            let out = try AtomicFile(path: path, replace: options.replaceExisting)
            var buffer = FerryFdBuffer()
            guard ferry_fd_buffer_init(&buffer, out.fd, 1 << 20) == 0 else { fatalError("out of memory") }
            var total = size
            withUnsafeMutablePointer(to: &total) { total in
                buffer.context = UnsafeMutableRawPointer(total)
                buffer.on_write = { context, written in
                    let total = context!.load(as: Int.self)
                    Progress.report("writing the model (MiB)", done: Int(written >> 20), total: max(1, total >> 20))
                }
                withUnsafeMutablePointer(to: &buffer) { b in
                    b.withMemoryRebound(to: ProtobufCBuffer.self, capacity: 1) {
                        _ = onnx__model_proto__pack_to_buffer(proto, $0)
                    }
                }
            }
            Progress.report("writing the model (MiB)", done: 1, total: 1)
            let err = ferry_fd_buffer_finish(&buffer)
            guard err == 0 else { throw FileError.system(path: path, operation: "write", errno: err) }
            // an external data file nothing was placed in is not left behind (its temporary file goes)
            let placed = (external?.bytesWritten ?? 0) > 0
            if placed { try external?.commit() }
            do {
                try out.commit()
            } catch {
                // The model could not be put in place: take back the data file just created for it.
                if !options.replaceExisting, placed, let external { unlink(external.path) }
                throw error
            }
            return ONNXWriteReport(
                modelBytes: size, externalDataPath: placed ? external?.path : nil, externalDataBytes: external?.bytesWritten ?? 0)
        } catch let e as FileError {
            throw ONNXError.io(e)
        }
    }

    private func refuseProtected(_ target: String) throws {
        guard let id = fileIdentity(target) else { return }
        if options.protectedFiles.contains(where: { fileIdentity($0) == id }) {
            throw ONNXError.io(.outputIsInput(path: target))
        }
    }

    /// Bytes of tensor data the model would carry inline; with `threshold`, only of the byte
    /// tensors of at least that size (what goes to external data; strings never do).
    private func tensorBytes(_ model: Model, atLeast threshold: Int? = nil) -> Int {
        var total = 0
        model.forEachTensor { t in
            switch t.storage {
            case .bytes(let b) where b.count >= threshold ?? 0: total += b.count
            case .strings(let s) where threshold == nil: total += s.reduce(0) { $0 + $1.count + 2 }
            default: break
            }
        }
        return total
    }
}

/// Streams initializer bytes into one external data file, each at a 64-byte aligned offset so a
/// reader can map them in place.
final class ExternalDataWriter {
    let path: String
    let name: String
    let threshold: Int
    /// Bytes the tensors to place hold in all, for the progress report.
    let expectedBytes: Int
    private let file: AtomicFile
    private(set) var bytesWritten = 0

    init(name: String, besides modelPath: String, replace: Bool, protected: [String], threshold: Int, expectedBytes: Int) throws {
        self.expectedBytes = expectedBytes
        guard !name.isEmpty, !name.contains("/"), !name.contains("\\"), !name.contains(".."), name != "." else {
            throw ONNXError.unwritable(
                file: modelPath, part: "external data '\(name)'",
                reason: "must be a plain file name (no folders, no '..'); it is created next to the model")
        }
        guard name != splitPath(modelPath).name else {
            throw ONNXError.unwritable(
                file: modelPath, part: "external data '\(name)'", reason: "must differ from the model file's name")
        }
        self.name = name
        self.threshold = threshold
        path = splitPath(modelPath).directory + "/" + name
        if let id = fileIdentity(path), protected.contains(where: { fileIdentity($0) == id }) {
            throw ONNXError.io(.outputIsInput(path: path))
        }
        if replace, let kind = lstatKind(path), kind != S_IFREG, kind != S_IFLNK {
            throw ONNXError.io(.notRegularFile(path: path))
        }
        do { file = try AtomicFile(path: path, replace: replace) } catch let e as FileError { throw ONNXError.io(e) }
    }

    /// Writes `tensor`'s bytes if it is large enough and returns its external_data entries.
    func place(_ tensor: Tensor) throws -> [KeyValue]? {
        guard case .bytes(let bytes) = tensor.storage, bytes.count >= threshold, bytes.count > 0 else { return nil }
        let padding = (TensorBuffer.alignment - bytesWritten % TensorBuffer.alignment) % TensorBuffer.alignment
        if padding > 0 {
            let zeros = [UInt8](repeating: 0, count: padding)
            try zeros.withUnsafeBytes { try file.write($0) }
            bytesWritten += padding
        }
        let offset = bytesWritten
        try bytes.withUnsafeBytes { try file.write($0) }
        bytesWritten += bytes.count
        Progress.report("writing external data (MiB)", done: bytesWritten >> 20, total: max(1, expectedBytes >> 20))
        return [KeyValue("location", name), KeyValue("offset", String(offset)), KeyValue("length", String(bytes.count))]
    }

    func commit() throws { try file.commit() }
}
