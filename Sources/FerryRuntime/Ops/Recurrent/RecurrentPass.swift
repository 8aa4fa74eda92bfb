/// How one direction multiplies by its weights: `project(x, rows, out)` writes X·W^T for `rows`
/// rows of X into `out` (rows x gates * hidden); `recur(h, m, first, n, c, ldc)` writes the m x n
/// product of H (m x hidden) with rows first..<first + n of R, transposed, into c (leading
/// dimension ldc). Float layers multiply by W and R with the GEMM; DynamicQuantizeLSTM quantizes
/// the left operand of each product and multiplies by int8 weights.
struct RecurrentProducts<T> {
    let project: (_ x: UnsafePointer<T>, _ rows: Int, _ out: UnsafeMutablePointer<T>) -> Void
    let recur: (_ h: UnsafePointer<T>, _ m: Int, _ first: Int, _ n: Int, _ c: UnsafeMutablePointer<T>, _ ldc: Int) -> Void
}

extension RecurrentProducts where T: RecurrentScalar {
    /// The products with float weights: this direction's W ([gates * hidden, input]) and R
    /// ([gates * hidden, hidden]).
    init(w: UnsafePointer<T>, r: UnsafePointer<T>, inputSize: Int, hidden: Int, width: Int) {
        project = { x, rows, out in
            T.gemmTransB(
                m: rows, n: width, k: inputSize, a: x, lda: inputSize, b: w, ldb: inputSize, accumulate: false, c: out, ldc: width
            )
        }
        recur = { h, m, first, n, c, ldc in
            T.gemmTransB(
                m: m, n: n, k: hidden, a: h, lda: hidden, b: r + first * hidden, ldb: hidden, accumulate: false, c: c, ldc: ldc)
        }
    }
}

/// One direction of a recurrent layer over the whole sequence: the input projection X·W^T for all
/// steps at once, then per step H·R^T and the cell's gate arithmetic for the batch rows still inside
/// their sequence. Every pointer is owned by the caller; a pass only writes `proj`, `gates`, `reset`,
/// `h`, `c` and its own slots of `y`.
struct RecurrentPass<T: RecurrentScalar> {
    let cell: RecurrentCell
    let activations: [RecurrentActivation]
    let clip: T?
    let reverse: Bool
    let seq: Int, batch: Int, hidden: Int
    let batchMajor: Bool
    /// Valid steps per batch row.
    let lengths: [Int]
    let x: UnsafePointer<T>
    /// This direction's products with W and R.
    let products: RecurrentProducts<T>
    /// This direction's Wb then Rb (2 * gates * hidden values).
    let bias: UnsafePointer<T>?
    /// LSTM peepholes of this direction: i, o, f (3 * hidden values).
    let peepholes: UnsafePointer<T>?
    /// Scratch: [rows, gates * hidden] projections, [batch, gates * hidden] gates, [batch, hidden]
    /// reset-gated state (GRU without linear_before_reset).
    let proj: UnsafeMutablePointer<T>, gates: UnsafeMutablePointer<T>, reset: UnsafeMutablePointer<T>
    /// The state: [batch, hidden] each (c only for LSTM), holding the initial state on entry.
    let h: UnsafeMutablePointer<T>, c: UnsafeMutablePointer<T>
    /// Y (layout-dependent, zero-filled where sequences are shorter) and this pass's direction in it.
    let y: UnsafeMutablePointer<T>?
    let direction: Int, directions: Int

    private var width: Int { cell.gates * hidden }

    @inline(__always) private func projRow(_ t: Int, _ b: Int) -> UnsafeMutablePointer<T> {
        proj + (batchMajor ? b * seq + t : t * batch + b) * width
    }

    @inline(__always) private func writeY(_ t: Int, _ b: Int) {
        guard let y else { return }
        let row = batchMajor ? (b * seq + t) * directions + direction : (t * directions + direction) * batch + b
        (y + row * hidden).update(from: h + b * hidden, count: hidden)
    }

    /// The time index batch row `b` reads at step `s`, nil once its sequence has ended.
    @inline(__always) private func time(_ s: Int, _ b: Int) -> Int? {
        guard s < lengths[b] else { return nil }
        return reverse ? lengths[b] - 1 - s : s
    }

