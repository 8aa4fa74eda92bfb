import FerryIR
import Foundation

/// ONNX LSTM/GRU/RNN nodes (one direction) as Keras recurrent layers. The layer's output is
/// taken from whichever ONNX output is used: the full sequence Y (squeezed on the direction
/// axis) means return_sequences, the last state Y_h (squeezed) means the final output.
enum RecurrentExport {
    static func convert(_ n: Node, _ e: KerasExporter) throws {
        let x = try e.value(n.inputs[0])
        guard x.layout == .timeMajor else { throw ExportProblem("input is not a batch-major Keras sequence") }
        let direction = n.string("direction") ?? "forward"
        let bidirectional = direction == "bidirectional"
        let backwards = direction == "reverse"
        guard n.inputs.count <= 4 || n.inputs[4...].allSatisfy({ $0.isEmpty }) else {
            throw ExportProblem("sequence lengths or initial states")
        }
        let W = try e.constant(n.inputs[1]), R = try e.constant(n.inputs[2])
        let bias = n.inputs.count > 3 && !n.inputs[3].isEmpty ? try e.constant(n.inputs[3]) : nil
        guard let units = n.int("hidden_size") ?? R.shape.last else { throw ExportProblem("no hidden size") }
        let features = W.shape[2]
        let gates = n.opType == "LSTM" ? 4 : (n.opType == "GRU" ? 3 : 1)
        let order = n.opType == "LSTM" ? [0, 2, 3, 1] : Array(0..<gates) // ONNX i,o,f,c -> Keras i,f,c,o
        let names: [String]
        if case .strings(let s)? = n.attribute("activations") {
            names = s.map { String(decoding: $0, as: UTF8.self) }
        } else {
            names = []
        }
        func keras(_ onnx: String?) throws -> String {
            switch onnx ?? "" {
            case "Sigmoid": return "sigmoid"
            case "Tanh": return "tanh"
            case "Relu": return "relu"
            default: throw ExportProblem("recurrent activation \(onnx ?? "?") has no Keras name both versions agree on")
            }
        }
        var config: [String: Any] = [
            "units": units, "use_bias": bias != nil, "return_state": false, "go_backwards": backwards,
            "stateful": false, "unroll": false
        ]
        let defaults = n.opType == "LSTM" ? ["Sigmoid", "Tanh", "Tanh"] : (n.opType == "GRU" ? ["Sigmoid", "Tanh"] : ["Tanh"])
        let acts = names.isEmpty ? defaults : names
        if n.opType == "RNN" {
            config["activation"] = try keras(acts.first)
        } else {
            config["recurrent_activation"] = try keras(acts.first)
            config["activation"] = try keras(acts.dropFirst().first)
            if n.opType == "LSTM" && acts.count > 2 && acts[2] != acts[1] {
                throw ExportProblem("LSTM output activation differs from its cell activation")
            }
        }
        // (gates·units, rows) in ONNX gate order -> Keras (rows, gates·units).
        func kerasMatrix(_ t: Tensor, rows: Int) -> Tensor {
            let m = t.float32Values
            var out = [Float](repeating: 0, count: m.count)
            for (dst, src) in order.enumerated() {
                for u in 0..<units {
                    for r in 0..<rows { out[r * gates * units + dst * units + u] = m[(src * units + u) * rows + r] }
                }
            }
            return Tensor(elementType: .float, shape: [rows, gates * units], values: out)
        }
        func kerasVector(_ v: ArraySlice<Float>) -> [Float] {
            let a = Array(v)
            return order.flatMap { a[($0 * units)..<(($0 + 1) * units)] }
        }
        var weights: [(String, Tensor)] = []
        let cell = ["LSTM": "lstm_cell", "GRU": "gru_cell", "RNN": "simple_rnn_cell"][n.opType]!
        let cls = ["LSTM": "LSTM", "GRU": "GRU", "RNN": "SimpleRNN"][n.opType]!
        let directions = bidirectional ? 2 : 1
        func slice(_ t: Tensor, _ d: Int) -> Tensor {
            let per = t.shape.dropFirst().reduce(1, *)
            return Tensor(
                elementType: .float, shape: Array(t.shape.dropFirst()),
                values: Array(t.float32Values[(d * per)..<((d + 1) * per)]))
        }
        if n.opType == "GRU" { config["reset_after"] = (n.int("linear_before_reset") ?? 0) != 0 }
        for d in 0..<directions {
            let prefix = bidirectional ? (d == 0 ? "forward_" : "backward_") + cls.lowercased() + "/" : ""
            weights.append(("\(prefix)\(cell)/kernel", kerasMatrix(slice(W, d), rows: features)))
            weights.append(("\(prefix)\(cell)/recurrent_kernel", kerasMatrix(slice(R, d), rows: units)))
            if let bias {
                let b = slice(bias, d).float32Values, half = gates * units
                let wb = kerasVector(b[0..<half]), rb = kerasVector(b[half...])
                if n.opType == "GRU" && (n.int("linear_before_reset") ?? 0) != 0 {
                    weights.append(("\(prefix)\(cell)/bias", Tensor(elementType: .float, shape: [2, half], values: wb + rb)))
                } else {
                    weights.append(
                        ("\(prefix)\(cell)/bias", Tensor(elementType: .float, shape: [half], values: zip(wb, rb).map { $0 + $1 }))
                    )
                }
            }
        }
        // Which output does the graph use?
        let usesSequence = !e.index.readers(of: n.outputs[0]).isEmpty
        let usesState = n.outputs.count > 1 && !e.index.readers(of: n.outputs[1]).isEmpty
        guard usesSequence != usesState, n.outputs.count < 3 || e.index.readers(of: n.outputs[2]).isEmpty else {
            throw ExportProblem("both the sequence and the states are used")
        }
        config["return_sequences"] = usesSequence
        let steps = x.shape[0], batch = x.shape[1]
        if bidirectional {
            // Merged by the ops after it (see `merge`); merge_mode is filled in then.
            config["name"] = cls.lowercased()
            let ref = e.add(
                "Bidirectional", n.name.isEmpty ? "bidirectional" : n.name,
                // The wrapped layer in the form Keras 3 deserializes (tf.keras reads it too).
                [
                    "layer": ["module": "keras.layers", "class_name": cls, "config": config, "registered_name": NSNull()]
                        as [String: Any],
                    "merge_mode": "concat"
                ], inputs: [x.ref], weights: weights)
            let pending = KerasExporter.PendingMerge(
                layer: e.layers.count - 1, ref: ref, sequences: usesSequence, steps: steps, batch: batch, units: units, stage: 0)
            e.pendingMerge[usesSequence ? n.outputs[0] : n.outputs[1]] = pending
            return
        }
        let ref = e.add(cls, n.name.isEmpty ? cls.lowercased() : n.name, config, inputs: [x.ref], weights: weights)
        // Y is (T, 1, N, H) and Y_h (1, N, H): the Squeeze after them names the Keras output.
        if usesSequence {
            // A backwards pass returns its outputs in processing order: the IR reverses Y's time axis to match.
            let v = KerasExporter.Value(ref: ref, layout: .timeMajor, shape: [steps, batch, units])
            if backwards { e.pendingReverse[n.outputs[0]] = v } else { e.pendingSqueeze[n.outputs[0]] = v }
        } else {
            e.pendingSqueeze[n.outputs[1]] = .init(ref: ref, layout: .same, shape: [batch, units])
        }
    }

