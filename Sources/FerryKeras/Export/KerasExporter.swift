import FerryIR
import FerryRewrite
import Foundation

/// Maps an IR graph onto Keras layers (the reverse of the importer). Each IR value is a Keras
/// tensor in one of several layouts; the Transposes that change layout at graph inputs and
/// between channels-first ops are absorbed, weights are moved back into Keras's layout.
final class KerasExporter {
    /// How a Keras tensor holds an IR value.
    enum Layout: Equatable {
        /// In the value's own axis order.
        case same
        /// The value is channels-first (N, C, ...); the Keras tensor is its channels-last form.
        case channelsFirst
        /// The value is time-major (T, N, F); the Keras tensor is (N, T, F).
        case timeMajor
        /// The value is a channels-first tensor flattened; Keras's flattening of its channels-last
        /// form puts element `order[k]` of the value at position k.
        case flatPermuted([Int])
    }

    struct Ref: Hashable {
        let layer: String
        let tensor: Int
    }

    struct Value: Equatable {
        let ref: Ref
        let layout: Layout
        /// Shape of the IR value (batch may be nil).
        let shape: [Int?]
        /// Set inside a TimeDistributed region: the Keras tensor has a time axis of this length
        /// after its batch axis, which the IR value folds into its batch axis.
        var time: Int?

        init(ref: Ref, layout: Layout, shape: [Int?], time: Int? = nil) {
            self.ref = ref
            self.layout = layout
            self.shape = shape
            self.time = time
        }
    }

    struct Layer {
        let className: String
        var name: String
        var config: [String: Any]
        let inputs: [Ref]
        var weights: [(String, Tensor)]
    }

    let graph: Graph
    let file: String
    /// The model's default-domain opset (some ops changed meaning across versions).
    let opset: Int64
    var constants: [String: Tensor] = [:]
    var values: [String: Value] = [:]
    var layers: [Layer] = []
    var inputLayers: [Ref] = []
    var outputLayers: [Ref] = []
    private var used = Set<String>()
    /// Who reads each value of the graph.
    let index: GraphIndex
    var done = Set<Int>()
    var problems: [ExportFailure] = []
    /// Nodes left out only because a node they read from was (not counted as problems of their own).
    var cascaded = 0
    /// Recurrent outputs whose direction axis a following Squeeze removes.
    var pendingSqueeze: [String: Value] = [:]
    /// Sequences of backwards recurrent layers, in the IR's time order until reversed.
    var pendingReverse: [String: Value] = [:]
    /// L2-normalised values (LpNormalization) waiting to be read by a normalising Dot.
    var normalized: [String: Value] = [:]
    /// Values that are another value with its last two axes swapped (for Dot).
    var swapped: [String: Value] = [:]
    /// Outputs of bidirectional recurrences until the ops that merge their directions.
    var pendingMerge: [String: PendingMerge] = [:]
    /// While a node with time-folded inputs is converted: the time length; its layers are wrapped
    /// in TimeDistributed (those that work on any rank are not) and their outputs stay folded.
    private var foldedTime: Int?
    /// Layers added while converting the current node.
    private var addedLayers = Set<String>()
    /// Layers that compute the same on a tensor with an extra time axis.
    static let anyRank: Set<String> = [
        "Activation", "ReLU", "LeakyReLU", "ELU", "Rescaling", "Add", "Multiply", "Subtract",
        "Maximum", "Minimum", "Average", "Dropout"
    ]

    /// A Bidirectional layer waiting for its merge ops; `stage` counts the ops seen.
    struct PendingMerge {
        let layer: Int
        let ref: Ref
        let sequences: Bool
        let steps: Int?, batch: Int?, units: Int
        var stage: Int
    }

    init(graph: Graph, file: String, opset: Int64) {
        self.graph = graph
        self.file = file
        self.opset = opset
        index = GraphIndex(graph)
        for t in graph.initializers { constants[t.name] = t }
        for (i, n) in graph.nodes.enumerated() {
            if n.opType == "Constant", case .tensor(let t)? = n.attribute("value"), let out = n.outputs.first {
                constants[out] = t
                done.insert(i)
            }
        }
    }

