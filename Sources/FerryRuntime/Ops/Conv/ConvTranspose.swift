import CKernels
import FerryIR

/// Transposed convolution: per image and group, columns = W^T * X by sgemm, then col2im adds them
/// into the zeroed output; bias last.
final class ConvTransposeKernel: Kernel {
    private let spec: NodeSpec
    private let groups: Int
    private let outputPadding: [Int]?
    private let outputShape: [Int]?

    init(_ spec: NodeSpec) throws {
        self.spec = spec
        groups = try spec.int("group", 1)
        guard groups >= 1 else { throw KernelError.invalid("group must be positive") }
        outputPadding = try spec.ints("output_padding")
        outputShape = try spec.ints("output_shape")
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0, "X"), w = try inputs.required(1, "W")
        let b = inputs.optional(2)
        guard x.type == .float, w.type == .float, b == nil || b!.type == .float else {
            throw KernelError.unsupported("ConvTranspose on \(x.type.name) (float32 only)")
        }
        guard w.rank >= 3, x.rank == w.rank else {
            throw KernelError.invalid("input \(x.shape) and weights \(w.shape) ranks differ")
        }
        let g = try WindowGeometry(spec, kernel: try spec.ints("kernel_shape") ?? Array(w.shape.dropFirst(2)))
        guard g.kernel == Array(w.shape.dropFirst(2)) else {
            throw KernelError.invalid("kernel_shape \(g.kernel) differs from the weights")
        }
        let n = x.shape[0], c = x.shape[1]
        guard c == w.shape[0], c % groups == 0 else {
            throw KernelError.invalid("input has \(c) channels, weights \(w.shape) with group \(groups)")
        }
        let mg = w.shape[1], m = mg * groups, cg = c / groups
        if let b { guard b.count == m else { throw KernelError.invalid("bias has \(b.count) values for \(m) output channels") } }
        let spatial = Array(x.shape.dropFirst(2)), rank = g.rank
        let op = outputPadding ?? Array(repeating: 0, count: rank)
        guard op.count == rank, op.allSatisfy({ $0 >= 0 }) else { throw KernelError.invalid("output_padding \(op)") }

        var out: [Int] = [], padBegin: [Int] = []
        for d in 0..<rank {
            let full = g.strides[d] * (spatial[d] - 1) + op[d] + g.span(d)
            if let outputShape {
                let os = Array(outputShape.suffix(rank))
                guard os.count == rank else { throw KernelError.invalid("output_shape \(outputShape)") }
                let total = max(0, full - os[d])
                padBegin.append(g.autoPad == .sameUpper ? total / 2 : total - total / 2)
                out.append(os[d])
            } else if g.autoPad == .sameUpper || g.autoPad == .sameLower {
                let target = spatial[d] * g.strides[d]
                let total = max(0, full - target)
                padBegin.append(g.autoPad == .sameUpper ? total / 2 : total - total / 2)
                out.append(target)
            } else {
                let pb = g.autoPad == .valid ? 0 : g.pads[d], pe = g.autoPad == .valid ? 0 : g.pads[d + rank]
                padBegin.append(pb)
                out.append(full - pb - pe)
            }
            guard out[d] > 0 else { throw KernelError.invalid("output size \(out) is not positive") }
        }
        let y = try ctx.zeros(.float, [n, m] + out)
        let pIn = spatial.reduce(1, *), pOut = out.reduce(1, *)
        let ks = g.kernel.reduce(1, *)
        let rows = mg * ks
        let column = try ctx.allocate(.float, [rows * pIn])
        for img in 0..<n {
            for grp in 0..<groups {
                let xg = x.floats + (img * c + grp * cg) * pIn
                let wg = w.floats + grp * cg * rows
                let yg = y.floats + (img * m + grp * mg) * pOut
                // columns[rows x pIn] = Wg^T [rows x cg] * Xg [cg x pIn]
                sgemm(transA: true, m: rows, n: pIn, k: cg, a: wg, lda: rows, b: xg, ldb: pIn, c: column.floats, ldc: pIn)
                ferry_col2im_nd(column.floats, mg, rank, out, g.kernel, g.strides, g.dilations, padBegin, spatial, yg)
            }
        }
        if let b {
            for img in 0..<n {
                ferry_scale_bias_act(y.floats + img * m * pOut, m, pOut, pOut, nil, b.floats, 0, 0, 0)
            }
        }
        return [y]
    }
}
