import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ModelFormat {
    /// The format a file's first bytes show, when they show one: HDF5's signature, a zip archive
    /// (PyTorch's data.pkl, a Keras config, NumPy arrays), safetensors' header, PyTorch's legacy
    /// magic number, or an ONNX ModelProto starting with its IR version. Nil for anything else.
    public static func sniff(_ path: String) -> ModelFormat? {
        guard let head = firstBytes(of: path, count: 4096), head.count >= 8 else { return nil }
        if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return .hdf5 }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) && head.count >= 30 {
            let length = Int(head[26]) | Int(head[27]) << 8
            let name = String(decoding: head.dropFirst(30).prefix(length), as: UTF8.self)
            if name.hasSuffix(".npy") { return .npz }
            if ["metadata.json", "config.json", "model.weights.h5"].contains(name) { return .keras }
            return .pytorch // torch.save's archive: "<prefix>/data.pkl" or another member of its folder
        }
        if head[0] == 0x80 && head.count >= 12 && head[2] == 0x8A { return .pytorch } // legacy: protocol, then the magic long
        let headerLength = head.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        if head.count > 8 && head[8] == UInt8(ascii: "{") && headerLength > 1 && headerLength < (1 << 30) { return .safetensors }
        if head[0] == 0x08 && head[1] < 0x80 && head[1] > 0 { return .onnx } // field 1 (ir_version), a small varint
        return nil
    }

    /// Whether `path` starts like an ONNX ModelProto: with the key of one of its fields (an empty
    /// file does not).
    static func startsLikeONNX(_ path: String) -> Bool {
        guard let head = firstBytes(of: path, count: 2), let first = head.first else { return false }
        // ir_version, producer_name/version, domain, model_version, doc_string, graph, opset_import,
        // metadata_props, then training_info/functions/configuration (two-byte keys)
        return [0x08, 0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72].contains(first)
            || (head.count == 2 && [0xA2, 0xCA, 0xD2].contains(first) && head[1] == 0x01)
    }

    /// The zip-based formats, told apart by their members rather than their first bytes.
    var isZip: Bool { self == .keras || self == .npz || self == .pytorch }

    /// Up to `count` bytes from the start of `path`; nil when it cannot be read.
    private static func firstBytes(of path: String, count: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, count) }
        return n < 0 ? nil : Array(buffer.prefix(n))
    }

    /// Formats of other tools, by extension, for saying which format a file is in when Ferry
    /// does not read or write it.
    public static func foreignFormat(of path: String) -> String? {
        let name = splitPath(path).name.lowercased()
        guard let dot = name.lastIndex(of: ".") else { return nil }
        let known = [
            "tflite": "TensorFlow Lite", "pb": "TensorFlow GraphDef", "mlmodel": "Core ML", "mlpackage": "Core ML",
            "engine": "TensorRT", "trt": "TensorRT", "plan": "TensorRT", "pdmodel": "PaddlePaddle",
            "pdiparams": "PaddlePaddle", "param": "ncnn", "mnn": "MNN", "xml": "OpenVINO IR", "gguf": "GGUF",
            "ggml": "GGML", "caffemodel": "Caffe", "prototxt": "Caffe", "tnnproto": "TNN", "rknn": "RKNN",
            "ort": "onnxruntime's ORT",
            "joblib": "joblib", "pkl": "pickle", "pickle": "pickle"
        ]
        return known[String(name[name.index(after: dot)...])]
    }
}
