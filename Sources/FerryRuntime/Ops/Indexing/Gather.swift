import FerryIR

extension IndexingOps {
    /// Gather, GatherElements and GatherND.
    static func registerGather(into r: inout KernelRegistry) {
        r.register("Gather") { spec in
            let axis = try spec.int("axis", 0)
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0), ind = try inputs.required(1, "indices")
                let a = try shapeAxis(axis, rank: x.rank)
                return [try take(x, axis: a, indices: try indices(ind, bound: x.shape[a]), shape: ind.shape, ctx: ctx)]
            }
        }
        r.register("GatherElements") { spec in
            let axis = try spec.int("axis", 0)
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0), ind = try inputs.required(1, "indices")
                let a = try shapeAxis(axis, rank: x.rank)
                guard ind.rank == x.rank, (0..<x.rank).allSatisfy({ $0 == a || ind.shape[$0] <= x.shape[$0] }) else {
                    throw KernelError.invalid("indices of shape \(ind.shape) do not fit data of shape \(x.shape)")
                }
                let idx = try indices(ind, bound: x.shape[a])
                let out = try ctx.allocate(x.type, ind.shape)
                try shapeWithWidth(of: x.type, IndexingElementsGather(x: x, out: out, axis: a, indices: idx, ctx: ctx))
                return [out]
            }
        }
        r.register("GatherND") { spec in
            let batchDims = spec.opset < 12 ? 0 : try spec.int("batch_dims", 0)
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0), ind = try inputs.required(1, "indices")
                let (offsets, slice) = try ndOffsets(x.shape, ind, batchDims: batchDims)
                let shape = Array(ind.shape.dropLast()) + x.shape[(batchDims + ind.shape[ind.rank - 1])...]
                let out = try ctx.allocate(x.type, shape)
                try shapeWithWidth(
                    of: x.type, IndexingBlockCopy(src: x, dst: out, offsets: offsets, block: slice, scatter: false, ctx: ctx))
                return [out]
            }
        }
    }

    /// The elements of `x` at `indices` (already made non-negative) along `axis`; the index axis is
    /// replaced by `shape`, the indices' shape.
    static func take(_ x: Value, axis: Int, indices: [Int], shape: [Int], ctx: ExecutionContext) throws -> Value {
        let out = try ctx.allocate(x.type, Array(x.shape[..<axis]) + shape + x.shape[(axis + 1)...])
        guard out.count > 0 else { return out }
        let outer = try shapeCount(x.shape[..<axis]), inner = try shapeCount(x.shape[(axis + 1)...])
        let n = x.shape[axis], k = indices.count
        var offsets = [Int](repeating: 0, count: outer * k)
        for o in 0..<outer {
            for j in 0..<k { offsets[o * k + j] = (o * n + indices[j]) * inner }
        }
        try shapeWithWidth(
            of: x.type, IndexingBlockCopy(src: x, dst: out, offsets: offsets, block: inner, scatter: false, ctx: ctx))
        return out
    }

    /// For GatherND and ScatterND: the element offset into data of `shape` of the slice each index
    /// tuple (last axis of `ind`) selects, and the slice's element count.
    static func ndOffsets(_ shape: [Int], _ ind: Value, batchDims b: Int) throws -> (offsets: [Int], slice: Int) {
        guard ind.rank >= 1, b >= 0, b < ind.rank, b <= shape.count, ind.shape[..<b] == shape[..<b] else {
            throw KernelError.invalid("indices of shape \(ind.shape) do not fit data of shape \(shape) with batch_dims \(b)")
        }
        let k = ind.shape[ind.rank - 1]
        guard k >= 0, b + k <= shape.count else {
            throw KernelError.invalid("index tuples of length \(k) do not fit data of rank \(shape.count) with batch_dims \(b)")
        }
        guard ind.type == .int64 || ind.type == .int32 else {
            throw KernelError.invalid("indices must be int64 or int32, got \(ind.type.name)")
        }
        let raw = try ind.ints()
        let strides = shapeStrides(shape)
        let tuples = try shapeCount(ind.shape.dropLast())
        let perBatch = try shapeCount(ind.shape[b..<(ind.rank - 1)])
        let batchStride = try shapeCount(shape[b...])
        guard tuples <= Int(Int32.max) else { throw KernelError.invalid("too many index tuples (\(tuples))") }
        var offsets = [Int](repeating: 0, count: tuples)
        for t in 0..<tuples {
            var off = (t / perBatch) * batchStride
            for j in 0..<k {
                var i = raw[t * k + j]
                let dim = shape[b + j]
                guard i >= -dim, i < dim else {
                    throw KernelError.invalid("index \(i) is out of range for a dimension of size \(dim)")
                }
                if i < 0 { i += dim }
                off += i * strides[b + j]
            }
            offsets[t] = off
        }
        return (offsets, try shapeCount(shape[(b + k)...]))
    }
}

/// Moves blocks of `block` elements: gathering, block u of `dst` is read at element offset
/// `offsets[u]` of `src`; scattering, block u of `src` is written there in `dst` (in order, so the
/// last of repeated indices wins).
struct IndexingBlockCopy: ShapeWidthVisitor {
    let src: Value, dst: Value
    let offsets: [Int]
    let block: Int
    let scatter: Bool
    let ctx: ExecutionContext

    func visit<T>(_: T.Type) throws {
        let s = src.pointer(T.self), d = dst.pointer(T.self), n = block, es = MemoryLayout<T>.stride
        guard n > 0 else { return }
        offsets.withUnsafeBufferPointer { off in
            if scatter {
                for u in off.indices {
                    if n * es >= 64 {
                        UnsafeMutableRawPointer(d + off[u]).copyMemory(from: s + u * n, byteCount: n * es)
                    } else {
                        let dr = d + off[u], sr = s + u * n
                        for i in 0..<n { dr[i] = sr[i] }
                    }
                }
                return
            }
            ctx.parallel(off.count, itemElements: n * es) { range in
                for u in range {
                    if n * es >= 64 {
                        UnsafeMutableRawPointer(d + u * n).copyMemory(from: s + off[u], byteCount: n * es)
                    } else {
                        let dr = d + u * n, sr = s + off[u]
                        for i in 0..<n { dr[i] = sr[i] }
                    }
                }
            }
        }
    }
}

/// GatherElements for one element width: out[i…] = x[i… with the axis index replaced by indices[i…]].
private struct IndexingElementsGather: ShapeWidthVisitor {
    let x: Value, out: Value
    let axis: Int
    let indices: [Int]
    let ctx: ExecutionContext

    func visit<T>(_: T.Type) throws {
        let s = x.pointer(T.self), d = out.pointer(T.self)
        var strides = shapeStrides(x.shape)
        let axisStride = strides[axis]
        strides[axis] = 0
        let dims = out.shape, idx = indices
        ctx.parallel(out.count, grain: rowGrainElements) { range in
            shapeForEach(dims, strides, strides, range) { row, a, _ in d[row] = s[a + idx[row] * axisStride] }
        }
    }
}
