import FerryIR
import Foundation
import Testing

@testable import FerryRuntime

/// RNN, GRU and LSTM attributes the ONNX conformance cases leave out (sequence_lens with reverse
/// and bidirectional passes, layout 1 with bidirectional GRU and LSTM, linear_before_reset,
/// input_forget, clip, activations with alpha and beta, float64 and float16), each checked
/// against a naive per-element loop.
@Suite struct RecurrentTests {
    @Test func lstmBidirectionalSequenceLengthsPeepholesClip() throws {
        var c = RecurrentCase(op: "LSTM")
        c.direction = "bidirectional"
        c.lens = [4, 2, 0]
        c.peepholes = true
        c.clip = 0.7
        try c.check()
    }

    @Test func lstmBatchMajorReverseInputForgetActivations() throws {
        var c = RecurrentCase(op: "LSTM")
        c.direction = "reverse"
        c.layout = 1
        c.lens = [1, 4, 3]
        c.inputForget = true
        c.activations = [("HardSigmoid", 0.3, 0.4), ("ScaledTanh", 0.9, 1.1), ("Affine", 0.5, 0.1)]
        try c.check()
    }

    @Test func lstmBidirectionalBatchMajor() throws {
        var c = RecurrentCase(op: "LSTM")
        c.direction = "bidirectional"
        c.layout = 1
        c.peepholes = true
        try c.check()
    }

    @Test func gruLinearBeforeResetBidirectionalBatchMajor() throws {
        var c = RecurrentCase(op: "GRU")
        c.direction = "bidirectional"
        c.layout = 1
        c.lens = [3, 4, 1]
        c.linearBeforeReset = true
        try c.check()
    }

    @Test func gruReverseSequenceLengths() throws {
        var c = RecurrentCase(op: "GRU")
        c.direction = "reverse"
        c.lens = [2, 0, 4]
        c.clip = 0.5
        try c.check()
    }

    /// Large enough that the two directions run on two threads at once.
    @Test func lstmAndGruBidirectionalOnTwoThreads() throws {
        for op in ["LSTM", "GRU"] {
            var c = RecurrentCase(op: op)
            c.direction = "bidirectional"
            (c.seq, c.batch, c.input, c.hidden) = (30, 2, 64, 64)
            c.lens = [30, 17]
            try c.check()
        }
    }

    @Test func gruDouble() throws {
        var c = RecurrentCase(op: "GRU")
        c.direction = "bidirectional"
        c.type = .double
        c.lens = [4, 3, 2]
        try c.check()
    }

    @Test func lstmHalf() throws {
        var c = RecurrentCase(op: "LSTM")
        c.type = .float16
        c.lens = [4, 1, 3]
        try c.check()
    }

    @Test func rnnActivationsPerDirection() throws {
        var c = RecurrentCase(op: "RNN")
        c.direction = "bidirectional"
        c.lens = [3, 1, 4]
        c.activations = [("LeakyRelu", 0.2, 0), ("Elu", 0.8, 0)]
        try c.check()
        c.activations = [("ThresholdedRelu", 0.1, 0), ("Softsign", 0, 0)]
        try c.check()
        c.activations = [("Softplus", 0, 0), ("Relu", 0, 0)]
        c.layout = 1
        try c.check()
    }
}

/// One recurrent node with random inputs: builds the model, runs it and compares every output with
/// `reference()`.
private struct RecurrentCase {
    var op: String
    var seq = 4, batch = 3, input = 2, hidden = 3
    var direction = "forward"
    var layout = 0
    var lens: [Int]?
    var peepholes = false
    var clip: Double?
    var linearBeforeReset = false
    var inputForget = false
    /// Every direction's functions with alpha and beta, or nil for the defaults.
    var activations: [(String, Double, Double)]?
    var type: ElementType = .float

    var directions: [Bool] { direction == "bidirectional" ? [false, true] : [direction == "reverse"] }
    var gates: Int { op == "LSTM" ? 4 : (op == "GRU" ? 3 : 1) }