    func unique(_ base: String) -> String {
        let clean = base.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }
        var name = String(clean).isEmpty ? "layer" : String(clean)
        if let f = name.first, f.isNumber { name = "l_" + name }
        var candidate = name, k = 1
        while used.contains(candidate) {
            candidate = "\(name)_\(k)"
            k += 1
        }
        used.insert(candidate)
        return candidate
    }

    /// Adds a layer called on `inputs`; returns the reference to its output `tensor`.
    @discardableResult
    func add(_ className: String, _ base: String, _ config: [String: Any], inputs: [Ref], weights: [(String, Tensor)] = []) -> Ref
    {
        let name = unique(base)
        var c = config
        c["name"] = name
        c["trainable"] = true
        c["dtype"] = "float32"
        var cls = className
        if foldedTime != nil {
            addedLayers.insert(name)
            if !KerasExporter.anyRank.contains(className) {
                if inputs.count != 1 {
                    problems.append(.init(className, name, "a layer of several inputs on time steps folded into the batch"))
                }
                c["name"] = unique(name + "_step")
                c = [
                    "name": name, "trainable": true, "dtype": "float32",
                    "layer": ["module": "keras.layers", "class_name": className, "config": c, "registered_name": NSNull()]
                        as [String: Any]
                ]
                cls = "TimeDistributed"
            }
        }
        layers.append(
            Layer(
                className: cls, name: name, config: c, inputs: inputs,
                weights: weights.map { ("\(name)/\($0.0):0", $0.1) }))
        return Ref(layer: name, tensor: 0)
    }

    /// Runs the mapping; throws listing every op that does not map.
    func run() throws {
        for input in graph.runtimeInputs {
            guard case .tensor(let type, let dims?)? = input.type?.type else {
                throw KerasError.invalidGraph(file: file, reason: "input '\(input.name)' has no tensor shape")
            }
            let shape: [Int?] = dims.map { if case .fixed(let n) = $0.value { return Int(n) } else { return nil } }
            guard !shape.isEmpty else {
                throw KerasError.invalidGraph(
                    file: file, reason: "input '\(input.name)' is a scalar; Keras inputs have a batch axis")
            }
            guard shape.allSatisfy({ $0 == nil || (0...(1 << 31)).contains($0!) }) else {
                throw KerasError.invalidGraph(file: file, reason: "input '\(input.name)' has a negative or huge dimension")
            }
            let name = unique(input.name)
            let dtype: String = [ElementType.int32: "int32", .int64: "int64", .double: "float64"][type] ?? "float32"
            layers.append(
                Layer(
                    className: "InputLayer", name: name,
                    config: [
                        "batch_input_shape": [shape[0] as Any] + shape.dropFirst().map { $0 as Any }, "dtype": dtype,
                        "sparse": false, "ragged": false, "name": name
                    ],
                    inputs: [], weights: []))
            let ref = Ref(layer: name, tensor: 0)
            inputLayers.append(ref)
            values[input.name] = Value(ref: ref, layout: .same, shape: shape.map { $0 ?? nil })
        }
        for i in try graph.topologicalOrder() where !done.contains(i) {
            let node = graph.nodes[i]
            let times = Set(node.inputs.compactMap { self.values[$0].map { $0.time ?? -1 } })
            foldedTime = times.first.flatMap { $0 < 0 ? nil : $0 }
            if times.count > 1 || (foldedTime != nil && ["LSTM", "GRU", "RNN"].contains(node.opType)) {
                problems.append(
                    .init(
                        node.opType, node.name,
                        times.count > 1
                            ? "inputs with and without time steps folded into the batch"
                            : "a recurrent layer on time steps folded into the batch"))
                continue
            }
            addedLayers = []
            let before = foldedTime == nil ? [:] : values
            do {
                try ExportRules.convert(node, index: i, self)
            } catch let e as ExportProblem {
                if e.followsAnother { cascaded += 1 } else { problems.append(.init(node.opType, node.name, e.reason)) }
            }
            // Values the node's layers compute per time step stay folded.
            if let t = foldedTime {
                for (name, v) in values where v.time == nil && addedLayers.contains(v.ref.layer) && before[name] != v {
                    values[name]?.time = t
                }
            }
            foldedTime = nil
        }
        if problems.isEmpty && cascaded > 0 {
            problems.append(.init(nil, nil, "\(cascaded) node(s) read values no node computed"))
            cascaded = 0
        }
        if problems.isEmpty {
            for out in graph.outputs {
                guard let v = values[out.name] else {
                    problems.append(.init(nil, nil, "output '\(out.name)' has no Keras equivalent"))
                    continue
                }
                guard v.time == nil else {
                    problems.append(.init(nil, nil, "output '\(out.name)' has its time steps folded into the batch"))
                    continue
                }
                switch v.layout {
                case .same: outputLayers.append(v.ref)
                case .channelsFirst:
                    let perm = [v.shape.count - 1] + Array(1..<(v.shape.count - 1))
                    outputLayers.append(add("Permute", out.name + "_nchw", ["dims": perm], inputs: [v.ref]))
                default:
                    problems.append(.init(nil, nil, "output '\(out.name)' is time-major or permuted, which Keras cannot return"))
                }
            }
        }
        if !problems.isEmpty {
            throw KerasError.cannotExport(file: file, problems: Self.summary(problems, cascaded: cascaded))
        }
        nameOutputLayersAfterOutputs()
    }

    /// Gives each output layer its graph output's name (the importer names a model's outputs
    /// after its Keras output layers, so a round trip keeps `dense_1` as `dense_1`, not
    /// `dense_1_1`), when no other layer has that name and no layer reads the output layer.
    private func nameOutputLayersAfterOutputs() {
        for (i, out) in graph.outputs.enumerated() where i < outputLayers.count {
            let old = outputLayers[i].layer
            guard old != out.name, !layers.contains(where: { $0.name == out.name }),
                !layers.contains(where: { $0.inputs.contains { $0.layer == old } }),
                !inputLayers.contains(where: { $0.layer == old }), outputLayers.filter({ $0.layer == old }).count == 1,
                let k = layers.firstIndex(where: { $0.name == old })
            else { continue }
            let clean = out.name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && !(out.name.first?.isNumber ?? true)
            guard clean else { continue }
            layers[k].name = out.name
            layers[k].config["name"] = out.name
            layers[k].weights = layers[k].weights.map { w in
                (out.name + w.0.dropFirst(old.count), w.1)
            }
            outputLayers[i] = Ref(layer: out.name, tensor: outputLayers[i].tensor)
        }
    }

    // MARK: helpers used by the rules

    func value(_ name: String) throws -> Value {
        guard let v = values[name] else {
            if constants[name] != nil { throw ExportProblem("a constant where Keras needs a computed tensor") }
            throw ExportProblem("input '\(name)' comes from an op that was not converted", followsAnother: true)
        }
        return v
    }

    func constant(_ name: String) throws -> Tensor {
        guard let t = constants[name] else { throw ExportProblem("'\(name)' must be a constant") }
        return t
    }

    /// The exact integers of constant `name` (an int64 or int32 tensor; none for other types).
    func constantIntegers(_ name: String) throws -> [Int64] { try constant(name).int64Values ?? [] }

    /// The value as a channels-first tensor (a graph input given channels-first gets a Permute).
    func channelsFirst(_ name: String) throws -> Value {
        let v = try value(name)
        switch v.layout {
        case .channelsFirst: return v
        case .same where v.shape.count >= 3:
            let rank = v.shape.count
            let ref = add("Permute", name + "_nhwc", ["dims": Array(2..<rank) + [1]], inputs: [v.ref])
            let w = Value(ref: ref, layout: .channelsFirst, shape: v.shape)
            values[name] = w
            return w
        default: throw ExportProblem("needs a channels-first input of rank 3 or more")
        }
    }

    /// For each axis of the IR value, the axis of its Keras tensor (nil for a flattened
    /// channels-first value, whose columns are permuted).
    func kerasAxes(_ v: Value) -> [Int]? {
        let rank = v.shape.count
        switch v.layout {
        case .same: return Array(0..<rank)
        case .channelsFirst where rank >= 3: return [0, rank - 1] + Array(1..<(rank - 1))
        case .timeMajor where rank == 3: return [1, 0, 2]
        default: return nil
        }
    }

    /// The value with a Keras tensor in the IR's own axis order (a Permute when its layout is
    /// another), for layers that work on the axes as the IR has them (Dense on the last axis).
    func inIROrder(_ name: String) throws -> Value {
        let v = try value(name)
        let rank = v.shape.count
        let dims: [Int]
        switch v.layout {
        case .same: return v
        case .channelsFirst where rank >= 3: dims = [rank - 1] + Array(1..<(rank - 1))
        case .timeMajor where rank == 3: throw ExportProblem("a time-major tensor, whose batch axis is not first")
        default: throw ExportProblem("needs its input in the IR's axis order")
        }
        return Value(
            ref: add("Permute", name + "_ir_order", ["dims": dims], inputs: [v.ref]), layout: .same, shape: v.shape, time: v.time)
    }

    /// The only consumer of `value`, if it has exactly one and is not a graph output.
    func soleConsumer(_ value: String) -> Int? {
        let c = index.readers(of: value)
        guard c.count == 1, !index.graphOutputs.contains(value) else { return nil }
        return c[0]
    }
}

