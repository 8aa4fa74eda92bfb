/// An RNN, GRU or LSTM node: attributes parsed once, then the layer runs on float32 or float64
/// inputs (float16 through float32), each direction as one `RecurrentPass` (directions in parallel
/// when threads allow).
final class RecurrentLayer: Kernel {
    private let cell: RecurrentCell
    /// Per direction: true when it runs from the end of each sequence.
    private let reverse: [Bool]
    private let hiddenSize: Int?
    private let clip: Double?
    private let activations: [[RecurrentActivation]]
    /// layout = 1: X, Y, initial and final states are batch-major.
    private let batchMajor: Bool
    /// Which of Y, Y_h, Y_c the node wires.
    private let wanted: [Bool]
    /// Constant float32 W and R, packed once.
    private let packed: RecurrentPackedWeights?

    var prepackedInputs: Set<Int> { packed == nil ? [] : [1, 2] }

    init(_ spec: NodeSpec, cell: RecurrentCell) throws {
        self.cell = cell
        switch try spec.string("direction", "forward") {
        case "forward": reverse = [false]
        case "reverse": reverse = [true]
        case "bidirectional": reverse = [false, true]
        case let d: throw KernelError.invalid("direction '\(d)' is not forward, reverse or bidirectional")
        }
        if spec.has("hidden_size") {
            let n = try spec.int("hidden_size", 0)
            guard n > 0 else { throw KernelError.invalid("hidden_size \(n) must be positive") }
            hiddenSize = n
        } else {
            hiddenSize = nil
        }
        if spec.has("clip") {
            let c = try spec.float("clip", 0)
            guard c >= 0 else { throw KernelError.invalid("clip \(c) must not be negative") }
            clip = Double(c)
        } else {
            clip = nil
        }
        let layout = try spec.int("layout", 0)
        guard layout == 0 || layout == 1 else { throw KernelError.invalid("layout \(layout) is not 0 or 1") }
        batchMajor = layout == 1
        activations = try RecurrentActivation.parse(spec, defaults: cell.defaultActivations, directions: reverse.count)
        wanted = (0..<3).map { spec.hasOutput($0) }
        if wanted[2] && !cell.isLSTM { throw KernelError.invalid("only LSTM has a third output (Y_c)") }
        packed = spec.constant(1).flatMap { w in spec.constant(2).flatMap { RecurrentPackedWeights(w: w, r: $0, cell: cell) } }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        try run(inputs, ctx, weights: packed?.weights)
    }

    /// Runs the layer; `weights` replaces the float W and R inputs (e.g. by int8 products) when
    /// given, float32 only.
    func run(_ inputs: [Value?], _ ctx: ExecutionContext, weights: RecurrentWeights<Float>?) throws -> [Value?] {
        let x = try inputs.required(0, "X")
        if weights != nil {
            guard x.type == .float else { throw KernelError.unsupported("element type \(x.type.name) (expected float32)") }
            return try compute(inputs, ctx, Float.self, weights: weights)
        }
        switch x.type {
        case .float: return try compute(inputs, ctx, Float.self)
        case .double: return try compute(inputs, ctx, Double.self)
        case .float16:
            // Computed in float32, the results rounded back to half precision.
            let widened = try inputs.enumerated().map { i, v in try v.map { i == 4 ? $0 : try convert($0, to: .float, ctx: ctx) }
            }
            return try compute(widened, ctx, Float.self).map { try $0.map { try convert($0, to: .float16, ctx: ctx) } }
        default: throw KernelError.unsupported("element type \(x.type.name) (expected float32 or float64)")
        }
    }

