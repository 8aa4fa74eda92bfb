import FerryIR

/// Builds the quantization report: weight SQNR per layer, and when there are samples, each layer's
/// output SQNR and largest error and the model outputs' agreement, all measured by running the
/// float and the quantized model in the interpreter.
enum QuantizationReporting {
    static func report(
        float: Model, quantized: Model, targets: QuantizationTargets, kept: [String], samples: [[String: Tensor]],
        validated: Bool, options: QuantizationOptions, perChannel: Bool, notes: [String], original: Model
    ) throws -> QuantizationReport {
        let keptSet = Set(kept)
        // the layers whose weights this quantization replaced (dynamic mode leaves Conv weights float)
        let floatWeights = Set(quantized.graph.initializers.filter { $0.elementType == .float }.map(\.name))
        let changed = targets.targets.filter { t in
            let n = float.graph.nodes[t.node]
            return t.weight.map { !floatWeights.contains(n.inputs[$0]) } ?? true
        }
        var layers: [QuantizationReport.Layer] = changed.map { t in
            let n = float.graph.nodes[t.node]
            var weightSQNR: Double?
            if let wi = t.weight, let w = float.graph.initializer(named: n.inputs[wi]),
                let q = try? QuantizedWeight(w, name: "", axis: perChannel ? t.weightAxis : nil, levels: options.weightLevels)
            {
                weightSQNR = ErrorMeasures.sqnr(w.floatValues!, q.dequantized())
            }
            return QuantizationReport.Layer(
                node: n.name, op: n.opType, weightSQNR: weightSQNR, outputSQNR: nil, outputMaxError: nil,
                keptFloat: keptSet.contains(n.name))
        }
        var cosine: Double?, top1: Double?, rows = 0
        if !samples.isEmpty {
            // Layer outputs that still exist under the same name in the quantized model.
            let quantizedValues = Set(quantized.graph.nodes.flatMap(\.outputs))
            let outputs = targets.targets.map { float.graph.nodes[$0.node].outputs[0] }.filter { quantizedValues.contains($0) }
            let a = try TensorProbe(float, probing: outputs), b = try TensorProbe(quantized, probing: outputs)
            var exact: [String: [Float]] = [:], approx: [String: [Float]] = [:]
            var refOut: [[Float]] = [], candOut: [[Float]] = []
            let first = float.graph.outputs[0].name
            for s in samples {
                let x = try a.run(s), y = try b.run(s)
                for o in outputs {
                    exact[o, default: []] += x[o] ?? []
                    approx[o, default: []] += y[o] ?? []
                }
                refOut.append(x[first] ?? [])
                candOut.append(y[first] ?? [])
            }
            for (i, t) in changed.enumerated() {
                let o = float.graph.nodes[t.node].outputs[0]
                guard let x = exact[o], let y = approx[o], x.count == y.count, !x.isEmpty else { continue }
                layers[i].outputSQNR = ErrorMeasures.sqnr(x, y)
                layers[i].outputMaxError = ErrorMeasures.maxError(x, y)
            }
            let agreement = OutputAgreement.measure(
                reference: refOut, candidate: candOut, samples: samples, classAxisIsLast: outputRank(float) == 2)
            cosine = agreement.cosine
            top1 = agreement.top1
            rows = agreement.rows
        }
        return QuantizationReport(
            mode: options.mode.rawValue,
            format: options.mode == .dynamic ? "MatMulInteger with DynamicQuantizeLinear" : options.format.rawValue,
            method: options.mode == .static ? options.method.rawValue : nil, perChannel: perChannel,
            weightBytesBefore: original.graph.weightBytes, weightBytesAfter: quantized.graph.weightBytes, layers: layers,
            outputCosine: cosine, top1Agreement: top1, samples: rows, validated: validated, notes: notes)
    }

    /// Rank of the first output as declared, if it is.
    private static func outputRank(_ m: Model) -> Int? {
        if case .tensor(_, let dims?)? = m.graph.outputs.first?.type?.type { return dims.count }
        return nil
    }
}