/// Why one node cannot be exported.
struct ExportProblem: Error {
    let reason: String
    /// True when the node failed only because a node before it did.
    let followsAnother: Bool
    init(_ reason: String, followsAnother: Bool = false) {
        self.reason = reason
        self.followsAnother = followsAnother
    }
}

/// Why one node (or the graph's outputs) has no Keras form.
struct ExportFailure {
    /// The op type and node name; nil for problems of the graph's outputs.
    let op: String?, node: String?
    let reason: String
    init(_ op: String?, _ node: String?, _ reason: String) {
        self.op = op
        self.node = node
        self.reason = reason
    }
}

extension KerasExporter {
    /// The failures grouped by op and reason, in order of first appearance: one reads
    /// "Op 'node': reason", several "Op 'first' and N more like it: reason"; the nodes left out
    /// only because of them are counted, not listed (a refused op would otherwise bring a line
    /// for every node after it); past six kinds, the rest are counted too.
    static func summary(_ failures: [ExportFailure], cascaded: Int) -> [String] {
        var groups: [(first: ExportFailure, count: Int)] = []
        for f in failures {
            if let i = groups.firstIndex(where: { $0.first.op == f.op && $0.first.reason == f.reason && f.op != nil }) {
                groups[i].count += 1
            } else {
                groups.append((f, 1))
            }
        }
        var lines = groups.map { g -> String in
            guard let op = g.first.op else { return g.first.reason }
            let more = g.count > 1 ? " and \(g.count - 1) more like it" : ""
            return "\(op) '\(g.first.node ?? "")'\(more): \(g.first.reason)"
        }
        if lines.count > 6 { lines = lines.prefix(5) + ["\(lines.count - 5) more kinds of problem"] }
        if cascaded > 0 { lines.append("\(cascaded) node(s) after them left out") }
        return lines
    }
}
