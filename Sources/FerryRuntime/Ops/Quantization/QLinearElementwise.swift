import CKernels
import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A 256-entry table taking every value of a 1-byte quantized type (uint8 or int8, indexed by its
/// bit pattern) through a float function and quantizing the result: how one-input quantized ops
/// (QLinearSigmoid, QLinearLeakyRelu, requantization in QLinearConcat) run exactly.
struct ByteLookupTable {
    private let table: [UInt8]
    let outputType: ElementType

    init(input: ElementType, _ from: TensorQuantization, output: ElementType, _ to: TensorQuantization, _ f: (Float) -> Float)
        throws
    {
        guard QuantizedType.isByte(input), QuantizedType.isByte(output) else {
            throw KernelError.unsupported("\(input.name) to \(output.name) (uint8 and int8 only)")
        }
        let range = try QuantizedType.range(output)
        table = (0..<256).map { bits in
            let q = input == .int8 ? Int32(Int8(truncatingIfNeeded: bits)) : Int32(bits)
            let y = to.quantize(f(Float(q - from.zeroPoint) * from.scale), range)
            return UInt8(truncatingIfNeeded: y)
        }
        outputType = output
    }

    /// `x` with every element looked up.
    func apply(_ x: Value, _ ctx: ExecutionContext) throws -> Value {
        let y = try ctx.allocate(outputType, x.shape)
        let s = x.pointer(UInt8.self), d = y.pointer(UInt8.self)
        table.withUnsafeBufferPointer { t in
            ctx.parallel(x.count, grain: elementGrain) { r in for i in r { d[i] = t[Int(s[i])] } }
        }
        return y
    }
}

/// com.microsoft QLinearSigmoid and QLinearLeakyRelu: X, X_scale, X_zero_point, Y_scale,
/// Y_zero_point, through a lookup table built per run from the (usually constant) parameters.
func qlinearUnary(_ f: @escaping (Float) -> Float) -> KernelBuilder {
    { _ in
        FunctionKernel { inputs, ctx in
            let x = try inputs.required(0, "X")
            let from = try TensorQuantization(inputs, scale: 1, zeroPoint: 2, "X")
            let to = try TensorQuantization(inputs, scale: 3, zeroPoint: 4, "Y")
            let outType = inputs.optional(4)?.type ?? x.type
            return [try ByteLookupTable(input: x.type, from, output: outType, to, f).apply(x, ctx)]
        }
    }
}

/// com.microsoft QLinearAdd and QLinearMul: A, A_scale, A_zero_point, B, B_scale, B_zero_point,
/// C_scale, C_zero_point; C = quantize(dequantize(A) op dequantize(B)) with broadcasting. QDQ
/// fusion adds a Relu or Clip after the sum as a narrower output range (`ferry.activation`).
func qlinearBinary(multiply: Bool) -> KernelBuilder {
    { spec in
        let activation = try FusedActivation(spec)
        return FunctionKernel { inputs, ctx in
            let a = try inputs.required(0, "A"), b = try inputs.required(3, "B")
            guard a.type == b.type, QuantizedType.isByte(a.type) else {
                throw KernelError.invalid("A (\(a.type.name)) and B (\(b.type.name)) must both be uint8 or int8")
            }
            let pc = try TensorQuantization(inputs, scale: 6, zeroPoint: 7, "C")
            let body = QLinearBinaryBody(
                a: a, b: b, multiply: multiply, pa: try TensorQuantization(inputs, scale: 1, zeroPoint: 2, "A"),
                pb: try TensorQuantization(inputs, scale: 4, zeroPoint: 5, "B"), pc: pc,
                range: try QuantizedOutput.activationRange(a.type, pc, activation), ctx: ctx)
            return [try QuantizedType.dispatch(a.type, body)]
        }
    }
}

/// The broadcast loop of QLinearAdd / QLinearMul for one storage type: C = quantize(dequantize(A)
/// op dequantize(B)), the sum or product divided by C's scale, as onnxruntime computes it.
private struct QLinearBinaryBody: QuantizedVisitor {
    let a: Value, b: Value, multiply: Bool
    let pa: TensorQuantization, pb: TensorQuantization, pc: TensorQuantization
    let range: (lo: Int32, hi: Int32)
    let ctx: ExecutionContext

    func visit<T: RTInteger>(_: T.Type) throws -> Value {
        let bc = try Broadcast([a.shape, b.shape])
        let out = try ctx.allocate(a.type, bc.shape)
        let xa = a.pointer(T.self), xb = b.pointer(T.self), y = out.pointer(T.self)
        let n = bc.rowLength, sa = bc.rowStride(0), sb = bc.rowStride(1)
        let sA = pa.scale, zeroA = pa.zeroPoint, sB = pb.scale, zeroB = pb.zeroPoint
        let sC = pc.scale, zero = pc.zeroPoint, range = self.range, multiply = self.multiply
        ctx.parallel(bc.rowCount * n, grain: elementGrain) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                // Elements [i, end) lie in one broadcast row.
                let row = i / n, end = min(r.upperBound, (row + 1) * n)
                var offA = 0, offB = 0
                if bc.rowCount > 1 {
                    bc.forEachRow(row..<row + 1) { off, _ in
                        offA = off[0]
                        offB = off[1]
                    }
                }
                let first = i - row * n
                let pa = xa + offA + first * sa, pb = xb + offB + first * sb
                ferry_qlinear_binary_bytes(
                    pa, sa, pb, sb, end - i, T.isSigned ? 1 : 0, multiply ? 1 : 0, sA, zeroA, sB, zeroB,
                    sC, zero, range.lo, range.hi, y + i)
                i = end
            }
        }
        return out
    }
}

/// com.microsoft QLinearConcat: Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input;
/// inputs with other parameters than Y's are requantized first.
func qlinearConcat(_ spec: NodeSpec) throws -> Kernel {
    let axis = try spec.int("axis", Int.min)
    guard axis != Int.min else { throw KernelError.invalid("attribute 'axis' is missing") }
    guard spec.inputCount >= 5, (spec.inputCount - 2) % 3 == 0 else {
        throw KernelError.invalid(
            "expected Y_scale, Y_zero_point and triples of X, X_scale, X_zero_point; got \(spec.inputCount) inputs")
    }
    return FunctionKernel { inputs, ctx in
        let to = try TensorQuantization(inputs, scale: 0, zeroPoint: 1, "Y")
        let outType = try inputs.required(1, "Y_zero_point").type
        var parts: [Value] = []
        for i in stride(from: 2, to: inputs.count, by: 3) {
            let x = try inputs.required(i, "X")
            let from = try TensorQuantization(inputs, scale: i + 1, zeroPoint: i + 2, "X")
            let same = from.scale == to.scale && from.zeroPoint == to.zeroPoint && x.type == outType
            parts.append(same ? x : try ByteLookupTable(input: x.type, from, output: outType, to, { $0 }).apply(x, ctx))
        }
        return [try ShapeOps.concat(parts, axis: try shapeAxis(axis, rank: parts[0].rank), ctx: ctx)]
    }
}

/// The logistic function used by QLinearSigmoid.
func logistic(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
