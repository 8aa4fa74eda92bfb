import CKernels
import FerryIR

/// onnxruntime's com.microsoft MatMulNBits with 4-bit weights: Y = A · Wᵀ (+ bias) where W (N x K)
/// is stored as blocks of `block_size` codes along K, (code - zero point) * scale, zero points
/// packed 4-bit (8 when absent). One to four rows of A per product read the codes once, unpacked
/// in registers (`ferry_nbits4_rows`); more rows pack A once and dequantize W a panel of 16 columns
/// at a time into a small buffer the SGEMM reads while it is in cache (the model keeps only the
/// 4-bit codes; no float copy of W is ever whole).
final class MatMulNBitsKernel: Kernel {
    private let k: Int, n: Int, block: Int
    /// An activation `Fusion` moved in, applied after the bias.
    private let activation: FusedActivation
    /// accuracy_level 4: one to four rows of A are quantized to int8 per block and multiplied in
    /// exact byte products (onnxruntime's CompInt8); more rows still compute in float.
    private let int8Activations: Bool

    init(_ spec: NodeSpec) throws {
        k = try spec.int("K", 0)
        n = try spec.int("N", 0)
        block = try spec.int("block_size", 0)
        activation = try FusedActivation(spec)
        int8Activations = try spec.int("accuracy_level", 0) == 4
        let bits = try spec.int("bits", 4)
        guard bits == 4 else { throw KernelError.unsupported("MatMulNBits with \(bits)-bit weights (4 only)") }
        guard k > 0, n > 0 else { throw KernelError.invalid("K (\(k)) and N (\(n)) must be positive") }
        guard block >= 16, block & (block - 1) == 0 else {
            throw KernelError.invalid("block_size \(block) is not a power of two of at least 16")
        }
        if spec.inputCount > 4, !spec.node.inputs[4].isEmpty {
            throw KernelError.unsupported("MatMulNBits with g_idx (its deprecated act-order input)")
        }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B"), s = try inputs.required(2, "scales")
        let blocks = (k + block - 1) / block
        guard a.type == .float, a.rank >= 1, a.shape.last == k else {
            throw KernelError.invalid("A must be float32 with last axis K = \(k), got \(a.type.name)\(a.shape)")
        }
        guard b.type == .uint8, b.count == n * ferry_nbits4_row_bytes(k, block) else {
            throw KernelError.invalid("B must be uint8 [\(n), \(blocks), \(block / 2)], got \(b.type.name)\(b.shape)")
        }
        guard s.type == .float, s.count == n * blocks else {
            throw KernelError.invalid("scales must be \(n * blocks) float32 values, got \(s.type.name)\(s.shape)")
        }
        var zeros: UnsafePointer<UInt8>?
        if let z = inputs.optional(3) {
            guard z.type == .uint8, z.count == n * ((blocks + 1) / 2) else {
                throw KernelError.unsupported(
                    "zero_points must be packed uint8 [\(n * ((blocks + 1) / 2))], got \(z.type.name)\(z.shape)")
            }
            zeros = UnsafePointer(z.pointer(UInt8.self))
        }
        var bias: Value?
        if let v = inputs.optional(5) {
            guard v.type == .float, v.count == n else { throw KernelError.invalid("bias must be \(n) float32 values") }
            bias = v
        }
        let m = a.count / k
        let y = try ctx.allocate(.float, Array(a.shape.dropLast()) + [n])
        let ap = a.floats, bp = b.pointer(UInt8.self), sp = s.floats, yp = y.floats, k = self.k, n = self.n,
            block = self.block
        if m <= 4 && int8Activations {
            let scratchBytes = ferry_nbits4_int8_scratch(k, block)
            for row in 0..<m {
                ctx.parallel(n, work: n * k * 8) { r in
                    let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
                    defer { scratch.deallocate() }
                    ferry_nbits4_row_int8(
                        k, ap + row * k, bp, sp, zeros, block, r.lowerBound, r.upperBound, yp + row * n, scratch)
                }
            }
        } else if m <= 4 {
            ctx.parallel(n, work: m * n * k * 8) { r in
                ferry_nbits4_rows(m, k, ap, k, bp, sp, zeros, block, r.lowerBound, r.upperBound, yp, n)
            }
        } else {
            let packedA = try ctx.allocate(.float, [ferry_sgemm_packed_a_size(m, k)])
            ferry_sgemm_pack_a(ap, k, 0, m, k, packedA.floats)
            let pa = packedA.floats
            ctx.parallel((n + 15) / 16, work: m * n * k) { r in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: ferry_nbits4_gemm_scratch(k))
                defer { scratch.deallocate() }
                ferry_nbits4_gemm(m, k, n, pa, bp, sp, zeros, block, r.lowerBound, r.upperBound, yp, n, scratch)
            }
        }
        // The output pass MatMul's kernel runs: the bias added to each row, then the activation.
        if let bias {
            for i in 0..<m { ferry_binary_f32(Int32(FERRY_BIN_ADD.rawValue), yp + i * n, 1, bias.floats, 1, yp + i * n, n) }
        }
        ferry_scale_bias_act(yp, m, n, n, nil, nil, activation.code, activation.alpha, activation.beta)
        return [y]
    }
}
