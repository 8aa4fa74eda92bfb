import FerryIR

/// Dense copies of strided views (permutations, broadcasts with stride 0, diagonals), shared by the
/// reduction and Einsum kernels.
enum ReduceLayout {
    /// A new dense value of `shape` whose element at index (i0, i1, ...) is the element of `v` at
    /// flat offset `sum(i_d * strides[d])`. The caller guarantees every offset lies inside `v`.
    static func gather(_ v: Value, shape: [Int], strides: [Int], ctx: ExecutionContext) throws -> Value {
        let out = try ctx.allocate(v.type, shape)
        let n = out.count
        guard n > 0 else { return out }
        // Merge axes that are contiguous with their successor, drop axes of size 1.
        var dims: [Int] = [], steps: [Int] = []
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = dims.indices.last, steps[last] == strides[d] * shape[d] {
                dims[last] *= shape[d]
                steps[last] = strides[d]
            } else {
                dims.append(shape[d])
                steps.append(strides[d])
            }
        }
        if dims.isEmpty {
            dims = [1]
            steps = [1]
        }
        let src = v.buffer.baseAddress, dst = out.buffer.baseAddress
        switch elementSize(v.type) {
        case 1: copy(UInt8.self, src, dst, dims, steps, ctx)
        case 2: copy(UInt16.self, src, dst, dims, steps, ctx)
        case 4: copy(UInt32.self, src, dst, dims, steps, ctx)
        case 8: copy(UInt64.self, src, dst, dims, steps, ctx)
        default: throw KernelError.unsupported("element type \(v.type.name)")
        }
        return out
    }

    /// `v` with its axes reordered: output axis d is input axis `perm[d]`.
    static func permute(_ v: Value, _ perm: [Int], ctx: ExecutionContext) throws -> Value {
        let strides = contiguousStrides(v.shape)
        return try gather(v, shape: perm.map { v.shape[$0] }, strides: perm.map { strides[$0] }, ctx: ctx)
    }

    /// Row-major element strides of a dense tensor of `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = step
            step *= shape[d]
        }
        return strides
    }

    private static func copy<E>(
        _: E.Type, _ src: UnsafeMutableRawPointer, _ dst: UnsafeMutableRawPointer,
        _ dims: [Int], _ steps: [Int], _ ctx: ExecutionContext
    ) {
        let s = src.assumingMemoryBound(to: E.self), d = dst.assumingMemoryBound(to: E.self)
        let rank = dims.count
        let row = dims[rank - 1], rowStep = steps[rank - 1]
        let rows = dims.dropLast().reduce(1, *)
        let outerDims = Array(dims.dropLast()), outerSteps = Array(steps.dropLast())
        ctx.parallel(rows, grain: max(1, 32768 / row)) { range in
            // The outer axes, from the first row of the range.
            var walk = StridedWalk(shape: outerDims, strides: outerSteps, start: range.lowerBound)
            for r in range {
                let o = d + r * row, i = s + walk.offset
                if rowStep == 1 {
                    o.update(from: i, count: row)
                } else {
                    for k in 0..<row { o[k] = i[k * rowStep] }
                }
                walk.advance()
            }
        }
    }
}
