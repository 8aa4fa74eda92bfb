import FerryIR

/// A recurrent layer's constant float32 W ([directions, gates * hidden, input]) and R ([directions,
/// gates * hidden, hidden]) packed once at plan time (`PackedRightMatrix`): each step's H·R^T then
/// streams R once instead of copying it, as BLAS does on every call. R is packed in the column
/// blocks the cell asks for: whole, or for a GRU without linear_before_reset its z and r gates apart
/// from its h gate (multiplied later, by the reset state).
struct RecurrentPackedWeights {
    let directions: Int, inputSize: Int, hidden: Int
    private let w: [PackedRightMatrix]
    /// Per direction, R's blocks keyed by their first gate row.
    private let r: [[Int: PackedRightMatrix]]

    /// The packed weights, or nil when W and R are not float32 matrices of one layer of `cell`.
    init?(w: Value, r: Value, cell: RecurrentCell) {
        guard w.type == .float, r.type == .float, w.rank == 3, r.rank == 3, w.shape[0] == r.shape[0], w.shape[1] == r.shape[1]
        else { return nil }
        let nd = r.shape[0], width = r.shape[1], hidden = r.shape[2], inputSize = w.shape[2]
        guard hidden > 0, width == cell.gates * hidden, inputSize > 0 else { return nil }
        directions = nd
        self.inputSize = inputSize
        self.hidden = hidden
        let blocks = cell.resetsStateBeforeR ? [0..<2 * hidden, 2 * hidden..<width] : [0..<width]
        let pw = w.floats, pr = r.floats
        self.w = (0..<nd).map { d in
            PackedRightMatrix(pw + d * width * inputSize, ld: inputSize, transposed: true, k: inputSize, n: width)
        }
        self.r = (0..<nd).map { d in
            Dictionary(
                uniqueKeysWithValues: blocks.map { rows in
                    (
                        rows.lowerBound,
                        PackedRightMatrix(
                            pr + (d * width + rows.lowerBound) * hidden, ld: hidden, transposed: true, k: hidden, n: rows.count)
                    )
                })
        }
    }

    /// The products a `RecurrentPass` multiplies by.
    var weights: RecurrentWeights<Float> {
        RecurrentWeights(directions: directions, inputSize: inputSize, hidden: hidden, keepAlive: [w, r]) { d in
            let w = self.w[d], r = self.r[d], hidden = self.hidden
            return RecurrentProducts(
                project: { x, rows, out in w.multiply(x, rows: rows, lda: w.k, into: out, ldc: w.n) },
                recur: { h, m, first, n, c, ldc in
                    // The passes ask for exactly the blocks packed (see RecurrentPass).
                    guard let block = r[first], block.n == n else {
                        preconditionFailure("R block \(first)..<\(first + n) not packed")
                    }
                    block.multiply(h, rows: m, lda: hidden, into: c, ldc: ldc)
                })
        }
    }
}