    /// Deterministic values in [-scale, scale] (exact in `type`).
    func random(_ n: Int, seed: inout UInt64, scale: Double = 1) -> [Double] {
        (0..<n).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let v = (Double(seed >> 11) / Double(1 << 53) * 2 - 1) * scale
            return type == .float16 ? Double(Float(halfBits: Float(v).halfBits)) : v
        }
    }

    func check() throws {
        let nd = directions.count, g = gates
        var seed: UInt64 = 42
        let x = random(seq * batch * input, seed: &seed)
        let w = random(nd * g * hidden * input, seed: &seed, scale: 0.8)
        let r = random(nd * g * hidden * hidden, seed: &seed, scale: 0.8)
        let b = random(nd * 2 * g * hidden, seed: &seed, scale: 0.5)
        let h0 = random(nd * batch * hidden, seed: &seed)
        let c0 = random(nd * batch * hidden, seed: &seed)
        let p = random(nd * 3 * hidden, seed: &seed, scale: 0.5)
        let want = reference(x: x, w: w, r: r, b: b, h0: h0, c0: c0, p: p)

        // layout 1 puts batch first in X, Y and the states.
        let bm = layout == 1
        let xFed = bm ? permute(x, [seq, batch, input], [1, 0, 2]) : x
        let h0Fed = bm ? permute(h0, [nd, batch, hidden], [1, 0, 2]) : h0
        let c0Fed = bm ? permute(c0, [nd, batch, hidden], [1, 0, 2]) : c0
        let stateShape = bm ? [batch, nd, hidden] : [nd, batch, hidden]
        var inputs: [(String, ElementType, [Int], [Double])] = [
            ("X", type, bm ? [batch, seq, input] : [seq, batch, input], xFed),
            ("W", type, [nd, g * hidden, input], w), ("R", type, [nd, g * hidden, hidden], r),
            ("B", type, [nd, 2 * g * hidden], b)
        ]
        if let lens {
            inputs.append(("sequence_lens", .int32, [batch], lens.map(Double.init)))
        } else {
            inputs.append(("", .int32, [], []))
        }
        inputs.append(("initial_h", type, stateShape, h0Fed))
        if op == "LSTM" {
            inputs.append(("initial_c", type, stateShape, c0Fed))
            if peepholes { inputs.append(("P", type, [nd, 3 * hidden], p)) }
        }
        var attributes = [Attribute("hidden_size", .int(Int64(hidden))), Attribute("direction", .string(Array(direction.utf8)))]
        if layout != 0 { attributes.append(Attribute("layout", .int(Int64(layout)))) }
        if let clip { attributes.append(Attribute("clip", .float(Float(clip)))) }
        if linearBeforeReset { attributes.append(Attribute("linear_before_reset", .int(1))) }
        if inputForget { attributes.append(Attribute("input_forget", .int(1))) }
        if let activations {
            let all = activations
            attributes.append(Attribute("activations", .strings(all.map { Array($0.0.utf8) })))
            let takesAlpha: Set = ["LeakyRelu", "ThresholdedRelu", "Elu", "HardSigmoid", "ScaledTanh", "Affine"]
            let takesBeta: Set = ["HardSigmoid", "ScaledTanh", "Affine"]
            attributes.append(
                Attribute("activation_alpha", .floats(all.filter { takesAlpha.contains($0.0) }.map { Float($0.1) })))
            attributes.append(Attribute("activation_beta", .floats(all.filter { takesBeta.contains($0.0) }.map { Float($0.2) })))
        }
        let outputs = op == "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]
        let node = Node(opType: op, inputs: inputs.map(\.0), outputs: outputs, attributes: attributes)
        let fed = inputs.filter { !$0.0.isEmpty }
        let graph = Graph(
            name: "g", nodes: [node],
            inputs: fed.map { ValueInfo(name: $0.0, type: TypeInfo(.tensor($0.1, shape: $0.2.map { .fixed(Int64($0)) }))) },
            outputs: outputs.map { ValueInfo(name: $0, type: TypeInfo(.tensor(type, shape: nil))) })
        let model = Model(irVersion: 8, opsetImports: [OpsetID(domain: "", version: 14)], graph: graph)
        var feeds: [String: Tensor] = [:]
        for (name, t, shape, values) in fed {
            switch t {
            case .int32: feeds[name] = Tensor(name: name, elementType: t, shape: shape, values: values.map { Int32($0) })
            case .double: feeds[name] = Tensor(name: name, elementType: t, shape: shape, values: values)
            case .float16:
                feeds[name] = Tensor(name: name, elementType: t, shape: shape, values: values.map { Float($0).halfBits })
            default: feeds[name] = Tensor(name: name, elementType: t, shape: shape, values: values.map { Float($0) })
            }
        }
        let got = try InferenceSession(model: model, options: SessionOptions(threads: 2)).run(feeds)

        let yWant = bm ? permute(want.y, [seq, nd, batch, hidden], [2, 0, 1, 3]) : want.y
        let expected: [([Double], [Int])] = [
            (yWant, bm ? [batch, seq, nd, hidden] : [seq, nd, batch, hidden]),
            (bm ? permute(want.h, [nd, batch, hidden], [1, 0, 2]) : want.h, stateShape),
            (bm ? permute(want.c, [nd, batch, hidden], [1, 0, 2]) : want.c, stateShape)
        ]
        for (k, out) in got.enumerated() {
            #expect(out.tensor.shape == expected[k].1, "\(op) \(out.name) shape")
            let bytes = out.tensor.bytes!
            let values =
                type == .double
                ? bytes.toArray(of: Double.self)
                : (type == .float16
                    ? bytes.toArray(of: UInt16.self).map { Double(Float(halfBits: $0)) }
                    : bytes.toArray(of: Float.self).map(Double.init))
            let (atol, rtol) = type == .float16 ? (1e-3, 1e-3) : (1e-5, 1e-4)
            #expect(values.count == expected[k].0.count)
            for (i, (a, e)) in zip(values, expected[k].0).enumerated() where abs(a - e) > atol + rtol * abs(e) {
                Issue.record("\(op) \(direction) layout \(layout) \(out.name)[\(i)] = \(a), expected \(e)")
                break
            }
        }
    }

    /// `values` of `shape` transposed by `perm`.
    func permute(_ values: [Double], _ shape: [Int], _ perm: [Int]) -> [Double] {
        let outShape = perm.map { shape[$0] }
        var strides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        var out: [Double] = []
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<values.count {
            out.append(values[zip(index, perm).map { strides[$1] * $0 }.reduce(0, +)])
            for d in stride(from: outShape.count - 1, through: 0, by: -1) {
                index[d] += 1
                if index[d] < outShape[d] { break }
                index[d] = 0
            }
        }
        return out
    }

    static func function(_ name: String, _ a: Double, _ b: Double) -> (Double) -> Double {
        switch name {
        case "Sigmoid": return { 1 / (1 + exp(-$0)) }
        case "Tanh": return { tanh($0) }
        case "Relu": return { max($0, 0) }
        case "HardSigmoid": return { min(max(a * $0 + b, 0), 1) }
        case "LeakyRelu": return { $0 < 0 ? a * $0 : $0 }
        case "ThresholdedRelu": return { $0 > a ? $0 : 0 }
        case "ScaledTanh": return { a * tanh(b * $0) }
        case "Affine": return { a * $0 + b }
        case "Elu": return { $0 < 0 ? a * (exp($0) - 1) : $0 }
        case "Softsign": return { $0 / (1 + abs($0)) }
        default: return { log(1 + exp($0)) }
        }
    }

    /// Layout-0 Y [seq, nd, batch, hidden] and final h, c [nd, batch, hidden], one batch row and
    /// one unit at a time.
    func reference(x: [Double], w: [Double], r: [Double], b: [Double], h0: [Double], c0: [Double], p: [Double])
        -> (y: [Double], h: [Double], c: [Double])
    {
        let nd = directions.count, g = gates, width = g * hidden
        let defaults: [(String, Double, Double)] =
            op == "LSTM"
            ? [("Sigmoid", 0, 0), ("Tanh", 0, 0), ("Tanh", 0, 0)]
            : (op == "GRU" ? [("Sigmoid", 0, 0), ("Tanh", 0, 0)] : [("Tanh", 0, 0)])
        let perDirection = defaults.count
        let allFunctions = (activations ?? Array(Array(repeating: defaults, count: nd).joined())).map {
            Self.function($0.0, $0.1, $0.2)
        }
        let cl: (Double) -> Double = { v in clip.map { min(max(v, -$0), $0) } ?? v }
        var y = [Double](repeating: 0, count: seq * nd * batch * hidden)
        var hOut = h0, cOut = c0
        for d in 0..<nd {
            let fns = Array(allFunctions[d * perDirection..<(d + 1) * perDirection])
            let wd = d * width * input, rd = d * width * hidden, bd = d * 2 * width
            for bi in 0..<batch {
                var hs = Array(h0[(d * batch + bi) * hidden..<(d * batch + bi + 1) * hidden])
                var cs = Array(c0[(d * batch + bi) * hidden..<(d * batch + bi + 1) * hidden])
                let length = lens?[bi] ?? seq
                for s in 0..<length {
                    let t = directions[d] ? length - 1 - s : s
                    /// Row `row` of W times x_t plus Wb.
                    func wx(_ row: Int) -> Double {
                        (0..<input).reduce(b[bd + row]) { $0 + w[wd + row * input + $1] * x[(t * batch + bi) * input + $1] }
                    }
                    /// Row `row` of R times `v` plus Rb.
                    func rh(_ row: Int, _ v: [Double]) -> Double {
                        (0..<hidden).reduce(b[bd + width + row]) { $0 + r[rd + row * hidden + $1] * v[$1] }
                    }
                    switch op {
                    case "RNN":
                        hs = (0..<hidden).map { fns[0](cl(wx($0) + rh($0, hs))) }
                    case "GRU":
                        let z = (0..<hidden).map { fns[0](cl(wx($0) + rh($0, hs))) }
                        let rg = (0..<hidden).map { fns[0](cl(wx(hidden + $0) + rh(hidden + $0, hs))) }
                        let gated = (0..<hidden).map { rg[$0] * hs[$0] }
                        let cand = (0..<hidden).map { j in
                            fns[1](
                                cl(
                                    linearBeforeReset
                                        ? wx(2 * hidden + j) + rg[j] * rh(2 * hidden + j, hs)
                                        : wx(2 * hidden + j) + rh(2 * hidden + j, gated)))
                        }
                        hs = (0..<hidden).map { (1 - z[$0]) * cand[$0] + z[$0] * hs[$0] }
                    default:
                        let pd = d * 3 * hidden
                        let pi = { (j: Int) in peepholes ? p[pd + j] : 0 },
                            po = { (j: Int) in peepholes ? p[pd + hidden + j] : 0 }
                        let pf = { (j: Int) in peepholes ? p[pd + 2 * hidden + j] : 0 }
                        let i = (0..<hidden).map { fns[0](cl(wx($0) + rh($0, hs) + pi($0) * cs[$0])) }
                        let f = (0..<hidden).map {
                            inputForget ? 1 - i[$0] : fns[0](cl(wx(2 * hidden + $0) + rh(2 * hidden + $0, hs) + pf($0) * cs[$0]))
                        }
                        let cand = (0..<hidden).map { fns[1](cl(wx(3 * hidden + $0) + rh(3 * hidden + $0, hs))) }
                        cs = (0..<hidden).map { f[$0] * cs[$0] + i[$0] * cand[$0] }
                        let o = (0..<hidden).map { fns[0](cl(wx(hidden + $0) + rh(hidden + $0, hs) + po($0) * cs[$0])) }
                        hs = (0..<hidden).map { o[$0] * fns[2](cs[$0]) }
                    }
                    for j in 0..<hidden { y[((t * nd + d) * batch + bi) * hidden + j] = hs[j] }
                }
                for j in 0..<hidden {
                    hOut[(d * batch + bi) * hidden + j] = hs[j]
                    cOut[(d * batch + bi) * hidden + j] = cs[j]
                }
            }
        }
        return (y, hOut, cOut)
    }
}
