import FerryIR

/// Automatic mixed precision: measures how much quantizing each layer alone costs in output
/// cosine similarity on the calibration samples, then keeps the most sensitive layers in float,
/// worst first, until the fully quantized rest meets the target.
struct MixedPrecision {
    let float: Model
    let samples: [[String: Tensor]]
    let writer: Quantizer.Writer
    /// Layers in float whatever the target (the first and last layers).
    let alwaysKept: Set<String>

    /// The quantized model meeting `target` (or with every candidate kept float if nothing else
    /// does), and the names of the layers kept in float.
    func meet(_ target: Double, quantized: Model, candidates: [String]) throws -> (Model, [String]) {
        let reference = try outputs(of: float)
        func agreement(_ m: Model) throws -> Double {
            try OutputAgreement.measure(reference: reference, candidate: outputs(of: m), samples: samples, classAxisIsLast: false)
                .cosine
        }
        if try agreement(quantized) >= target { return (quantized, []) }
        // Sensitivity: the cosine lost when only this layer is quantized.
        var sensitivity: [(name: String, loss: Double)] = []
        let everything = Set(candidates).union(alwaysKept)
        for name in candidates {
            let alone = try writer.write(float, keeping: everything.subtracting([name]))
            sensitivity.append((name, 1 - (try agreement(alone))))
        }
        sensitivity.sort { $0.loss > $1.loss }
        var kept: [String] = []
        var model = quantized
        for s in sensitivity {
            kept.append(s.name)
            model = try writer.write(float, keeping: alwaysKept.union(kept))
            if try agreement(model) >= target { break }
        }
        return (model, kept)
    }

    /// The first output of `model` for every sample.
    private func outputs(of model: Model) throws -> [[Float]] {
        let probe = try TensorProbe(model, probing: [])
        let name = model.graph.outputs[0].name
        return try samples.map { try probe.run($0)[name] ?? [] }
    }
}