    func run() {
        let width = self.width
        products.project(x, seq * batch, proj)
        if let bias {
            // Wb + Rb, except the GRU h gate's Rb under linear_before_reset (applied inside the reset).
            var folded = (0..<width).map { bias[$0] + bias[width + $0] }
            if cell.linearBeforeReset { for j in 2 * hidden..<width { folded[j] = bias[j] } }
            for row in 0..<seq * batch {
                let p = proj + row * width
                for j in 0..<width { p[j] += folded[j] }
            }
        }
        let steps = lengths.max() ?? 0
        for s in 0..<steps {
            switch cell {
            case .rnn: rnnStep(s)
            case .gru(let lbr): gruStep(s, linearBeforeReset: lbr)
            case .lstm(let inputForget): lstmStep(s, inputForget: inputForget)
            }
        }
    }

    /// Ht = f(Xt·Wi^T + Ht-1·Ri^T + Wbi + Rbi).
    private func rnnStep(_ s: Int) {
        products.recur(h, batch, 0, hidden, gates, hidden)
        for b in 0..<batch {
            guard let t = time(s, b) else { continue }
            let g = gates + b * hidden, p = projRow(t, b)
            for j in 0..<hidden { g[j] += p[j] }
            activations[0].apply(g, hidden, clip: clip)
            (h + b * hidden).update(from: g, count: hidden)
            writeY(t, b)
        }
    }

    /// z and r gates, the candidate h (reset applied before or after Rh), then Ht = (1 - z)·h~ + z·Ht-1.
    private func gruStep(_ s: Int, linearBeforeReset lbr: Bool) {
        let width = self.width, hidden = self.hidden
        products.recur(h, batch, 0, lbr ? width : 2 * hidden, gates, width)
        let recurrentHBias = bias.map { $0 + width + 2 * hidden }
        for b in 0..<batch {
            guard let t = time(s, b) else { continue }
            let g = gates + b * width, p = projRow(t, b)
            for j in 0..<2 * hidden { g[j] += p[j] }
            activations[0].apply(g, 2 * hidden, clip: clip)
            let gr = g + hidden, gh = g + 2 * hidden, hb = h + b * hidden
            if lbr {
                for j in 0..<hidden { gh[j] = p[2 * hidden + j] + gr[j] * (gh[j] + (recurrentHBias?[j] ?? 0)) }
            } else {
                let rb = reset + b * hidden
                for j in 0..<hidden { rb[j] = gr[j] * hb[j] }
            }
        }
        if !lbr {
            products.recur(reset, batch, 2 * hidden, hidden, gates + 2 * hidden, width)
        }
        for b in 0..<batch {
            guard let t = time(s, b) else { continue }
            let g = gates + b * width, gh = g + 2 * hidden, hb = h + b * hidden
            if !lbr {
                let p = projRow(t, b) + 2 * hidden
                for j in 0..<hidden { gh[j] += p[j] }
            }
            activations[1].apply(gh, hidden, clip: clip)
            for j in 0..<hidden { hb[j] = (1 - g[j]) * gh[j] + g[j] * hb[j] }
            writeY(t, b)
        }
    }

    /// Gates i, o, f, c (peepholes on i, f from Ct-1 and on o from Ct), Ct = f·Ct-1 + i·c~, Ht = o·h(Ct).
    private func lstmStep(_ s: Int, inputForget: Bool) {
        let width = self.width, hidden = self.hidden
        products.recur(h, batch, 0, width, gates, width)
        for b in 0..<batch {
            guard let t = time(s, b) else { continue }
            let g = gates + b * width, p = projRow(t, b)
            for j in 0..<width { g[j] += p[j] }
            let gi = g, go = g + hidden, gf = g + 2 * hidden, gc = g + 3 * hidden
            let cb = c + b * hidden, hb = h + b * hidden
            if let peepholes {
                for j in 0..<hidden {
                    gi[j] += peepholes[j] * cb[j]
                    gf[j] += peepholes[2 * hidden + j] * cb[j]
                }
            }
            activations[0].apply(gi, hidden, clip: clip)
            if inputForget {
                for j in 0..<hidden { gf[j] = 1 - gi[j] }
            } else {
                activations[0].apply(gf, hidden, clip: clip)
            }
            activations[1].apply(gc, hidden, clip: clip)
            for j in 0..<hidden { cb[j] = gf[j] * cb[j] + gi[j] * gc[j] }
            if let peepholes { for j in 0..<hidden { go[j] += peepholes[hidden + j] * cb[j] } }
            activations[0].apply(go, hidden, clip: clip)
            gc.update(from: cb, count: hidden)
            activations[2].apply(gc, hidden, clip: nil)
            for j in 0..<hidden { hb[j] = go[j] * gc[j] }
            writeY(t, b)
        }
    }
}
