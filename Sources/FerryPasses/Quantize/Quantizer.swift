import FerryIR
import Foundation

/// Quantizes a float model to int8: weights only, dynamic, or static with calibration, written as
/// QDQ or operator form; optionally keeps the most sensitive layers in float to reach an accuracy
/// target. Works on any model the interpreter can run.
public struct Quantizer {
    public var options: QuantizationOptions

    public init(options: QuantizationOptions) {
        self.options = options
    }

    /// Returns the quantized model and its report. `samples` are calibration inputs (name -> tensor);
    /// static mode needs them, the other modes use them for the report when given. `validation`
    /// samples, when given, are never used for ranges: the accuracy target and the report are
    /// judged on them.
    public func quantize(
        _ input: Model, samples rawSamples: [[String: Tensor]] = [], validation rawValidation: [[String: Tensor]] = []
    ) throws -> (
        model: Model, report: QuantizationReport
    ) {
        try options.validate()
        if options.mode == .static && rawSamples.isEmpty {
            throw PassError.invalidOption(option: "samples", reason: "static quantization needs calibration samples")
        }
        if options.accuracyTarget != nil && rawSamples.isEmpty {
            throw PassError.invalidOption(option: "accuracyTarget", reason: "needs calibration samples to measure accuracy on")
        }
        try input.graph.checkExclusions(options.exclude)
        var notes: [String] = []
        // Read before the optimizer folds the batch norms away.
        var batchNorms = options.mode == .static && options.batchNormRanges ? BatchNormRanges(input) : nil
        var model = try QuantizationPreparation.prepare(input, notes: &notes)
        if options.equalize && options.mode == .static {
            let (pairs, divisors) = CrossLayerEqualization.run(on: &model.graph)
            batchNorms?.divide(divisors)
            notes.append(
                pairs == 0
                    ? "cross-layer equalization: no Conv -> (Relu) -> Conv pair to equalize"
                    : "cross-layer equalization: \(pairs) Conv -> (Relu) -> Conv pair(s) equalized")
        }
        var perChannel = options.perChannel
        let opset = model.defaultOpset
        // quantized operators need opset 10, DynamicQuantizeLinear 11, per-channel DequantizeLinear 13
        let needed: Int64 = perChannel && options.bits == 8 ? 13 : options.mode == .dynamic ? 11 : 10
        if opset < needed {
            do {
                try OpsetConversion(target: 13).apply(to: &model)
                notes.append(
                    "opset \(opset) upgraded to 13 (\(needed == 13 ? "per-channel DequantizeLinear" : "the quantized operators") need it)"
                )
            } catch let refusal as PassError {
                guard opset >= (options.mode == .dynamic ? 11 : 10) else {
                    throw PassError.unsupported(
                        subject: "model",
                        reason: "opset \(opset) has no quantized operators and the upgrade to 13 was refused (\(refusal))")
                }
                perChannel = false
                notes.append(
                    "opset \(opset) has no per-channel DequantizeLinear and the upgrade to 13 was refused (\(refusal)): weights quantized per tensor"
                )
            }
        }
        let samples = try samplesForModel(rawSamples, inputs: model.graph.runtimeInputs)
        let validation = try samplesForModel(rawValidation, inputs: model.graph.runtimeInputs)
        let all = QuantizationTargets(model.graph, options: options)
        let quantizedTensors = all.quantizedTensors(model.graph, format: options.format)
        let predicted =
            batchNorms?.ranges(
                model.graph, opset: model.defaultOpset, tensors: quantizedTensors,
                percent: options.method == .percentile ? options.percentile : 99.99)
            ?? [:]
        func calibratedWriter(_ samples: [[String: Tensor]]) throws -> Writer {
            guard options.mode == .static else { return Writer(options: options, perChannel: perChannel, ranges: [:]) }
            var ranges = try Calibration.ranges(model, tensors: quantizedTensors, samples: samples, options: options)
            let rows = try sampleRows(samples, inputs: model.graph.runtimeInputs).count
            for (t, p) in predicted { if let r = ranges[t] { ranges[t] = BatchNormRanges.blend(r, p, samples: rows) } }
            return Writer(options: options, perChannel: perChannel, ranges: ranges)
        }
        let writer = try calibratedWriter(samples)
        if !predicted.isEmpty {
            notes.append(
                "batch-norm statistics: \(predicted.count) of \(quantizedTensors.count) activation ranges moved toward the ranges they predict (weighing as \(Int(BatchNormRanges.priorSamples)) samples)"
            )
        }
        var edges: [String] = []
        if options.mode == .static && options.keepEdgeLayersFloat {
            edges = all.edgeNodes(model.graph)
            if !edges.isEmpty { notes.append("first and last layers kept in float: \(edges.joined(separator: ", "))") }
        }
        var kept = edges
        var quantized = try writer.write(model, keeping: Set(edges))
        var outcome: QuantizationReport.TargetOutcome?
        if let target = options.accuracyTarget {
            var judges = [MixedPrecision.Judge(writer: writer, samples: validation)]
            var judgedOn = "\(try sampleRows(validation, inputs: model.graph.runtimeInputs).count) validation samples"
            if validation.isEmpty {
                let rows = try sampleRows(samples, inputs: model.graph.runtimeInputs)
                let even = rows.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                let odd = rows.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
                if odd.isEmpty {
                    judges = [MixedPrecision.Judge(writer: writer, samples: rows)]
                    judgedOn = "the one calibration sample its ranges come from (give --validate DIR to judge on others)"
                } else {
                    judges = [
                        MixedPrecision.Judge(writer: try calibratedWriter(even), samples: odd),
                        MixedPrecision.Judge(writer: try calibratedWriter(odd), samples: even)
                    ]
                    judgedOn = "\(rows.count) calibration samples in two folds (ranges from one half, judged on the other)"
                }
            }
            let precision = MixedPrecision(float: model, judges: judges, alwaysKept: Set(edges))
            let candidates = all.targets.map { model.graph.nodes[$0.node].name }.filter { !edges.contains($0) }
            let (chosen, cosine) = try precision.meet(target, candidates: candidates)
            if !chosen.isEmpty { quantized = try writer.write(model, keeping: Set(edges + chosen)) }
            kept += chosen
            let result = QuantizationReport.TargetOutcome(
                target: target, reached: cosine, met: cosine >= target, judgedOn: judgedOn, keptInFloat: chosen)
            let reached = result.reachedText
            let weights = options.keepFloatWeights ? "" : " (with int8 weights; float weights there would reach more)"
            notes.append(
                "accuracy target \(target) judged on \(judgedOn): "
                    + (!result.met
                        ? "NOT MET, cosine \(reached) with every layer kept in float\(weights)"
                        : chosen.isEmpty
                            ? "met (cosine \(reached)) without keeping more layers in float"
                            : "met (cosine \(reached)) keeping \(chosen.count) more layer(s) in float: \(chosen.joined(separator: ", "))")
            )
            outcome = result
        }
        let lstms = quantized.graph.nodes.filter { $0.opType == "DynamicQuantizeLSTM" }.count
        if lstms > 0 {
            notes.append("\(lstms) LSTM(s) written as com.microsoft DynamicQuantizeLSTM (int8 weights per gate column)")
        }
        if options.bits == 4 {
            let convs = all.targets.filter { model.graph.nodes[$0.node].opType == "Conv" }.count
            notes.append(
                "4-bit weights in blocks of \(options.blockSize) (\(options.symmetric ? "symmetric" : "asymmetric")) for MatMul and Gemm"
                    + (convs > 0 ? "; \(convs) Conv(s) left in float" : ""))
        }
        if all.targets.isEmpty && lstms == 0 {
            notes.append("nothing to quantize: no Conv, Gemm, MatMul or LSTM with float weights")
        }
        var report = try QuantizationReporting.report(
            float: model, quantized: quantized, targets: all, kept: kept, samples: validation.isEmpty ? samples : validation,
            validated: !validation.isEmpty, options: options, perChannel: perChannel, notes: notes, original: input)
        report.accuracyTarget = outcome
        return (quantized, report)
    }

