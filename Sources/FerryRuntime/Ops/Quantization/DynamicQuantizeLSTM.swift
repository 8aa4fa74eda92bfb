import FerryIR

/// com.microsoft DynamicQuantizeLSTM (what onnxruntime's quantize_dynamic makes of an LSTM): X, W,
/// R, B, sequence_lens, initial_h, initial_c, P, W_scale, W_zero_point, R_scale, R_zero_point, with
/// W [directions, input, 4 * hidden] and R [directions, hidden, 4 * hidden] as 8-bit integers with a
/// scale and zero point per direction or per direction and gate column. As onnxruntime computes it:
/// X is quantized to uint8 once per direction over the whole sequence and H(t-1) once per step, each
/// with the scale and zero point of its own range (DynamicQuantizeLinear's); both products are exact
/// int32 sums of (x - x_zero) * (w - w_zero), scaled by x_scale * w_scale; biases, peepholes, gates
/// and the cell update are float32.
final class DynamicQuantizeLSTMKernel: Kernel {
    private let layer: RecurrentLayer
    private let w: QuantizedRecurrentMatrix?
    private let r: QuantizedRecurrentMatrix?

    var prepackedInputs: Set<Int> { w == nil || r == nil ? [] : [1, 2, 8, 9, 10, 11] }

    init(_ spec: NodeSpec) throws {
        layer = try RecurrentLayer(spec, cell: .lstm(inputForget: try spec.int("input_forget", 0) != 0))
        let known = (0..<12).map { spec.constant($0) }
        w = try known[1].flatMap { q in try known[8].map { try QuantizedRecurrentMatrix(q, scale: $0, zeroPoint: known[9], "W") }
        }
        r = try known[2].flatMap { q in
            try known[10].map { try QuantizedRecurrentMatrix(q, scale: $0, zeroPoint: known[11], "R") }
        }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let w =
            try self.w
            ?? QuantizedRecurrentMatrix(
                try inputs.required(1, "W"), scale: try inputs.required(8, "W_scale"), zeroPoint: inputs.optional(9), "W")
        let r =
            try self.r
            ?? QuantizedRecurrentMatrix(
                try inputs.required(2, "R"), scale: try inputs.required(10, "R_scale"), zeroPoint: inputs.optional(11), "R")
        let hidden = r.depth
        guard r.directions == w.directions, r.columns == 4 * hidden, w.columns == 4 * hidden else {
            throw KernelError.invalid(
                "W \([w.directions, w.depth, w.columns]) and R \([r.directions, r.depth, r.columns]) are not the weights of one LSTM (R must be [directions, hidden, 4 * hidden])"
            )
        }
        let weights = RecurrentWeights<Float>(directions: w.directions, inputSize: w.depth, hidden: hidden, keepAlive: [w, r]) {
            d in
            RecurrentProducts(
                project: { x, rows, out in
                    w.multiply(direction: d, x, rows: rows, first: 0, count: w.columns, out, ldc: w.columns)
                },
                recur: { h, m, first, n, c, ldc in r.multiply(direction: d, h, rows: m, first: first, count: n, c, ldc: ldc) })
        }
        var lstm = Array(inputs.prefix(8))
        lstm += [Value?](repeating: nil, count: 8 - lstm.count)
        lstm[1] = nil
        lstm[2] = nil
        return try layer.run(lstm, ctx, weights: weights)
    }
}

/// One recurrent weight input of DynamicQuantizeLSTM ([directions, depth, columns] 8-bit integers,
/// a scale and zero point per direction or per direction and column), packed once per direction as
/// the columns x depth matrix the int8 matrix-vector kernel multiplies by.
final class QuantizedRecurrentMatrix {
    let directions: Int, depth: Int, columns: Int
    private let packed: PackedQuantizedMatrices
    /// One scale per direction and column.
    private let scales: [Float]

    init(_ q: Value, scale: Value, zeroPoint: Value?, _ name: String) throws {
        guard q.rank == 3, QuantizedType.isByte(q.type), q.shape.allSatisfy({ $0 > 0 }) else {
            throw KernelError.invalid("\(name) must be 3-D uint8 or int8 with no empty axis, got \(q.type.name) \(q.shape)")
        }
        let (directions, depth, columns) = (q.shape[0], q.shape[1], q.shape[2])
        let given = try scale.scaleValues(), zeros = try zeroPoint?.zeroPointValues() ?? [Int32](repeating: 0, count: given.count)
        guard given.count == directions || given.count == directions * columns, zeros.count == given.count else {
            throw KernelError.invalid(
                "\(name)_scale \(scale.shape) and \(name)_zero_point do not fit \(name) \(q.shape) (one value per direction, or per direction and column)"
            )
        }
        let perColumn = given.count == directions * columns
        let rowZeros = (0..<(directions * columns)).map { zeros[perColumn ? $0 : $0 / columns] }
        // [directions, depth, columns] -> [directions, columns, depth]: the kernel's rows are the columns.
        let source = q.buffer.bytes
        var transposed = [UInt8](repeating: 0, count: q.count)
        for d in 0..<directions {
            for i in 0..<depth {
                for j in 0..<columns { transposed[(d * columns + j) * depth + i] = source[(d * depth + i) * columns + j] }
            }
        }
        packed = transposed.withUnsafeBytes {
            PackedQuantizedMatrices(
                $0.baseAddress!, signed: q.type == .int8, groups: directions, rows: columns, columns: depth, zeroPoints: rowZeros)
        }
        scales = (0..<(directions * columns)).map { given[perColumn ? $0 : $0 / columns] }
        (self.directions, self.depth, self.columns) = (directions, depth, columns)
    }

    /// out (rows x count, leading dimension ldc) = a (rows x depth floats) times columns
    /// first..<first + count of direction `direction`: `a` quantized to uint8 with the parameters of
    /// its own range, exact int32 sums, scaled by a_scale * w_scale per column.
    func multiply(
        direction d: Int, _ a: UnsafePointer<Float>, rows: Int, first: Int, count: Int, _ out: UnsafeMutablePointer<Float>,
        ldc: Int
    ) {
        let n = rows * depth
        let params = dynamicQuantization(of: a, n)
        var q = [UInt8](repeating: 0, count: n)
        q.withUnsafeMutableBufferPointer {
            quantizeFloats(a, $0.baseAddress!, n, scale: params.scale, zero: params.zeroPoint, (0, 255))
        }
        let multipliers = (first..<(first + count)).map { params.scale * scales[d * columns + $0] }
        var sums = [Int32](repeating: 0, count: columns)
        var scratch = [UInt8](repeating: 0, count: 2 * depth + 4)
        q.withUnsafeBytes { qb in
            for i in 0..<rows {
                sums.withUnsafeMutableBufferPointer { c in
                    scratch.withUnsafeMutableBytes { s in
                        packed.multiplyVector(
                            group: d, m: columns, k: depth, x: qb.baseAddress! + i * depth, signed: 0,
                            zeroPoint: params.zeroPoint,
                            rows: 0..<columns, c: c.baseAddress!, scratch: s.baseAddress!)
                    }
                }
                let row = out + i * ldc
                for j in 0..<count { row[j] = Float(sums[first + j]) * multipliers[j] }
            }
        }
    }
}
