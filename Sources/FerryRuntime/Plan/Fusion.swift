import CKernels
import FerryIR

/// Rewrites the planner applies before choosing kernels, for the fusions the kernels implement:
/// a BatchNormalization, or a per-channel Mul and Add (how Keras batch norms arrive), folded into the
/// preceding convolution's weights and bias; a following activation moved into the output pass
/// of Conv and Gemm; and per-channel Mul/Add and Relu after any other inference BatchNormalization
/// run in its pass. A value is fused away only when its one reader is the next op and it is not a
/// graph output.
enum Fusion {
    /// Names of the weights and biases fusion creates start with this.
    static let fusedPrefix = "ferry.fused:"

    /// Returns `nodes` rewritten; `constants` gains the tensors new nodes read; values named in
    /// `keep` (graph outputs) are never fused away. (The planner runs `recognizeHardSwish` before
    /// this and before the QDQ fusion.)
    static func apply(_ nodes: [Node], constants: inout [String: Value], keep: Set<String>) -> [Node] {
        var nodes = nodes
        var readers: [String: [Int]] = [:]
        for (i, n) in nodes.enumerated() {
            for name in n.inputs + n.subgraphs.flatMap({ $0.outerScopeReads() }) where !name.isEmpty { readers[name, default: []].append(i) }
        }
        var removed = Set<Int>()
        for i in nodes.indices where !removed.contains(i) && nodes[i].domain.isEmpty
            && (nodes[i].opType == "Conv" || nodes[i].opType == "Gemm" || takesChannelSteps(nodes[i])) {
            while let out = nodes[i].outputs.first, nodes[i].outputs.count == 1, !keep.contains(out),
                  let r = readers[out], r.count == 1, !removed.contains(r[0]) {
                let j = r[0]
                let before = nodes[i]
                guard let fused = fuse(nodes[i], into: nodes[j], constants: &constants) else { break }
                nodes[i] = fused
                removed.insert(j)
                // Constants only the fused nodes read are not needed any more.
                for name in before.inputs.dropFirst() + nodes[j].inputs where !name.isEmpty && !fused.inputs.contains(name) {
                    // Weights made by an earlier fusion step have no other reader.
                    let onlyFused = name.hasPrefix(Fusion.fusedPrefix) || readers[name]?.allSatisfy({ $0 == i || $0 == j }) ?? false
                    if onlyFused, !keep.contains(name) { constants[name] = nil }
                }
            }
        }
        return nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// Replaces the spelled-out hard swish that exporters write, x * clip(x + 3, 0, 6) / 6 (as
    /// Add, Clip, Mul, Div in either order of the last two), by one HardSwish node.
    static func recognizeHardSwish(_ nodes: [Node], constants: [String: Value], keep: Set<String>) -> [Node] {
        var readers: [String: [Int]] = [:]
        for (i, n) in nodes.enumerated() {
            for name in n.inputs + n.subgraphs.flatMap({ $0.outerScopeReads() }) where !name.isEmpty { readers[name, default: []].append(i) }
        }
        func scalar(_ name: String) -> Float? {
            guard let v = constants[name], v.type == .float, v.count == 1 else { return nil }
            return v.floats[0]
        }
        func only(_ value: String, _ op: String) -> Int? {
            guard !keep.contains(value), let r = readers[value], r.count == 1, nodes[r[0]].opType == op, nodes[r[0]].domain.isEmpty else { return nil }
            return r[0]
        }
        func other(_ n: Node, _ known: String) -> String? {
            guard n.inputs.count == 2 else { return nil }
            return n.inputs[0] == known ? n.inputs[1] : (n.inputs[1] == known ? n.inputs[0] : nil)
        }
        var removed = Set<Int>(), replaced: [Int: Node] = [:]
        for (i, add) in nodes.enumerated() where add.opType == "Add" && add.domain.isEmpty && add.inputs.count == 2 && !removed.contains(i) {
            guard let x = add.inputs.first(where: { scalar($0) == nil }), let three = other(add, x), scalar(three) == 3,
                  let ci = only(add.outputs[0], "Clip") else { continue }
            let clip = nodes[ci]
            let lo = clip.inputs.count > 1 ? scalar(clip.inputs[1]) : nil, hi = clip.inputs.count > 2 ? scalar(clip.inputs[2]) : nil
            guard lo == 0, hi == 6 else { continue }
            var chain: [Int] = [i, ci]
            var out: String
            if let mi = only(clip.outputs[0], "Mul"), other(nodes[mi], clip.outputs[0]) == x,
               let di = only(nodes[mi].outputs[0], "Div"), let six = other(nodes[di], nodes[mi].outputs[0]), scalar(six) == 6,
               nodes[di].inputs[0] == nodes[mi].outputs[0] {
                chain += [mi, di]; out = nodes[di].outputs[0]
            } else if let di = only(clip.outputs[0], "Div"), nodes[di].inputs[0] == clip.outputs[0], scalar(nodes[di].inputs[1]) == 6,
                      let mi = only(nodes[di].outputs[0], "Mul"), other(nodes[mi], nodes[di].outputs[0]) == x {
                chain += [di, mi]; out = nodes[mi].outputs[0]
            } else {
                continue
            }
            // The replacement sits where the last node of the chain was, after everything it reads.
            let last = chain.max()!
            replaced[last] = Node(opType: "HardSwish", name: add.name.isEmpty ? out : add.name, inputs: [x], outputs: [out])
            for k in chain where k != last { removed.insert(k) }
        }
        return nodes.enumerated().compactMap { removed.contains($0.offset) ? nil : (replaced[$0.offset] ?? $0.element) }
    }

    /// `producer` with `consumer` folded in, or nil when they cannot be fused.
    private static func fuse(_ producer: Node, into consumer: Node, constants: inout [String: Value]) -> Node? {
        guard consumer.domain.isEmpty, producer.attribute(FusedActivation.attribute) == nil else { return nil }
        if producer.opType == "BatchNormalization" { return extend(producer, with: consumer, constants: constants) }
        if let act = activation(consumer, constants: constants) {
            var p = producer
            p.attributes += act.attributes
            p.outputs = consumer.outputs
            return p
        }
        guard producer.opType == "Conv", let w = constants[producer.inputs[1]], w.type == .float, w.rank >= 3 else { return nil }
        let m = w.shape[0]
        let bias: Value? = producer.inputs.count > 2 && !producer.inputs[2].isEmpty ? constants[producer.inputs[2]] : nil
        if producer.inputs.count > 2 && !producer.inputs[2].isEmpty && bias == nil { return nil }
        var scale: [Float]? = nil, shift: [Float]? = nil
        switch consumer.opType {
        case "BatchNormalization":
            guard consumer.inputs.count == 5, consumer.outputs.filter({ !$0.isEmpty }).count == 1,
                  consumer.int("training_mode", 0) == 0,
                  let g = channelValues(constants[consumer.inputs[1]], m), let b = channelValues(constants[consumer.inputs[2]], m),
                  let mean = channelValues(constants[consumer.inputs[3]], m), let v = channelValues(constants[consumer.inputs[4]], m) else { return nil }
            var eps: Float = 1e-5
            if case .float(let e)? = consumer.attribute("epsilon") { eps = e }
            let s = (0..<m).map { g[$0] / (v[$0] + eps).squareRoot() }
            scale = s
            shift = (0..<m).map { b[$0] - mean[$0] * s[$0] }
        case "Mul", "Add":
            guard consumer.inputs.count == 2 else { return nil }
            let other = consumer.inputs[0] == producer.outputs[0] ? consumer.inputs[1] : consumer.inputs[0]
            guard let c = constants[other], let values = perChannel(c, channels: m, outputRank: w.rank) else { return nil }
            if consumer.opType == "Mul" { scale = values } else { shift = values }
        default:
            return nil
        }
        // New weights and bias: W'[o] = W[o] * scale[o]; b'[o] = b[o] * scale[o] + shift[o].
        let per = w.count / m
        var newW = [Float](repeating: 0, count: w.count)
        var newB = [Float](repeating: 0, count: m)
        for o in 0..<m {
            let s = scale?[o] ?? 1
            for k in 0..<per { newW[o * per + k] = w.floats[o * per + k] * s }
            newB[o] = (bias.map { $0.floats[o] } ?? 0) * s + (shift?[o] ?? 0)
        }
        let base = Fusion.fusedPrefix + consumer.outputs[0]
        constants[base + ":W"] = Value.float(newW, shape: w.shape)
        constants[base + ":B"] = Value.float(newB, shape: [m])
        var p = producer
        p.inputs = [producer.inputs[0], base + ":W", base + ":B"]
        p.outputs = [consumer.outputs[0]]
        return p
    }

    /// True for an inference BatchNormalization (one output, statistics per channel) that can take
    /// over the per-channel steps after it (see `ChannelStepsBatchNormalizationKernel`).
    private static func takesChannelSteps(_ n: Node) -> Bool {
        guard n.opType == "BatchNormalization", n.inputs.count >= 5, n.outputs.count == 1 else { return false }
        if case .int(let v)? = n.attribute("training_mode"), v != 0 { return false }
        if case .int(let v)? = n.attribute("spatial"), v == 0 { return false }
        return true
    }

    /// `bn` extended by `consumer`: a Mul or Add by a float constant becomes one more step (the
    /// constant one more input), a Relu the last one; nil for anything else.
    private static func extend(_ bn: Node, with consumer: Node, constants: [String: Value]) -> Node? {
        var p = bn
        p.outputs = consumer.outputs
        switch consumer.opType {
        case "Relu":
            var relu = FusedActivation()
            relu.kind = FERRY_ACT_RELU
            p.attributes += relu.attributes
        case "Mul", "Add":
            guard consumer.inputs.count == 2, consumer.outputs.count == 1,
                  consumer.attribute("broadcast") == nil, consumer.attribute("axis") == nil else { return nil }
            let other = consumer.inputs[0] == bn.outputs[0] ? consumer.inputs[1] : consumer.inputs[0]
            guard other != bn.outputs[0], let c = constants[other], c.type == .float else { return nil }
            var steps: [Int64] = []
            if case .ints(let v)? = bn.attribute(ChannelSteps.attribute) { steps = v }
            steps.append(Int64(consumer.opType == "Mul" ? ChannelSteps.mul : ChannelSteps.add))
            p.attributes.removeAll { $0.name == ChannelSteps.attribute }
            p.attributes.append(Attribute(ChannelSteps.attribute, .ints(steps)))
            p.inputs.append(other)
        default:
            return nil
        }
        return p
    }

    /// The fused form of an activation node, if the kernels have it.
    static func activation(_ n: Node, constants: [String: Value]) -> FusedActivation? {
        guard let kind = FusedActivation.kind(of: n.opType) else { return nil }
        var a = FusedActivation()
        a.kind = kind
        switch n.opType {
        case "LeakyRelu": a.alpha = n.float("alpha", 0.01)
        case "HardSigmoid": a.alpha = n.float("alpha", 0.2); a.beta = n.float("beta", 0.5)
        case "Clip":
            if n.inputs.count > 1 || n.attribute("min") == nil && n.attribute("max") == nil {
                func bound(_ i: Int, _ fallback: Float) -> Float? {
                    guard i < n.inputs.count, !n.inputs[i].isEmpty else { return fallback }
                    guard let v = constants[n.inputs[i]], v.type == .float, v.count == 1 else { return nil }
                    return v.floats[0]
                }
                guard let lo = bound(1, -.infinity), let hi = bound(2, .infinity) else { return nil }
                a.alpha = lo; a.beta = hi
            } else {
                a.alpha = n.float("min", -.greatestFiniteMagnitude); a.beta = n.float("max", .greatestFiniteMagnitude)
            }
        default: break
        }
        return n.inputs.count >= 1 ? a : nil
    }

    /// A float vector of exactly `m` values.
    private static func channelValues(_ v: Value?, _ m: Int) -> [Float]? {
        guard let v, v.type == .float, v.count == m else { return nil }
        return Array(UnsafeBufferPointer(start: v.floats, count: m))
    }

    /// The per-output-channel values of a constant broadcast against a conv output of `outputRank`
    /// axes ([N, M, spatial...]): a scalar, or M values on the channel axis only.
    private static func perChannel(_ c: Value, channels m: Int, outputRank: Int) -> [Float]? {
        guard c.type == .float, c.rank <= outputRank else { return nil }
        if c.count == 1 { return [Float](repeating: c.floats[0], count: m) }
        let padded = [Int](repeating: 1, count: outputRank - c.rank) + c.shape
        guard padded[1] == m, padded.enumerated().allSatisfy({ $0.offset == 1 || $0.element == 1 }) else { return nil }
        return Array(UnsafeBufferPointer(start: c.floats, count: m))
    }
}
