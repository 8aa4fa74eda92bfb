import FerryIR

/// com.microsoft DynamicQuantizeLSTM (what onnxruntime's quantize_dynamic makes of an LSTM): X, W,
/// R, B, sequence_lens, initial_h, initial_c, P, W_scale, W_zero_point, R_scale, R_zero_point, with
/// W [directions, input, 4 * hidden] and R [directions, hidden, 4 * hidden] quantized per direction
/// or per gate column. The weights are dequantized (once, at plan time when constant) into the ONNX
/// LSTM layout and the float LSTM runs; onnxruntime instead quantizes X and H at every step, so the
/// two differ by that activation rounding.
final class DynamicQuantizeLSTMKernel: Kernel {
    private let layer: RecurrentLayer
    private let w: Value?
    private let r: Value?

    var prepackedInputs: Set<Int> { w == nil || r == nil ? [] : [1, 2, 8, 9, 10, 11] }

    init(_ spec: NodeSpec) throws {
        layer = try RecurrentLayer(spec, cell: .lstm(inputForget: try spec.int("input_forget", 0) != 0))
        let known = (0..<12).map { spec.constant($0) }
        w = try known[1].flatMap { q in try known[8].map { try DynamicQuantizeLSTMKernel.dequantize(q, $0, known[9]) } }
        r = try known[2].flatMap { q in try known[10].map { try DynamicQuantizeLSTMKernel.dequantize(q, $0, known[11]) } }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let w = try self.w ?? DynamicQuantizeLSTMKernel.dequantize(try inputs.required(1, "W"), try inputs.required(8, "W_scale"), inputs.optional(9))
        let r = try self.r ?? DynamicQuantizeLSTMKernel.dequantize(try inputs.required(2, "R"), try inputs.required(10, "R_scale"), inputs.optional(11))
        var lstm = Array(inputs.prefix(8))
        lstm += [Value?](repeating: nil, count: 8 - lstm.count)
        lstm[1] = w
        lstm[2] = r
        return try layer.run(lstm, ctx)
    }

    /// [directions, rows, columns] quantized weights as the float [directions, columns, rows] the
    /// LSTM kernel takes; scale and zero point per direction or per direction and column.
    static func dequantize(_ q: Value, _ scale: Value, _ zero: Value?) throws -> Value {
        guard q.rank == 3, QuantizedType.isByte(q.type) else { throw KernelError.invalid("quantized weights must be 3-D uint8 or int8, got \(q.type.name) \(q.shape)") }
        let d = q.shape[0], rows = q.shape[1], cols = q.shape[2]
        let scales = try scale.scaleValues(), zeros = try zero?.zeroPointValues() ?? [Int32](repeating: 0, count: scales.count)
        guard scales.count == d || scales.count == d * cols, zeros.count == scales.count else {
            throw KernelError.invalid("scale \(scale.shape) and zero point do not fit weights \(q.shape)")
        }
        let perColumn = scales.count == d * cols
        let values = try q.ints()
        var out = [Float](repeating: 0, count: q.count)
        for k in 0..<d {
            for i in 0..<rows {
                for j in 0..<cols {
                    let p = perColumn ? k * cols + j : k
                    out[(k * cols + j) * rows + i] = Float(Int32(values[(k * rows + i) * cols + j]) - zeros[p]) * scales[p]
                }
            }
        }
        return Value.float(out, shape: [d, cols, rows])
    }
}
