import FerryIR

/// Empirical bias correction: the quantized model's Conv and Gemm outputs drift from the float
/// model's by a per-channel mean (weight rounding and activation clipping do not average out);
/// that mean, measured on the calibration samples, is added to each layer's bias.
enum BiasCorrection {
    /// Per output channel, the mean of float output minus quantized output of each quantized
    /// Conv and Gemm target, by node name.
    static func measure(float: Model, quantized: Model, targets: QuantizationTargets, samples: [[String: Tensor]]) throws -> [String: [Float]] {
        let produced = Set(quantized.graph.nodes.flatMap(\.outputs))
        var layers: [(node: String, output: String, channelAxis: Int)] = []
        for t in targets.targets {
            let n = float.graph.nodes[t.node]
            guard n.isONNX("Conv") || n.isONNX("Gemm"), produced.contains(n.outputs[0]) else { continue }
            layers.append((n.name, n.outputs[0], n.isONNX("Conv") ? 1 : -1))
        }
        guard !layers.isEmpty else { return [:] }
        let a = try TensorProbe(float, probing: layers.map(\.output)), b = try TensorProbe(quantized, probing: layers.map(\.output))
        var sums: [String: [Double]] = [:], counts: [String: Int] = [:]
        for s in samples {
            let x = try a.runWithShapes(s), y = try b.runWithShapes(s)
            for l in layers {
                guard let p = x[l.output], let q = y[l.output], p.shape == q.shape, p.shape.count >= 2 else { continue }
                let axis = l.channelAxis < 0 ? p.shape.count - 1 : l.channelAxis
                let channels = p.shape[axis], inner = p.shape[(axis + 1)...].reduce(1, *)
                var sum = sums[l.node] ?? [Double](repeating: 0, count: channels)
                guard sum.count == channels else { continue }
                for i in p.values.indices { sum[(i / inner) % channels] += Double(p.values[i] - q.values[i]) }
                sums[l.node] = sum
                counts[l.node, default: 0] += p.values.count / channels
            }
        }
        return sums.compactMapValues { $0 }.reduce(into: [:]) { result, entry in
            let n = Double(max(counts[entry.key] ?? 1, 1))
            result[entry.key] = entry.value.map { Float($0 / n) }
        }
    }

    /// `model` with each corrected node's bias (a new initializer of its own, created when the node
    /// had none) shifted by its correction.
    static func apply(_ corrections: [String: [Float]], to model: Model) -> Model {
        var m = model
        var names = NameAllocator(model)
        for i in m.graph.nodes.indices {
            let n = m.graph.nodes[i]
            guard let delta = corrections[n.name], !n.name.isEmpty else { continue }
            var bias = [Float](repeating: 0, count: delta.count)
            if n.inputs.count > 2, !n.inputs[2].isEmpty {
                guard let b = m.graph.initializer(named: n.inputs[2])?.floatValues, b.count == delta.count else { continue }
                bias = b
            }
            let name = names.fresh((n.inputs.count > 2 && !n.inputs[2].isEmpty ? n.inputs[2] : n.name + "_bias") + "_corrected")
            m.graph.initializers.append(Tensor(name: name, floats: zip(bias, delta).map { $0 + $1 }, shape: [delta.count]))
            while m.graph.nodes[i].inputs.count < 3 { m.graph.nodes[i].inputs.append("") }
            m.graph.nodes[i].inputs[2] = name
        }
        return m
    }
}
