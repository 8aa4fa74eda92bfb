import CKernels
import FerryIR

/// A dense copy of a strided view of a source: output element (i0, …, in) is read at element
/// offset Σ ik · strides[k] of the source (strides may be 0 or negative). Axes of size 1 are dropped
/// and adjacent axes that stay contiguous are merged, so the copy runs in long rows: bulk copies
/// when a source row is contiguous, a blocked 2-D transpose when another axis is.
struct ShapeStridedCopy {
    /// Merged output axes, outermost first.
    let dims: [Int]
    /// Source element stride of each merged axis.
    let strides: [Int]
    let count: Int

    init(shape: [Int], strides: [Int]) throws {
        count = try shapeCount(shape)
        var d: [Int] = [], s: [Int] = []
        for k in shape.indices where shape[k] != 1 {
            if let last = d.indices.last, s[last] == strides[k] &* shape[k] {
                d[last] = d[last] &* shape[k]
                s[last] = strides[k]
            } else {
                d.append(shape[k])
                s.append(strides[k])
            }
        }
        dims = d
        self.strides = s
    }

    /// Copies from `src` (the element at all-zero indices) into the dense `dst`.
    func run(from src: UnsafeRawPointer, to dst: UnsafeMutableRawPointer, type: ElementType, ctx: ExecutionContext) throws {
        guard count > 0 else { return }
        try shapeWithWidth(of: type, ShapeStridedCopyBody(plan: self, src: src, dst: dst, ctx: ctx))
    }

    /// Copies the view of `x` starting at element `offset` into a new value of `shape`.
    static func copy(_ x: Value, offset: Int = 0, shape: [Int], strides: [Int], ctx: ExecutionContext) throws -> Value {
        let out = try ctx.allocate(x.type, shape)
        let plan = try ShapeStridedCopy(shape: shape, strides: strides)
        try plan.run(
            from: x.buffer.baseAddress + offset * elementSize(x.type), to: out.buffer.baseAddress, type: x.type, ctx: ctx)
        return out
    }
}

/// The copy loops of `ShapeStridedCopy` for one element width.
private struct ShapeStridedCopyBody: ShapeWidthVisitor {
    let plan: ShapeStridedCopy
    let src: UnsafeRawPointer
    let dst: UnsafeMutableRawPointer
    let ctx: ExecutionContext

    func visit<T>(_: T.Type) throws {
        let s = src.assumingMemoryBound(to: T.self), d = dst.assumingMemoryBound(to: T.self)
        let dims = plan.dims, strides = plan.strides
        guard let n = dims.last, let sn = strides.last else {
            d[0] = s[0]
            return
        }
        let es = MemoryLayout<T>.stride
        let outer = Array(dims.dropLast()), outerStrides = Array(strides.dropLast())
        let rows = plan.count / n
        let denseOuter = shapeStrides(outer).map { $0 * n }
        let grain = max(1, 65536 / (n * es))
        if sn == 1 {
            ctx.parallel(rows, grain: grain) { range in
                shapeForEach(outer, outerStrides, denseOuter, range) { _, a, b in
                    if n >= 16 {
                        UnsafeMutableRawPointer(d + b).copyMemory(from: s + a, byteCount: n * es)
                    } else {
                        let dr = d + b, sr = s + a
                        for i in 0..<n { dr[i] = sr[i] }
                    }
                }
            }
            return
        }
        if sn == 0 {
            ctx.parallel(rows, grain: grain) { range in
                shapeForEach(outer, outerStrides, denseOuter, range) { _, a, b in
                    let v = s[a]
                    (d + b).update(repeating: v, count: n)
                }
            }
            return
        }
        if let p = strides.firstIndex(of: 1), dims[p] >= 8 {
            transpose(s, d, p: p)
            return
        }
        ctx.parallel(rows, grain: grain) { range in
            shapeForEach(outer, outerStrides, denseOuter, range) { _, a, b in
                let dr = d + b
                var sp = s + a
                for i in 0..<n {
                    dr[i] = sp.pointee
                    sp += sn
                }
            }
        }
    }

    /// The copy when output axis `p` is contiguous in the source and the last output axis is not:
    /// square blocks of (p, last) are transposed so both sides are read and written in cache.
    private func transpose<T>(_ s: UnsafePointer<T>, _ d: UnsafeMutablePointer<T>, p: Int) {
        let dims = plan.dims, strides = plan.strides
        let last = dims.count - 1, n = dims[last], sq = strides[last]
        let dense = shapeStrides(dims)
        let dp = dense[p], np = dims[p]
        // Blocks of 32 fit in L1 unless a stride is a multiple of 4 KiB, whose lines share few
        // cache sets; then blocks of 8. Short output rows stream along p in long blocks.
        let es = MemoryLayout<T>.stride
        let b = n < 8 ? 256 : (sq * es) % 4096 == 0 || (dp * es) % 4096 == 0 ? 8 : 32
        let pBlocks = (np + b - 1) / b
        // Units: every index of the other axes times every block of axis p.
        var unitDims: [Int] = [], unitSrc: [Int] = [], unitDst: [Int] = []
        for k in 0..<last where k != p {
            unitDims.append(dims[k])
            unitSrc.append(strides[k])
            unitDst.append(dense[k])
        }
        unitDims.append(pBlocks)
        unitSrc.append(b)
        unitDst.append(b * dp)
        let units = unitDims.reduce(1, *)
        ctx.parallel(units, itemElements: b * n) { range in
            shapeForEach(unitDims, unitSrc, unitDst, range) { unit, a, o in
                let i0 = (unit % pBlocks) * b
                let rowsHere = min(b, np - i0)
                var j0 = 0
                while j0 < n {
                    let cols = min(b, n - j0)
                    if es == 4 && sq > 0 && cols >= 8 && rowsHere >= 8 {
                        // 4-byte elements: 8x8 blocks through vector shuffles
                        ferry_transpose_f32(
                            UnsafeRawPointer(s + a + j0 * sq).assumingMemoryBound(to: Float.self), sq,
                            UnsafeMutableRawPointer(d + o + j0).assumingMemoryBound(to: Float.self), dp, cols, rowsHere)
                    } else if cols >= 8 {
                        for i in 0..<rowsHere {
                            let dr = d + o + i * dp + j0
                            var sp = s + a + i + j0 * sq
                            for j in 0..<cols {
                                dr[j] = sp.pointee
                                sp += sq
                            }
                        }
                    } else {
                        // Short output rows: run along the contiguous source axis instead.
                        for j in 0..<cols {
                            let sr = s + a + (j0 + j) * sq
                            var target = d + o + j0 + j
                            for i in 0..<rowsHere {
                                target.pointee = sr[i]
                                target += dp
                            }
                        }
                    }
                    j0 += b
                }
            }
        }
    }
}
