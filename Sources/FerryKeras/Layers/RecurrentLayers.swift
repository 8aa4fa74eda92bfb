import FerryIR
import Foundation

/// SimpleRNN, LSTM, GRU and Bidirectional, as ONNX RNN/LSTM/GRU (time-major inside).
enum RecurrentLayers {
    static func register(into r: inout [String: LayerConverter]) {
        for cls in ["SimpleRNN", "LSTM", "GRU"] {
            r[cls] = { c in try recurrent(c, cls: cls, config: c.config, weights: c.weights, bidirectional: nil) }
        }
        r["Bidirectional"] = { c in
            guard let layer = c.spec.config["layer"] as? [String: Any], let cls = layer["class_name"] as? String,
                let inner = layer["config"] as? [String: Any], ["SimpleRNN", "LSTM", "GRU"].contains(cls)
            else {
                throw c.unsupported("Bidirectional around a layer that is not SimpleRNN, LSTM or GRU")
            }
            // Keras 3 always records the backward layer; only one that differs from the forward
            // layer (beyond its name and direction) changes the result.
            if let backward = c.spec.config["backward_layer"] as? [String: Any] {
                let keys = [
                    "units", "activation", "recurrent_activation", "use_bias", "return_sequences", "return_state",
                    "reset_after", "time_major", "stateful"
                ]
                let relevant = { (d: [String: Any]) in d.filter { keys.contains($0.key) } as NSDictionary }
                guard backward["class_name"] as? String == cls, let bc = backward["config"] as? [String: Any],
                    relevant(bc).isEqual(relevant(inner))
                else { throw c.unsupported("a backward_layer configured unlike the forward layer") }
            }
            if inner["go_backwards"] as? Bool == true { throw c.unsupported("go_backwards inside Bidirectional") }
            return try recurrent(
                c, cls: cls, config: LayerConfig(dict: inner), weights: c.weights,
                bidirectional: c.config.string("merge_mode") ?? (c.spec.config["merge_mode"] == nil ? "concat" : "none"))
        }
    }

    /// ONNX names and parameters of a Keras activation inside a recurrent cell.
    static func cellActivation(_ name: String, _ c: LayerCall) throws -> (String, Float?, Float?) {
        switch name {
        case "sigmoid": return ("Sigmoid", nil, nil)
        case "tanh": return ("Tanh", nil, nil)
        case "relu": return ("Relu", nil, nil)
        case "hard_sigmoid": return ("HardSigmoid", c.importer.keras3 ? 1.0 / 6.0 : 0.2, 0.5)
        case "linear": return ("Affine", 1, 0)
        case "softsign": return ("Softsign", nil, nil)
        case "softplus": return ("Softplus", nil, nil)
        case "elu": return ("Elu", 1, nil)
        default: throw c.unsupported("recurrent activation '\(name)'")
        }
    }

    /// Moves gate blocks of a (rows, gates·units) Keras matrix into ONNX order and transposes it
    /// to (gates·units, rows).
    static func gates(_ m: [Float], rows: Int, units: Int, order: [Int]) -> [Float] {
        let g = order.count
        var out = [Float](repeating: 0, count: m.count)
        for (dst, src) in order.enumerated() {
            for u in 0..<units {
                for r in 0..<rows { out[(dst * units + u) * rows + r] = m[r * g * units + src * units + u] }
            }
        }
        return out
    }

