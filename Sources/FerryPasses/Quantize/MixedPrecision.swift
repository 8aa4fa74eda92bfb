import FerryIR

/// Automatic mixed precision: measures how much quantizing each layer alone costs in output
/// cosine similarity, then keeps the most sensitive layers in float, worst first, until the fully
/// quantized rest meets the target.
///
/// Agreement is judged on samples the activation ranges were not measured on, since a model
/// always agrees best with the float one on its own calibration samples: on validation samples
/// when there are some (ranges from all calibration samples), else on two folds of the
/// calibration samples (ranges from one half, judged on the other, both ways round).
struct MixedPrecision {
    /// Ranges measured on some samples, judged on others.
    struct Judge {
        let writer: Quantizer.Writer
        let samples: [[String: Tensor]]
    }

    let float: Model
    let judges: [Judge]
    /// Layers in float whatever the target (the first and last layers).
    let alwaysKept: Set<String>

    /// The layers to keep in float so that the held-out agreement meets `target` (every candidate
    /// when nothing less does), and the agreement reached with them.
    func meet(_ target: Double, candidates: [String]) throws -> (kept: [String], cosine: Double) {
        let references = try judges.map { try outputs(of: float, on: $0.samples) }
        func agreement(keeping kept: Set<String>) throws -> Double {
            var total = 0.0, rows = 0
            for (judge, reference) in zip(judges, references) {
                let candidate = try outputs(of: judge.writer.write(float, keeping: kept), on: judge.samples)
                let a = OutputAgreement.measure(
                    reference: reference, candidate: candidate, samples: judge.samples, classAxisIsLast: false)
                total += a.cosine * Double(a.rows)
                rows += a.rows
            }
            return rows == 0 ? 1 : total / Double(rows)
        }
        let reached = try agreement(keeping: alwaysKept)
        if reached >= target { return ([], reached) }
        // Sensitivity: the cosine lost when only this layer is quantized.
        var sensitivity: [(name: String, loss: Double)] = []
        let everything = Set(candidates).union(alwaysKept)
        try Progress.forEach(candidates, "accuracy target: layer sensitivity") { name in
            sensitivity.append((name, 1 - (try agreement(keeping: everything.subtracting([name])))))
        }
        sensitivity.sort { $0.loss > $1.loss }
        var kept: [String] = []
        var cosine = reached
        for (i, s) in sensitivity.enumerated() {
            kept.append(s.name)
            cosine = try agreement(keeping: alwaysKept.union(kept))
            Progress.report(
                "accuracy target: keeping layers in float", done: cosine >= target ? sensitivity.count : i + 1,
                total: sensitivity.count)
            if cosine >= target { break }
        }
        return (kept, cosine)
    }

    /// The first output of `model` for every sample.
    private func outputs(of model: Model, on samples: [[String: Tensor]]) throws -> [[Float]] {
        let probe = try TensorProbe(model, probing: [])
        let name = model.graph.outputs[0].name
        return try samples.map { try probe.run($0)[name] ?? [] }
    }
}
