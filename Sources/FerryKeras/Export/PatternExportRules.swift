import FerryIR
import Foundation

/// Multi-op patterns the importer writes for single Keras layers: ReLU with a threshold, a
/// negative slope or a cap, and Dot.
enum PatternExportRules {
    /// The single consumer of `value` if it is `op` with a constant other input; returns the
    /// node index and that constant's values.
    static func constantConsumer(_ value: String, _ op: String, _ e: KerasExporter) -> (Int, [Float])? {
        guard let c = e.soleConsumer(value), e.graph.nodes[c].opType == op, e.graph.nodes[c].inputs.count == 2,
            let other = e.graph.nodes[c].inputs.first(where: { $0 != value }), let t = e.constants[other]
        else { return nil }
        return (c, t.float32Values)
    }

    static func relu(_ e: KerasExporter, input: String, output: String, name: String, threshold: Float, slope: Float) throws {
        let x = try e.value(input)
        var out = output, maxValue: Any = NSNull()
        if let (c, cap) = constantConsumer(output, "Min", e), cap.count == 1 {
            e.done.insert(c)
            out = e.graph.nodes[c].outputs[0]
            maxValue = Double(cap[0])
        }
        let ref = e.add(
            "ReLU", name, ["max_value": maxValue, "negative_slope": Double(slope), "threshold": Double(threshold)],
            inputs: [x.ref])
        e.values[out] = .init(ref: ref, layout: x.layout, shape: x.shape)
    }

    /// LeakyRelu, optionally capped by Min(const): LeakyReLU or ReLU(negative_slope, max_value).
    static func leakyRelu(_ n: Node, _ e: KerasExporter) throws {
        let slope = n.float("alpha") ?? 0.01
        if constantConsumer(n.outputs[0], "Min", e) != nil {
            try relu(
                e, input: n.inputs[0], output: n.outputs[0], name: n.name.isEmpty ? "re_lu" : n.name, threshold: 0, slope: slope)
        } else {
            let x = try e.value(n.inputs[0])
            e.values[n.outputs[0]] = .init(
                ref: e.add("LeakyReLU", n.name.isEmpty ? "leaky_re_lu" : n.name, ["alpha": Double(slope)], inputs: [x.ref]),
                layout: x.layout, shape: x.shape)
        }
    }

    /// Where(x ≥ t, x, (x − t)·slope) [then Min(cap)]: ReLU(threshold, negative_slope, max_value).
    /// `n` is the Sub(x, t).
    static func thresholdRelu(_ n: Node, _ e: KerasExporter) throws -> Bool {
        guard n.opType == "Sub", n.inputs.count == 2, let t = e.constants[n.inputs[1]]?.float32Values, t.count == 1,
            let (mulIndex, slope) = constantConsumer(n.outputs[0], "Mul", e), slope.count == 1,
            let whereIndex = e.soleConsumer(e.graph.nodes[mulIndex].outputs[0]), e.graph.nodes[whereIndex].opType == "Where"
        else { return false }
        let w = e.graph.nodes[whereIndex]
        guard w.inputs.count == 3, w.inputs[1] == n.inputs[0], w.inputs[2] == e.graph.nodes[mulIndex].outputs[0],
            let condIndex = e.graph.nodes.firstIndex(where: { $0.outputs.first == w.inputs[0] }),
            e.graph.nodes[condIndex].opType == "GreaterOrEqual", e.graph.nodes[condIndex].inputs.first == n.inputs[0],
            e.constants[e.graph.nodes[condIndex].inputs[1]]?.float32Values == t
        else { return false }
        e.done.formUnion([mulIndex, whereIndex, condIndex])
        try relu(
            e, input: n.inputs[0], output: w.outputs[0], name: n.name.isEmpty ? "re_lu" : n.name, threshold: t[0], slope: slope[0]
        )
        return true
    }

    /// Dot of two rank-2 tensors: Mul then ReduceSum(axis 1, keepdims); inputs possibly L2-normalised.
    static func dot2D(_ n: Node, _ e: KerasExporter) throws -> Bool {
        guard n.opType == "Mul", n.inputs.count == 2, let c = e.soleConsumer(n.outputs[0]), e.graph.nodes[c].opType == "ReduceSum"
        else { return false }
        let sum = e.graph.nodes[c]
        let axes =
            sum.inputs.count > 1 ? (e.constants[sum.inputs[1]]?.int64Values ?? []) : (sum.ints("axes") ?? []).map(Int64.init)
        guard axes == [1], (sum.int("keepdims") ?? 1) == 1 else { return false }
        let normalized = n.inputs.compactMap { e.normalized[$0] }
        let inputs = normalized.count == 2 ? normalized : try n.inputs.map { try e.value($0) }
        guard inputs.allSatisfy({ $0.layout == .same && $0.shape.count == 2 }) else { return false }
        e.done.insert(c)
        let ref = e.add(
            "Dot", n.name.isEmpty ? "dot" : n.name, ["axes": 1, "normalize": normalized.count == 2], inputs: inputs.map(\.ref))
        e.values[sum.outputs[0]] = .init(ref: ref, layout: .same, shape: [inputs[0].shape[0], 1])
        return true
    }

    /// MatMul of two computed rank-3 tensors, either possibly transposed on its last two axes: Dot.
    static func dot3D(_ n: Node, _ e: KerasExporter) throws {
        func source(_ name: String) throws -> (KerasExporter.Value, Bool) {
            if let t = e.swapped[name] { return (t, true) }
            return (try e.value(name), false)
        }
        let (a, aT) = try source(n.inputs[0]), (b, bT) = try source(n.inputs[1])
        guard a.layout == .same, b.layout == .same, a.shape.count == 3, b.shape.count == 3 else {
            throw ExportProblem("products other than batched matrix products of sequences")
        }
        // out = A·B with A = a or aᵀ, B = b or bᵀ; Keras Dot(axes) contracts axis i of a with axis j of b.
        let axes = [aT ? 1 : 2, bT ? 2 : 1]
        let rows = aT ? a.shape[2] : a.shape[1], cols = bT ? b.shape[1] : b.shape[2]
        let ref = e.add("Dot", n.name.isEmpty ? "dot" : n.name, ["axes": axes, "normalize": false], inputs: [a.ref, b.ref])
        e.values[n.outputs[0]] = .init(ref: ref, layout: .same, shape: [a.shape[0], rows, cols])
    }
}
