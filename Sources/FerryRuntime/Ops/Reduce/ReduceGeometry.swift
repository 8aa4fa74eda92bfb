/// A reduction seen as rows: `outer x reduced x inner` elements of a dense source, where each output
/// element folds the `reduced` elements `inner` apart. Reduced axes that are not one contiguous block
/// are first gathered behind the kept ones (`gatherShape`/`gatherStrides`), which gives `inner == 1`.
struct ReduceGeometry {
    /// The output shape (reduced axes kept as 1 or dropped).
    let outputShape: [Int]
    let outer: Int
    let reduced: Int
    let inner: Int
    /// When set, the source must be gathered through this view before the row loops run.
    let gatherShape: [Int]?
    let gatherStrides: [Int]?

    /// Validates and normalises `axes` for a tensor of `rank` (negative axes count from the end).
    static func normalize(_ axes: [Int], rank: Int) throws -> [Int] {
        var seen = Set<Int>()
        for a in axes {
            guard a >= -rank, a < rank else {
                throw KernelError.invalid("axis \(a) is out of range for rank \(rank)")
            }
            guard seen.insert(a < 0 ? a + rank : a).inserted else {
                throw KernelError.invalid("axis \(a) is listed twice")
            }
        }
        return seen.sorted()
    }

    /// Geometry of reducing `shape` over the normalised `axes`.
    init(shape: [Int], axes: [Int], keepdims: Bool) {
        let isReduced = (0..<shape.count).map { axes.contains($0) }
        var out: [Int] = []
        for d in 0..<shape.count {
            if !isReduced[d] { out.append(shape[d]) } else if keepdims { out.append(1) }
        }
        outputShape = out
        // Blocks of adjacent axes of the same kind; axes of size 1 belong to either.
        var kinds: [Bool] = []
        for d in 0..<shape.count where shape[d] != 1 {
            if kinds.last != isReduced[d] { kinds.append(isReduced[d]) }
        }
        let reducedProduct = (0..<shape.count).filter { isReduced[$0] }.reduce(1) { $0 * shape[$1] }
        let keptProduct = (0..<shape.count).filter { !isReduced[$0] }.reduce(1) { $0 * shape[$1] }
        reduced = reducedProduct
        if kinds.filter({ $0 }).count <= 1 {
            var before = 1, after = 1, seenReduced = false
            for d in 0..<shape.count where shape[d] != 1 {
                if isReduced[d] { seenReduced = true } else if seenReduced { after *= shape[d] } else { before *= shape[d] }
            }
            outer = before
            inner = after
            gatherShape = nil
            gatherStrides = nil
        } else {
            let strides = ReduceLayout.contiguousStrides(shape)
            let order = (0..<shape.count).filter { !isReduced[$0] } + (0..<shape.count).filter { isReduced[$0] }
            outer = keptProduct
            inner = 1
            gatherShape = order.map { shape[$0] }
            gatherStrides = order.map { strides[$0] }
        }
    }
}
