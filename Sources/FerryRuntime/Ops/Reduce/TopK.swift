import FerryIR

/// TopK: the K largest (or smallest) elements along `axis` and their int64 indices, best first;
/// equal values keep the lower index first and NaNs rank after every number.
final class ReduceTopKKernel: Kernel {
    private let axis: Int
    private let largest: Bool
    /// K from the attribute (opset < 10); nil when it is input 1.
    private let attributeK: Int?

    init(_ spec: NodeSpec) throws {
        axis = try spec.int("axis", -1)
        largest = try spec.int("largest", 1) != 0
        attributeK = spec.opset < 10 ? try spec.int("k", -1) : nil
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        var x = try inputs.required(0)
        let original = x.type
        if x.type == .float16 || x.type == .bfloat16 { x = try convert(x, to: .float, ctx: ctx) }
        let k: Int
        if let attributeK {
            k = attributeK
        } else {
            let values = try inputs.required(1, "K").ints()
            guard values.count == 1 else { throw KernelError.invalid("K must hold one value, got \(values.count)") }
            k = values[0]
        }
        let a = try ReduceGeometry.normalize([axis], rank: x.rank)[0]
        let n = x.shape[a]
        guard k >= 0, k <= n else { throw KernelError.invalid("K = \(k) is outside 0...\(n) (axis \(a) of shape \(x.shape))") }
        var shape = x.shape
        shape[a] = k
        let values = try ctx.allocate(x.type, shape), indices = try ctx.allocate(.int64, shape)
        let outer = x.shape[..<a].reduce(1, *), inner = x.shape[(a + 1)...].reduce(1, *)
        try dispatchNumeric(
            x.type,
            ReduceTopKRun(
                x: x, values: values, indices: indices, outer: outer, n: n, inner: inner,
                k: k, largest: largest, ctx: ctx))
        return [try convert(values, to: original, ctx: ctx), indices]
    }
}

/// The typed selection of TopK: a bounded heap when K is small against the axis, else a full sort.
private struct ReduceTopKRun: NumericVisitor {
    let x: Value, values: Value, indices: Value
    let outer: Int, n: Int, inner: Int, k: Int, largest: Bool, ctx: ExecutionContext

    func visit<T: RTNumber>(_: T.Type) throws {
        guard k > 0, outer * inner > 0 else { return }
        let s = x.pointer(T.self), dv = values.pointer(T.self), di = indices.pointer(Int64.self)
        let (n, inner, k, largest) = (self.n, self.inner, self.k, self.largest)
        ctx.parallel(outer * inner, grain: max(1, 4096 / max(n, 1))) { range in
            var row: [T] = [], order: [Int] = []
            row.reserveCapacity(n)
            for t in range {
                let o = t / inner, j = t % inner
                let base = s + o * n * inner + j
                row.removeAll(keepingCapacity: true)
                for r in 0..<n { row.append(base[r * inner]) }
                /// True when element a ranks before element b.
                func before(_ a: Int, _ b: Int) -> Bool {
                    let va = row[a], vb = row[b]
                    let nanA = va != va, nanB = vb != vb
                    if nanA || nanB { return nanA == nanB ? a < b : nanB }
                    if va != vb { return largest ? va > vb : va < vb }
                    return a < b
                }
                if k * 4 < n {
                    order = ReduceTopKRun.heapSelect(n: n, k: k, before)
                } else {
                    order = Array(0..<n)
                    order.sort(by: before)
                }
                let ob = o * k * inner + j
                for r in 0..<k {
                    dv[ob + r * inner] = row[order[r]]
                    di[ob + r * inner] = Int64(order[r])
                }
            }
        }
    }

    /// The `k` best of `0..<n` under `before`, best first: a heap whose root is the worst kept one.
    static func heapSelect(n: Int, k: Int, _ before: (Int, Int) -> Bool) -> [Int] {
        var heap = Array(0..<k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var worst = i
                if l < k && before(heap[worst], heap[l]) { worst = l }
                if r < k && before(heap[worst], heap[r]) { worst = r }
                if worst == i { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        for i in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(i) }
        for c in k..<n where before(c, heap[0]) {
            heap[0] = c
            siftDown(0)
        }
        heap.sort(by: before)
        return heap
    }
}
