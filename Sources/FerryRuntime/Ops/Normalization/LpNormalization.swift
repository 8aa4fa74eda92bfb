import FerryIR

extension NormalizationOps {
    /// LpNormalization: `x / ||x||_p` along `axis` (p = 1 or 2); a zero norm gives zeros.
    static func lpNormalization(_ spec: NodeSpec) throws -> Kernel {
        let axisAttribute = try spec.int("axis", -1)
        let p = try spec.int("p", 2)
        guard p == 1 || p == 2 else { throw KernelError.invalid("p must be 1 or 2, got \(p)") }
        return FunctionKernel { inputs, ctx in
            let x0 = try inputs.required(0, "input")
            let axis = try NormalizationMath.axis(axisAttribute, rank: x0.rank)
            let x = try NormalizationMath.widened(x0, ctx)
            let y = try ctx.allocate(x.type, x.shape)
            let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
            try dispatchFloat(
                x.type, NormalizationLpVisitor(x: x, y: y, outer: outer, length: x.shape[axis], inner: inner, p: p, ctx: ctx))
            return [try NormalizationMath.narrowed(y, to: x0.type, ctx)]
        }
    }
}

/// Divides every [length] fibre (stride `inner`) of an [outer, length, inner] tensor by its norm.
private struct NormalizationLpVisitor: FloatVisitor {
    let x: Value, y: Value, outer: Int, length: Int, inner: Int, p: Int, ctx: ExecutionContext

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func visit<T: RTFloat>(_: T.Type) throws {
        let (len, n, squared) = (length, inner, p == 2)
        guard outer > 0, len > 0, n > 0 else { return }
        let src = x.pointer(T.self), dst = y.pointer(T.self)
        ctx.parallel(outer, itemElements: len * n) { r in
            var norms = [Double](repeating: 0, count: n)
            for o in r {
                let xs = src + o * len * n, ys = dst + o * len * n
                for i in 0..<n { norms[i] = 0 }
                for k in 0..<len {
                    let row = xs + k * n
                    if squared {
                        for i in 0..<n {
                            let v = Double(row[i])
                            norms[i] += v * v
                        }
                    } else {
                        for i in 0..<n { norms[i] += abs(Double(row[i])) }
                    }
                }
                let norm = norms.map { T(squared ? $0.squareRoot() : $0) }
                for k in 0..<len {
                    let row = xs + k * n, out = ys + k * n
                    for i in 0..<n { out[i] = norm[i] == T.zero ? T.zero : row[i] / norm[i] }
                }
            }
        }
    }
}
