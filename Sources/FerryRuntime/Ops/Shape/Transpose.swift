import FerryIR

extension ShapeOps {
    /// Axis permutations: Transpose, DepthToSpace and SpaceToDepth.
    static func registerTranspose(into r: inout KernelRegistry) {
        r.register("Transpose") { spec in
            let perm = try spec.ints("perm")
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                let p = perm ?? Array((0..<x.rank).reversed())
                guard p.count == x.rank, Set(p).count == p.count, p.allSatisfy({ $0 >= 0 && $0 < x.rank }) else {
                    throw KernelError.invalid("perm \(p) is not a permutation of the \(x.rank) axes")
                }
                return [try permute(x, view: x.shape, perm: p, into: p.map { x.shape[$0] }, ctx: ctx)]
            }
        }
        r.register("DepthToSpace") { spec in
            let (b, mode) = try shapeBlockAttributes(spec, modeFromOpset: 11)
            return FunctionKernel { inputs, ctx in
                let (x, n, c, h, w) = try blockInput(inputs)
                let bb = try shapeMultiply(b, b)
                guard c % bb == 0 else { throw KernelError.invalid("channels \(c) are not a multiple of blocksize² \(bb)") }
                let out = [n, c / bb, try shapeMultiply(h, b), try shapeMultiply(w, b)]
                if mode == "DCR" {
                    return [try permute(x, view: [n, b, b, c / bb, h, w], perm: [0, 3, 4, 1, 5, 2], into: out, ctx: ctx)]
                }
                return [try permute(x, view: [n, c / bb, b, b, h, w], perm: [0, 1, 4, 2, 5, 3], into: out, ctx: ctx)]
            }
        }
        r.register("SpaceToDepth") { spec in
            let (b, mode) = try shapeBlockAttributes(spec, modeFromOpset: 1)
            return FunctionKernel { inputs, ctx in
                let (x, n, c, h, w) = try blockInput(inputs)
                guard h % b == 0, w % b == 0 else {
                    throw KernelError.invalid("spatial size \(h)x\(w) is not a multiple of blocksize \(b)")
                }
                let view = [n, c, h / b, b, w / b, b], out = [n, try shapeMultiply(c, try shapeMultiply(b, b)), h / b, w / b]
                let perm = mode == "DCR" ? [0, 3, 5, 1, 2, 4] : [0, 1, 3, 5, 2, 4]
                return [try permute(x, view: view, perm: perm, into: out, ctx: ctx)]
            }
        }
    }

    /// `x` seen as the dense shape `view`, its axes permuted by `perm`, stored as `shape`. When the
    /// permutation keeps the memory order (it moves only axes of size 1), the result is a view.
    private static func permute(_ x: Value, view: [Int], perm: [Int], into shape: [Int], ctx: ExecutionContext) throws -> Value {
        let strides = shapeStrides(view)
        let plan = try ShapeStridedCopy(shape: perm.map { view[$0] }, strides: perm.map { strides[$0] })
        if plan.dims.isEmpty || (plan.dims.count == 1 && plan.strides[0] == 1) { return x.reshaped(shape) }
        let out = try ctx.allocate(x.type, shape)
        try plan.run(from: x.buffer.baseAddress, to: out.buffer.baseAddress, type: x.type, ctx: ctx)
        return out
    }
}

/// DepthToSpace / SpaceToDepth's positive `blocksize` and DCR/CRD `mode` (read from `modeFromOpset`
/// on; DCR before).
/// The 4-D input of DepthToSpace and SpaceToDepth, with its sizes (N, C, H, W).
private func blockInput(_ inputs: [Value?]) throws -> (Value, Int, Int, Int, Int) {
    let x = try inputs.required(0)
    guard x.rank == 4 else { throw KernelError.invalid("input must be 4-D, got shape \(x.shape)") }
    return (x, x.shape[0], x.shape[1], x.shape[2], x.shape[3])
}

private func shapeBlockAttributes(_ spec: NodeSpec, modeFromOpset: Int) throws -> (blocksize: Int, mode: String) {
    let b = try spec.int("blocksize", 0)
    let mode = spec.opset < modeFromOpset ? "DCR" : try spec.string("mode", "DCR")
    guard b > 0 else { throw KernelError.invalid("blocksize must be positive") }
    guard mode == "DCR" || mode == "CRD" else { throw KernelError.invalid("mode '\(mode)' is not DCR or CRD") }
    return (b, mode)
}