    private func compute<T: RecurrentScalar>(
        _ inputs: [Value?], _ ctx: ExecutionContext, _: T.Type,
        weights given: RecurrentWeights<T>? = nil
    ) throws -> [Value?] {
        let x = try inputs.required(0, "X")
        let nd = reverse.count
        guard x.rank == 3 else { throw KernelError.invalid("X must have rank 3, got shape \(x.shape)") }
        let seq = batchMajor ? x.shape[1] : x.shape[0], batch = batchMajor ? x.shape[0] : x.shape[1], inputSize = x.shape[2]
        let weights = try given ?? floatWeights(inputs, T.self, inputSize: inputSize)
        guard weights.directions == nd, weights.inputSize == inputSize else {
            throw KernelError.invalid(
                "the weights are for \(weights.directions) direction(s) of input size \(weights.inputSize), X has input size \(inputSize) and the node \(nd) direction(s)"
            )
        }
        let hidden = weights.hidden
        if let hiddenSize, hiddenSize != hidden {
            throw KernelError.invalid("R has hidden size \(hidden), the node says hidden_size \(hiddenSize)")
        }
        let (width, o) = hidden.multipliedReportingOverflow(by: cell.gates)
        let (rows, o2) = seq.multipliedReportingOverflow(by: batch)
        guard !o, !o2, max(width, rows, inputSize, batch) < Int(Int32.max) / 2 else {
            throw KernelError.unsupported("recurrent layer of shape X \(x.shape), hidden size \(hidden) (too large for BLAS)")
        }
        func check(_ v: Value, _ name: String, _ shape: [Int]) throws {
            guard v.type == x.type else { throw KernelError.invalid("\(name) is \(v.type.name), X is \(x.type.name)") }
            guard v.shape == shape else { throw KernelError.invalid("\(name) has shape \(v.shape), expected \(shape)") }
        }
        let bias = inputs.optional(3)
        if let bias { try check(bias, "B", [nd, 2 * width]) }
        var lengths = [Int](repeating: seq, count: batch)
        if let lens = inputs.optional(4) {
            let l = try lens.ints()
            guard l.count == batch, l.allSatisfy({ $0 >= 0 && $0 <= seq }) else {
                throw KernelError.invalid("sequence_lens must hold \(batch) lengths in 0...\(seq), got \(l)")
            }
            lengths = l
        }
        let stateShape = batchMajor ? [batch, nd, hidden] : [nd, batch, hidden]
        let initialH = inputs.optional(5)
        if let initialH { try check(initialH, "initial_h", stateShape) }
        let initialC = cell.isLSTM ? inputs.optional(6) : nil
        if let initialC { try check(initialC, "initial_c", stateShape) }
        let peepholes = cell.isLSTM ? inputs.optional(7) : nil
        if let peepholes { try check(peepholes, "P", [nd, 3 * hidden]) }

        let yShape = batchMajor ? [batch, seq, nd, hidden] : [seq, nd, batch, hidden]
        let y =
            wanted[0]
            ? (lengths.allSatisfy { $0 == seq } ? try ctx.allocate(x.type, yShape) : try ctx.zeros(x.type, yShape)) : nil
        /// Offset of direction d, batch row b in a state tensor.
        func stateRow(_ d: Int, _ b: Int) -> Int { (batchMajor ? b * nd + d : d * batch + b) * hidden }

        var passes: [RecurrentPass<T>] = []
        var scratch: [Value] = [], hStates: [Value] = [], cStates: [Value] = []
        for d in 0..<nd {
            let proj = try ctx.allocate(x.type, [rows, width]), gates = try ctx.allocate(x.type, [batch, width])
            let h = try ctx.zeros(x.type, [batch, hidden]), c = try ctx.zeros(x.type, [batch, cell.isLSTM ? hidden : 0])
            let reset = try ctx.zeros(x.type, [batch, cell.resetsStateBeforeR ? hidden : 0])
            scratch += [proj, gates, reset]
            hStates.append(h)
            cStates.append(c)
            for b in 0..<batch {
                if let initialH {
                    (h.pointer(T.self) + b * hidden).update(from: initialH.pointer(T.self) + stateRow(d, b), count: hidden)
                }
                if let initialC {
                    (c.pointer(T.self) + b * hidden).update(from: initialC.pointer(T.self) + stateRow(d, b), count: hidden)
                }
            }
            passes.append(
                RecurrentPass(
                    cell: cell, activations: activations[d], clip: clip.map { T(double: $0) }, reverse: reverse[d],
                    seq: seq, batch: batch, hidden: hidden, batchMajor: batchMajor, lengths: lengths,
                    x: x.pointer(T.self), products: weights.products(d),
                    bias: bias.map { UnsafePointer($0.pointer(T.self) + d * 2 * width) },
                    peepholes: peepholes.map { UnsafePointer($0.pointer(T.self) + d * 3 * hidden) },
                    proj: proj.pointer(T.self), gates: gates.pointer(T.self), reset: reset.pointer(T.self),
                    h: h.pointer(T.self), c: c.pointer(T.self), y: y?.pointer(T.self), direction: d, directions: nd))
        }
        withExtendedLifetime((scratch, hStates, cStates, weights)) {
            // Each direction multiplies rows x (input + hidden) by width (in Double: a hostile shape must not trap).
            let work = Double(nd) * Double(rows) * Double(width) * Double(inputSize + hidden)
            ctx.parallel(nd, work: Int(min(work, 1e18))) { range in for d in range { passes[d].run() } }
        }

        /// The final h or c states of every direction, laid out like initial_h.
        func finalState(_ states: [Value]) throws -> Value {
            let out = try ctx.allocate(x.type, stateShape)
            for d in 0..<nd {
                let state = states[d].pointer(T.self)
                for b in 0..<batch { (out.pointer(T.self) + stateRow(d, b)).update(from: state + b * hidden, count: hidden) }
            }
            return out
        }
        let yh = wanted[1] ? try finalState(hStates) : nil
        let yc = wanted[2] ? try finalState(cStates) : nil
        return cell.isLSTM ? [y, yh, yc] : [y, yh]
    }

    /// The float W ([directions, gates * hidden, input]) and R ([directions, gates * hidden, hidden])
    /// inputs, checked against X's type and each other.
    private func floatWeights<T: RecurrentScalar>(_ inputs: [Value?], _: T.Type, inputSize: Int) throws -> RecurrentWeights<T> {
        let x = try inputs.required(0, "X"), w = try inputs.required(1, "W"), r = try inputs.required(2, "R")
        guard r.rank == 3, w.rank == 3 else {
            throw KernelError.invalid("W and R must have rank 3, got shapes \(w.shape) and \(r.shape)")
        }
        let nd = reverse.count, hidden = r.shape[2], width = hidden * cell.gates
        for (v, name, shape) in [(w, "W", [nd, width, inputSize]), (r, "R", [nd, width, hidden])] {
            guard v.type == x.type else { throw KernelError.invalid("\(name) is \(v.type.name), X is \(x.type.name)") }
            guard v.shape == shape else { throw KernelError.invalid("\(name) has shape \(v.shape), expected \(shape)") }
        }
        return RecurrentWeights(directions: nd, inputSize: inputSize, hidden: hidden, keepAlive: [w, r]) { d in
            RecurrentProducts(
                w: w.pointer(T.self) + d * width * inputSize, r: r.pointer(T.self) + d * width * hidden,
                inputSize: inputSize, hidden: hidden, width: width)
        }
    }
}

/// What a recurrent layer multiplies by: per direction its products (see `RecurrentProducts`), with
/// the sizes they were made for and the objects that hold their memory.
struct RecurrentWeights<T> {
    let directions: Int
    let inputSize: Int
    let hidden: Int
    let keepAlive: [Any]
    let products: (_ direction: Int) -> RecurrentProducts<T>
}
