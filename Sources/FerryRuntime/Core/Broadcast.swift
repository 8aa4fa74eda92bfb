/// NumPy-style (multidirectional) broadcasting of several inputs to one output shape, reduced to
/// rows: adjacent axes that are contiguous for every input are merged, so the innermost loop runs
/// over as many elements as possible with a fixed stride (0 or 1 in the common cases) per input.
struct Broadcast {
    /// The output shape.
    let shape: [Int]
    let count: Int
    /// Merged axes, outermost first; the last is the row.
    private let dims: [Int]
    /// Per input, the element stride of each merged axis (0 where the input is broadcast).
    let strides: [[Int]]

    init(_ shapes: [[Int]]) throws {
        let rank = shapes.map(\.count).max() ?? 0
        var out = [Int](repeating: 1, count: rank)
        for s in shapes {
            let padded = [Int](repeating: 1, count: rank - s.count) + s
            for d in 0..<rank where padded[d] != 1 {
                if out[d] == 1 {
                    out[d] = padded[d]
                } else if out[d] != padded[d] {
                    throw KernelError.invalid(
                        "shapes \(shapes.map { "\($0)" }.joined(separator: ", ")) cannot be broadcast together")
                }
            }
        }
        // A zero-sized input axis broadcasts only against 1 or 0.
        shape = out
        count = out.reduce(1, *)
        var dims: [Int] = []
        var strides = [[Int]](repeating: [], count: shapes.count)
        var full = [[Int]](repeating: [Int](repeating: 0, count: rank), count: shapes.count)
        for (k, s) in shapes.enumerated() {
            let padded = [Int](repeating: 1, count: rank - s.count) + s
            var step = 1
            for d in (0..<rank).reversed() {
                full[k][d] = padded[d] == 1 ? 0 : step
                step *= padded[d]
            }
        }
        for d in 0..<rank where out[d] != 1 {
            if let last = dims.indices.last,
                (0..<shapes.count).allSatisfy({ strides[$0][last] == full[$0][d] * out[d] })
            {
                dims[last] *= out[d]
                for k in 0..<shapes.count { strides[k][last] = full[k][d] }
            } else {
                dims.append(out[d])
                for k in 0..<shapes.count { strides[k].append(full[k][d]) }
            }
        }
        if dims.isEmpty {
            dims = [1]
            for k in 0..<shapes.count { strides[k] = [0] }
        }
        self.dims = dims
        self.strides = strides
    }

    /// Elements per row.
    var rowLength: Int { dims.last! }
    /// Number of rows.
    var rowCount: Int { count == 0 ? 0 : count / rowLength }

    /// Each input's stride along a row.
    func rowStride(_ input: Int) -> Int { strides[input].last! }

    /// Calls `body(offsets, outOffset)` for each row in `rows`: the starting element of every
    /// input and of the output. The first row's position is divided out once; each next row steps
    /// the outer axes' index like an odometer (short rows, such as an attention mask added to
    /// 128-wide score rows, cost a few additions each rather than a division per axis).
    @inline(__always)
    func forEachRow(_ rows: Range<Int>, _ body: (_ offsets: UnsafeMutablePointer<Int>, _ out: Int) -> Void) {
        let inputs = strides.count
        let outer = dims.count - 1
        withUnsafeTemporaryAllocation(of: Int.self, capacity: inputs + outer) { buffer in
            let offsets = buffer.baseAddress!, index = offsets + inputs
            var rem = rows.lowerBound
            for k in 0..<inputs { offsets[k] = 0 }
            var d = outer - 1
            while d >= 0 {
                index[d] = rem % dims[d]
                rem /= dims[d]
                for k in 0..<inputs { offsets[k] += index[d] * strides[k][d] }
                d -= 1
            }
            for r in rows {
                body(offsets, r * rowLength)
                var d = outer - 1
                while d >= 0 {
                    index[d] += 1
                    for k in 0..<inputs { offsets[k] += strides[k][d] }
                    if index[d] < dims[d] { break }
                    for k in 0..<inputs { offsets[k] -= dims[d] * strides[k][d] }
                    index[d] = 0
                    d -= 1
                }
            }
        }
    }

    /// For each output element, the element of input 0 it reads (batch indices of matrix products:
    /// `Broadcast([operandBatch, outputBatch])`).
    func inputOffsets() -> [Int] {
        var out = [Int](repeating: 0, count: count)
        let len = rowLength, s = rowStride(0)
        forEachRow(0..<rowCount) { off, o in
            for i in 0..<len { out[o + i] = off[0] + i * s }
        }
        return out
    }
}
