import CProtobufONNX
import FerryIR

/// Reads a file holding one serialized `TensorProto` (the `input_0.pb` / `output_0.pb` files of
/// ONNX test data sets), with the same checks as model files.
public enum ONNXTensorFile {
    public static func read(_ path: String) throws -> Tensor {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as FileError { throw ONNXError.io(e) }
        var err = [CChar](repeating: 0, count: 512)
        let bytes = file.bytes
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        if ferry_pb_check(ferry_onnx_tensor_descriptor(), base, bytes.count, ONNXReader.maxMessageDepth, &err, err.count) != 0 {
            throw ONNXError.malformed(file: path, part: "tensor", reason: "malformed protobuf: " + String(cString: err))
        }
        guard let proto = onnx__tensor_proto__unpack(&ferry_aligned_allocator, bytes.count, base) else {
            throw ONNXError.malformed(file: path, part: "tensor", reason: "libprotobuf-c could not decode the tensor")
        }
        defer { onnx__tensor_proto__free_unpacked(proto, &ferry_aligned_allocator) }
        let decoder = ProtoDecoder(file: path, external: ExternalDataReader(modelPath: path))
        let tensor = try decoder.tensor(proto)
        do { try tensor.validate() } catch let e as IRError {
            throw ONNXError.invalidModel(file: path, error: e)
        }
        return tensor
    }
}
