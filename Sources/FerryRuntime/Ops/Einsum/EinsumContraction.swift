import FerryIR

/// Two Einsum operands multiplied as a batched matrix product: labels in both that are still needed
/// are the batch, labels in both that are not are contracted (K), the rest are the rows (M, from the
/// first) and the columns (N, from the second). Float32 runs through `sgemm`.
enum EinsumContraction {
    static func contract(
        _ a: EinsumOperand, _ b: EinsumOperand, keep: Set<Int>, sizes: [Int: Int],
        ctx: ExecutionContext
    ) throws -> EinsumOperand {
        let inB = Set(b.labels), inA = Set(a.labels)
        let batch = a.labels.filter { inB.contains($0) && keep.contains($0) }
        let summed = a.labels.filter { inB.contains($0) && !keep.contains($0) }
        let rows = a.labels.filter { !inB.contains($0) }
        let cols = b.labels.filter { !inA.contains($0) }
        func size(_ labels: [Int]) -> Int { labels.reduce(1) { $0 * (sizes[$1] ?? 1) } }
        let bt = size(batch), m = size(rows), k = size(summed), n = size(cols)
        let (pa, transA) = try matrix(a, batch, rows, summed, sizes, ctx)
        let (pb, transB) = try matrix(b, batch, summed, cols, sizes, ctx)
        let labels = batch + rows + cols
        let out = try ctx.allocate(a.value.type, labels.map { sizes[$0] ?? 1 })
        if out.count > 0 {
            let shape = EinsumGemmShape(batch: bt, m: m, n: n, k: k, transA: transA, transB: transB)
            if a.value.type == .float {
                shape.sgemm(pa.floats, pb.floats, out.floats, ctx)
            } else {
                try dispatchNumeric(a.value.type, EinsumGemmLoop(a: pa, b: pb, c: out, shape: shape))
            }
        }
        return EinsumOperand(value: out, labels: labels)
    }

    /// The operand as `[batch, outer, inner]` matrices, or as `[batch, inner, outer]` with the
    /// transpose flag set when that is its layout already; otherwise a copy (which also broadcasts
    /// size-1 dimensions to the label's size).
    private static func matrix(
        _ op: EinsumOperand, _ batch: [Int], _ outer: [Int], _ inner: [Int],
        _ sizes: [Int: Int], _ ctx: ExecutionContext
    ) throws -> (Value, Bool) {
        let full = zip(op.labels, op.value.shape).allSatisfy { sizes[$0] == $1 }
        if full && op.labels == batch + outer + inner { return (op.value, false) }
        if full && op.labels == batch + inner + outer { return (op.value, true) }
        let strides = ReduceLayout.contiguousStrides(op.value.shape)
        var shape: [Int] = [], steps: [Int] = []
        for l in batch + outer + inner {
            guard let d = op.labels.firstIndex(of: l) else { throw KernelError.invalid("label \(l) is missing from an operand") }
            let s = sizes[l] ?? 1
            shape.append(s)
            steps.append(op.value.shape[d] == s ? strides[d] : 0)
        }
        return (try ReduceLayout.gather(op.value, shape: shape, strides: steps, ctx: ctx), false)
    }
}

/// The sizes and layouts of a batched product C[b] = op(A[b]) * op(B[b]); C is `batch x m x n`.
private struct EinsumGemmShape {
    let batch: Int, m: Int, n: Int, k: Int, transA: Bool, transB: Bool

    /// Float32 through `sgemm`, split over batches and row blocks.
    func sgemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ctx: ExecutionContext) {
        let (m, n, k, transA, transB) = (self.m, self.n, self.k, self.transA, self.transB)
        let blocks = batch >= ctx.threads ? 1 : max(1, min(ctx.threads, m / 32))
        ctx.parallel(batch * blocks, work: batch * m * n * k) { range in
            for t in range {
                let p = t / blocks, q = t % blocks
                let lo = m * q / blocks, hi = m * (q + 1) / blocks
                guard hi > lo else { continue }
                let pa = a + p * m * k + (transA ? lo : lo * k)
                FerryRuntime.sgemm(
                    transA: transA, transB: transB, m: hi - lo, n: n, k: k,
                    a: pa, lda: transA ? m : k, b: b + p * k * n, ldb: transB ? k : n,
                    c: c + p * m * n + lo * n, ldc: n)
            }
        }
    }
}

/// The batched product for element types other than float32 (plain loops, accumulating in the type).
private struct EinsumGemmLoop: NumericVisitor {
    let a: Value, b: Value, c: Value, shape: EinsumGemmShape

    func visit<T: RTNumber>(_: T.Type) throws {
        let pa = a.pointer(T.self), pb = b.pointer(T.self), pc = c.pointer(T.self)
        let (m, n, k) = (shape.m, shape.n, shape.k)
        for p in 0..<shape.batch {
            let ab = pa + p * m * k, bb = pb + p * k * n, cb = pc + p * m * n
            for i in 0..<m * n { cb[i] = T.zero }
            for i in 0..<m {
                let row = cb + i * n
                for q in 0..<k {
                    let x = shape.transA ? ab[q * m + i] : ab[i * k + q]
                    if shape.transB {
                        for j in 0..<n { row[j] = T.add(row[j], T.mul(x, bb[j * k + q])) }
                    } else {
                        let br = bb + q * n
                        for j in 0..<n { row[j] = T.add(row[j], T.mul(x, br[j])) }
                    }
                }
            }
        }
    }
}
