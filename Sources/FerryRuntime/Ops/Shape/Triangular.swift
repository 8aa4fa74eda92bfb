import FerryIR

extension ShapeOps {
    /// Ops on the diagonals of matrices: Trilu (keep a triangle) and EyeLike (ones on a diagonal).
    static func registerTriangular(into r: inout KernelRegistry) {
        r.register("Trilu") { spec in
            let upper = try spec.int("upper", 1) != 0
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                guard x.rank >= 2 else { throw KernelError.invalid("input must have rank 2 or more, got shape \(x.shape)") }
                let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
                var k = 0
                if let kv = inputs.optional(1) {
                    let ks = try kv.ints()
                    guard ks.count == 1 else { throw KernelError.invalid("k must be a scalar") }
                    k = min(max(ks[0], -h - w), h + w)
                }
                let out = try ctx.allocate(x.type, x.shape)
                let es = elementSize(x.type), rowBytes = w * es
                out.buffer.baseAddress.copyMemory(from: x.buffer.baseAddress, byteCount: x.count * es)
                let rows = w == 0 ? 0 : x.count / w
                for row in 0..<rows {
                    let i = row % h
                    // Upper keeps columns j >= i + k, lower keeps j <= i + k; the rest becomes zero.
                    let (from, to) = upper ? (0, min(max(i + k, 0), w)) : (min(max(i + k + 1, 0), w), w)
                    if to > from {
                        (out.buffer.baseAddress + row * rowBytes + from * es).initializeMemory(
                            as: UInt8.self, repeating: 0, count: (to - from) * es)
                    }
                }
                return [out]
            }
        }
        r.register("EyeLike") { spec in
            let k = try spec.int("k", 0)
            let dtype = spec.has("dtype") ? ElementType(rawValue: Int32(truncatingIfNeeded: try spec.int("dtype", 0))) : nil
            if spec.has("dtype") && dtype == nil { throw KernelError.invalid("attribute 'dtype' is not an element type") }
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                guard x.rank == 2 else { throw KernelError.invalid("input must be 2-D, got shape \(x.shape)") }
                let type = dtype ?? x.type
                let out = try ctx.zeros(type, x.shape)
                let one = try shapeConstant(1, type, ctx: ctx)
                let es = elementSize(type), h = x.shape[0], w = x.shape[1]
                for i in 0..<h {
                    let (j, o) = i.addingReportingOverflow(k)
                    if !o, j >= 0, j < w {
                        (out.buffer.baseAddress + (i * w + j) * es).copyMemory(from: one.buffer.baseAddress, byteCount: es)
                    }
                }
                return [out]
            }
        }
    }
}