    static func recurrent(_ c: LayerCall, cls: String, config: LayerConfig, weights: [Tensor], bidirectional merge: String?)
        throws -> [KTensor]
    {
        guard let units = config.int("units") else { throw c.unsupported("no units") }
        if config.bool("stateful") == true { throw c.unsupported("stateful=True") }
        let dirs = merge == nil ? 1 : 2
        guard c.x.rank == 3, (1...(1 << 20)).contains(units) else {
            throw c.unsupported("units \(units) on a rank-\(c.x.rank) input")
        }
        let features = try c.known(c.x, 2)
        let gateCount = cls == "LSTM" ? 4 : (cls == "GRU" ? 3 : 1)
        let order = cls == "LSTM" ? [0, 3, 1, 2] : Array(0..<gateCount) // Keras i,f,c,o -> ONNX i,o,f,c
        let useBias = config.bool("use_bias") ?? true
        let resetAfter = cls == "GRU" && (config.bool("reset_after") ?? true)
        let biasShape: [Int] = resetAfter ? [2, gateCount * units] : [gateCount * units]
        let perDirection: [[Int]?] = [[features, gateCount * units], [units, gateCount * units]] + (useBias ? [biasShape] : [])
        try c.expectWeights(Array([[[Int]?]](repeating: perDirection, count: dirs).joined()))

        var W = [Float](), R = [Float](), B = [Float]()
        for d in 0..<dirs {
            let base = d * perDirection.count
            W += gates(c.floats(base), rows: features, units: units, order: order)
            R += gates(c.floats(base + 1), rows: units, units: units, order: order)
            if useBias {
                let bias = c.floats(base + 2)
                if resetAfter {
                    B += gates(Array(bias[0..<(gateCount * units)]), rows: 1, units: units, order: order)
                    B += gates(Array(bias[(gateCount * units)...]), rows: 1, units: units, order: order)
                } else {
                    B += gates(bias, rows: 1, units: units, order: order) + [Float](repeating: 0, count: gateCount * units)
                }
            }
        }
        let n = c.name
        let timeMajor = config.bool("time_major") ?? false
        let xs = timeMajor ? try c.keras(c.x) : try c.importer.timeMajor(c.x, name: n)
        var inputs = [
            xs, c.b.floats(n + "_W", [dirs, gateCount * units, features], W),
            c.b.floats(n + "_R", [dirs, gateCount * units, units], R)
        ]
        if useBias { inputs.append(c.b.floats(n + "_B", [dirs, 2 * gateCount * units], B)) }

        var names: [String] = [], alphas: [Float] = [], betas: [Float] = []
        let recurrentActivation = config.activation("recurrent_activation") ?? (cls == "SimpleRNN" ? "tanh" : "sigmoid")
        let activation = config.activation() ?? "tanh"
        let funcs =
            cls == "SimpleRNN"
            ? [activation] : (cls == "LSTM" ? [recurrentActivation, activation, activation] : [recurrentActivation, activation])
        for _ in 0..<dirs {
            for f in funcs {
                let (name, a, b) = try cellActivation(f, c)
                names.append(name)
                if let a { alphas.append(a) }
                if let b { betas.append(b) }
            }
        }
        var attrs: [Attribute] = [.int("hidden_size", units), Attribute("activations", .strings(names.map { Array($0.utf8) }))]
        if !alphas.isEmpty { attrs.append(Attribute("activation_alpha", .floats(alphas))) }
        if !betas.isEmpty { attrs.append(Attribute("activation_beta", .floats(betas))) }
        let goBackwards = config.bool("go_backwards") ?? false
        attrs.append(.string("direction", dirs == 2 ? "bidirectional" : (goBackwards ? "reverse" : "forward")))
        if cls == "GRU" { attrs.append(.int("linear_before_reset", resetAfter ? 1 : 0)) }
        let op = cls == "SimpleRNN" ? "RNN" : cls
        let outs = c.b.op(op, inputs, attrs, name: n, outputs: cls == "LSTM" ? 3 : 2)
        let (y, yh) = (outs[0], outs[1])

        let sequences = config.bool("return_sequences") ?? false
        let batch = c.x.shape[0], steps = c.x.shape[1]
        var result: [KTensor]
        if dirs == 1 {
            if sequences {
                var seq = c.b.op1("Squeeze", [y, c.b.int64s(n + "_dir_axis", [1])], name: n + "_seq")
                if goBackwards {
                    // Keras returns the outputs of a backwards pass in processing order.
                    seq = c.b.op1(
                        "Slice",
                        [
                            seq, c.b.int64s(n + "_rev_start", [-1]), c.b.int64s(n + "_rev_end", [Int(Int64.min)]),
                            c.b.int64s(n + "_rev_axis", [0]), c.b.int64s(n + "_rev_step", [-1])
                        ], name: n + "_reverse")
                }
                result = [
                    timeMajor
                        ? KTensor(shape: [steps, batch, units], last: seq) : KTensor(shape: [batch, steps, units], timeMajor: seq)
                ]
            } else {
                result = [
                    KTensor(
                        shape: [batch, units], last: c.b.op1("Squeeze", [yh, c.b.int64s(n + "_h_axis", [0])], name: n + "_last"))
                ]
            }
        } else {
            let merged: String
            let width = merge == "concat" ? 2 * units : units
            if sequences {
                // Y is (T, 2, N, H); the merged sequence stays time-major (T, N, width).
                switch merge {
                case "concat":
                    let tndh = c.b.transpose(y, [0, 2, 1, 3], name: n + "_directions_last")
                    merged = c.b.op1("Reshape", [tndh, c.b.int64s(n + "_concat", [0, 0, -1])], name: n + "_concat")
                case "sum":
                    merged = c.b.op1("ReduceSum", [y, c.b.int64s(n + "_axes", [1])], [.int("keepdims", 0)], name: n + "_sum")
                case "ave": merged = c.b.op1("ReduceMean", [y], [.ints("axes", [1]), .int("keepdims", 0)], name: n + "_ave")
                case "mul": merged = c.b.op1("ReduceProd", [y], [.ints("axes", [1]), .int("keepdims", 0)], name: n + "_mul")
                default: throw c.unsupported("merge_mode \(merge ?? "none")")
                }
                result = [KTensor(shape: [batch, steps, width], timeMajor: merged)]
            } else {
                let bdh = c.b.transpose(yh, [1, 0, 2], name: n + "_batch_major") // (N, 2, H)
                switch merge {
                case "concat": merged = c.b.op1("Reshape", [bdh, c.b.int64s(n + "_concat", [0, -1])], name: n + "_concat")
                case "sum":
                    merged = c.b.op1("ReduceSum", [bdh, c.b.int64s(n + "_axes", [1])], [.int("keepdims", 0)], name: n + "_sum")
                case "ave": merged = c.b.op1("ReduceMean", [bdh], [.ints("axes", [1]), .int("keepdims", 0)], name: n + "_ave")
                case "mul": merged = c.b.op1("ReduceProd", [bdh], [.ints("axes", [1]), .int("keepdims", 0)], name: n + "_mul")
                default: throw c.unsupported("merge_mode \(merge ?? "none")")
                }
                result = [KTensor(shape: [batch, width], last: merged)]
            }
        }
        if config.bool("return_state") == true {
            if dirs == 2 { throw c.unsupported("return_state on a Bidirectional layer") }
            result.append(
                KTensor(
                    shape: [batch, units], last: c.b.op1("Squeeze", [yh, c.b.int64s(n + "_h_axis2", [0])], name: n + "_state_h")))
            if cls == "LSTM" {
                result.append(
                    KTensor(
                        shape: [batch, units],
                        last: c.b.op1("Squeeze", [outs[2], c.b.int64s(n + "_c_axis", [0])], name: n + "_state_c")))
            }
        }
        return result
    }
}