    /// Writes the quantized form of a prepared model with fixed activation ranges.
    struct Writer {
        let options: QuantizationOptions
        let perChannel: Bool
        let ranges: [String: (lo: Float, hi: Float)]

        /// The model with every target quantized except the nodes named in `kept`, which compute in
        /// float; in static mode their weights are still stored as int8 (dequantized at load) unless
        /// `keepFloatWeights`, so keeping a layer costs file size little. Excluded nodes stay float.
        func write(_ model: Model, keeping kept: Set<String>) throws -> Model {
            let targets = QuantizationTargets(model.graph, options: options, skipping: kept)
            let keptTargets =
                options.mode == .static && !options.keepFloatWeights
                ? QuantizationTargets(model.graph, options: options).targets.filter {
                    kept.contains(model.graph.nodes[$0.node].name)
                } : []
            var result = model
            switch options.mode {
            case .weights where options.bits == 4:
                var w = BlockwiseWriter(model, options: options)
                w.rewrite(targets.targets)
                result.graph = w.graph
                if options.format == .matmulnbits {
                    result.importDomain(Domain.microsoft, version: 1)
                } else if result.defaultOpset < 21 {
                    throw PassError.unsupported(
                        subject: "model",
                        reason:
                            "opset \(result.defaultOpset): 4-bit DequantizeLinear with block_size needs opset 21; use --format matmulnbits"
                    )
                }
            case .dynamic:
                var w = DynamicWriter(model)
                _ = try w.rewrite(targets.targets, perChannel: perChannel, levels: options.weightLevels)
                if try !w.rewriteLSTMs(excluding: Set(options.exclude).union(kept), levels: options.weightLevels).isEmpty {
                    result.importDomain(Domain.microsoft, version: 1)
                }
                result.graph = w.graph
                result.importDomain(Domain.onnx, version: 11)
            case .weights, .static:
                var w = QDQWriter(model, options: options, perChannel: perChannel)
                if options.mode == .static {
                    let wanted = Set(targets.quantizedTensors(model.graph, format: options.format))
                    w.quantizeActivations(ranges.filter { wanted.contains($0.key) }, targets: targets.targets)
                }
                try w.quantizeWeights(targets.targets, alongside: keptTargets)
                try w.quantizeWeights(keptTargets, withBias: false, alongside: targets.targets)
                result.graph = w.graph
                if options.mode == .static && options.format == .qoperator {
                    _ = QOperatorConversion.convert(
                        &result.graph, targets: targets.targets, activationType: options.activationType)
                    if result.graph.nodes.contains(where: { $0.domain == Domain.microsoft }) {
                        result.importDomain(Domain.microsoft, version: 1)
                    }
                }
            }
            GraphCleanup.removeUnused(&result.graph)
            _ = try TopologicalSortPass().run(on: &result)
            return result
        }
    }
}