    /// The Squeeze of a recurrent output's direction axis: the Keras layer's output itself.
    static func squeeze(_ n: Node, _ e: KerasExporter) throws {
        if let v = e.pendingReverse[n.inputs[0]] {
            e.pendingReverse[n.outputs[0]] = v
            return
        }
        guard let v = e.pendingSqueeze[n.inputs[0]] else { throw ExportProblem("no Keras layer for this op") }
        e.values[n.outputs[0]] = v
    }

    /// The full reversal of a backwards layer's sequence along time (Slice with step -1 on axis 0).
    static func reverse(_ n: Node, _ e: KerasExporter) throws {
        guard let v = e.pendingReverse[n.inputs[0]], n.inputs.count >= 5,
            try e.constantIntegers(n.inputs[3]) == [0], try e.constantIntegers(n.inputs[4]) == [-1],
            try e.constantIntegers(n.inputs[1]) == [-1]
        else { throw ExportProblem("no Keras layer for this op") }
        e.values[n.outputs[0]] = v
    }

    /// The ops that merge a bidirectional recurrence's two directions, as the importer writes them:
    /// concat = Transpose then Reshape; sum/ave/mul = a reduction over the direction axis.
    static func merge(_ n: Node, _ e: KerasExporter) throws -> Bool {
        guard let p = e.pendingMerge[n.inputs[0]] else { return false }
        func finish(_ mode: String, width: Int) {
            e.layers[p.layer].config["merge_mode"] = mode
            e.values[n.outputs[0]] =
                p.sequences
                ? .init(ref: p.ref, layout: .timeMajor, shape: [p.steps, p.batch, width])
                : .init(ref: p.ref, layout: .same, shape: [p.batch, width])
        }
        switch n.opType {
        case "Transpose":
            let perm = n.ints("perm") ?? []
            guard p.stage == 0, perm == (p.sequences ? [0, 2, 1, 3] : [1, 0, 2]) else { throw ExportProblem("direction merge") }
            var next = p
            next.stage = 1
            e.pendingMerge[n.outputs[0]] = next
        case "Reshape":
            guard p.stage == 1, try e.constantIntegers(n.inputs[1]) == (p.sequences ? [0, 0, -1] : [0, -1]) else {
                throw ExportProblem("direction merge")
            }
            finish("concat", width: 2 * p.units)
        case "ReduceSum", "ReduceMean", "ReduceProd":
            var axes = n.ints("axes") ?? []
            if axes.isEmpty, n.inputs.count > 1 { axes = try e.constantIntegers(n.inputs[1]).map { Int($0) } }
            guard axes == [1], (n.int("keepdims") ?? 1) == 0, p.stage == (p.sequences ? 0 : 1) else {
                throw ExportProblem("direction merge")
            }
            finish(["ReduceSum": "sum", "ReduceMean": "ave", "ReduceProd": "mul"][n.opType]!, width: p.units)
        default:
            return false
        }
        return true
    }
}
