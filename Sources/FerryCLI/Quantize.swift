import ArgumentParser
import Ferry
import FerryIR
import FerryPasses
import Foundation

/// `ferry quantize IN OUT`: int8 quantization (weights only, dynamic, or static with calibration).
struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a model to int8.",
        discussion: """
            --mode weights stores int8 weights dequantized at load (a quarter of the weight bytes); --mode dynamic also quantizes \
            MatMul/Gemm activations at run time and makes LSTMs onnxruntime's DynamicQuantizeLSTM; --mode static (the default) quantizes activations with ranges \
            measured on --calibrate DIR, a folder of .npy (single-input models) or .npz (arrays named after the \
            inputs) samples. The output loads in onnxruntime; a report compares it with the float model on the samples.
            """)

    @OptionGroup var files: RewriteOptions

    @OptionGroup var progress: ProgressOptions

    @Option(help: "weights, dynamic or static.")
    var mode: QuantizationOptions.Mode = .static

    @Option(
        help: ArgumentHelp(
            "qdq (QuantizeLinear/DequantizeLinear pairs), qoperator (QLinearConv, QLinearMatMul, ...) or matmulnbits (4-bit weights, onnxruntime's MatMulNBits; the default with --bits 4).",
            valueName: "format"))
    var format: QuantizationOptions.Format?

    @Option(help: "Weights mode: bits per weight, 8 or 4 (4: MatMul and Gemm weights in blocks along K).")
    var bits: Int = 8

    @Option(help: "--bits 4: weights per block (a power of two, at least 16).")
    var blockSize: Int = 32

    @Flag(help: "--bits 4: symmetric blocks (no zero points).")
    var symmetric = false

    @Flag(
        help:
            "--bits 4 matmulnbits: accuracy_level 4, rows of A quantized to int8 per block in the product (faster at batch 1 in Ferry and onnxruntime, a little less precise)."
    )
    var int8Activations = false

    @Option(
        help: ArgumentHelp(
            "Calibration samples: a folder of .npy or .npz files, or one such file (a batch of samples).",
            valueName: "dir-or-file"))
    var calibrate: String?

    @Option(
        name: .customLong("validate"),
        help: ArgumentHelp(
            "Validation samples (a folder of .npy or .npz files, or one), never used for ranges: --accuracy-target and the report are judged on them (without it the target is judged on two folds of the calibration samples).",
            valueName: "dir-or-file"))
    var validationDir: String?

    @Option(help: "Activation ranges: minmax, percentile or entropy.")
    var method: QuantizationOptions.Method = .percentile

    @Option(help: "Percentile for --method percentile.")
    var percentile: Double = 99.99

    @Flag(help: "One weight scale per tensor instead of one per output channel.")
    var perTensor = false

    @Flag(
        help:
            "7-bit weights (|q| <= 64, onnxruntime's reduce_range): exact in onnxruntime and on Ferry's faster byte path on CPUs without AVX-512 VNNI, one bit less weight precision."
    )
    var reduceRange = false

    @Option(help: "Activation type: uint8 or int8.")
    var activationType: ActivationType = .uint8

    @Flag(inversion: .prefixedNo, help: "Static mode: keep the first and last layers in float.")
    var keepEdgeLayers = true

    @Flag(
        inversion: .prefixedNo,
        help:
            "Static mode: cross-layer equalization first, balancing the weight ranges of Conv -> (Relu) -> Conv pairs (the float function stays the same)."
    )
    var equalize = true

    @Flag(
        inversion: .prefixedNo,
        help:
            "Static mode: move calibrated activation ranges toward those the model's BatchNormalization statistics predict."
    )
    var bnRanges = true

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Node names or op types to keep in float.", valueName: "node-or-op"))
    var exclude: [String] = []

    @Option(
        help: ArgumentHelp(
            "Keep the most sensitive layers in float until the outputs' mean cosine similarity reaches this.", valueName: "cosine"
        ))
    var accuracyTarget: Double?

    @Flag(help: "With --accuracy-target: write OUT (and exit 0) even when the target is not met.")
    var allowMiss = false

    @Flag(
        help:
            "Static mode: layers kept in float (first and last, --exclude, --accuracy-target's choice) keep float weights instead of int8 weights dequantized at load."
    )
    var keepFloatWeights = false

    @Option(help: ArgumentHelp("Write the report as JSON to this file.", valueName: "file"))
    var report: String?

    func validate() throws {
        if mode == .static && calibrate == nil { throw ValidationError("--mode static needs --calibrate DIR") }
        try validatingOptions { try options.validate() }
        if ModelFormat(path: files.output) != .onnx { throw ValidationError("quantized models are written as ONNX (.onnx)") }
        if allowMiss && accuracyTarget == nil { throw ValidationError("--allow-miss is for --accuracy-target") }
    }

    /// The library options the flags ask for.
    var options: QuantizationOptions {
        var options = QuantizationOptions()
        options.mode = mode
        options.format = format ?? (bits == 4 ? .matmulnbits : .qdq)
        options.bits = bits
        options.blockSize = blockSize
        options.symmetric = symmetric
        options.int8Activations = int8Activations
        options.method = method
        options.percentile = percentile
        options.perChannel = !perTensor
        options.reduceRange = reduceRange
        options.activationType = activationType == .int8 ? .int8 : .uint8
        options.exclude = exclude
        options.keepEdgeLayersFloat = keepEdgeLayers
        options.equalize = equalize
        options.batchNormRanges = bnRanges
        options.accuracyTarget = accuracyTarget
        options.keepFloatWeights = keepFloatWeights
        return options
    }

    func run() throws {
        progress.start()
        let loaded = try files.load()
        let inputs = loaded.model.graph.runtimeInputs
        let samples = try calibrate.map { try CalibrationSamples.read($0, inputs: inputs) } ?? []
        let validation = try validationDir.map { try CalibrationSamples.read($0, inputs: inputs) } ?? []
        let (model, result) = try Quantizer(options: options).quantize(loaded.model, samples: samples, validation: validation)
        if let report { try writeJSON(result, to: report) }
        if let t = result.accuracyTarget, !t.met && !allowMiss {
            printSummary(result, wrote: false)
            throw TargetMissed(output: files.output, outcome: t, floatWeights: keepFloatWeights)
        }
        try files.save(model, from: loaded)
        printSummary(result, wrote: true)
    }

    /// How the weights are stored, for the summary.
    private var weightForm: String {
        if bits == 4 { return "4-bit \(symmetric ? "symmetric" : "asymmetric") blocks of \(blockSize)" }
        return (perTensor ? "per-tensor" : "per-channel") + (reduceRange ? " 7-bit" : "")
    }

    private func printSummary(_ r: QuantizationReport, wrote: Bool) {
        let before = fileSize(files.input), after = wrote ? fileSize(files.output) : nil
        print(
            "\(files.input) -> \(files.output)\(wrote ? "" : " (not written)"): \(r.mode)\(r.method.map { " (\($0))" } ?? ""), \(r.format), \(weightForm) weights"
        )
        if let before, let after {
            print(
                String(
                    format: "file size %.1f KB -> %.1f KB (%.2fx)", Double(before) / 1024, Double(after) / 1024,
                    Double(after) / Double(max(before, 1))))
        }
        print(String(format: "weights %.1f KB -> %.1f KB", Double(r.weightBytesBefore) / 1024, Double(r.weightBytesAfter) / 1024))
        func db(_ v: Double?) -> String { v.map { String(format: "%7.1f", $0) } ?? "      -" }
        print("layer                                     op        weight dB  output dB  max error")
        for l in r.layers {
            let name = l.node.count > 40 ? String(l.node.prefix(37)) + "..." : l.node
            print(
                name.padding(toLength: 42, withPad: " ", startingAt: 0) + l.op.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + "  " + db(l.weightSQNR) + "    " + db(l.outputSQNR) + "   "
                    + (l.outputMaxError.map { String(format: "%.3g", $0) } ?? "-")
                    + (l.keptFloat ? "  (kept float)" : ""))
        }
        if let c = r.outputCosine {
            print(
                String(
                    format: "outputs vs float on %d %@samples: mean cosine %.5f", r.samples, r.validated ? "validation " : "", c)
                    + (r.top1Agreement.map { String(format: ", top-1 kept %.1f%%", $0 * 100) } ?? ""))
        }
        for n in r.notes { print("note: \(n)") }
    }
}

/// `--accuracy-target` was not met and `--allow-miss` not given: nothing was written.
struct TargetMissed: Error, CustomStringConvertible {
    let output: String
    let outcome: QuantizationReport.TargetOutcome
    let floatWeights: Bool

    var description: String {
        "\(output): accuracy target \(outcome.target) not met (mean cosine \(outcome.reachedText) with every layer kept in float"
            + (floatWeights ? ")" : ", int8 weights; --keep-float-weights keeps their float weights)")
            + "; nothing written (--allow-miss writes it)"
    }
}

extension QuantizationOptions.Mode: ExpressibleByArgument {}
extension QuantizationOptions.Format: ExpressibleByArgument {}
extension QuantizationOptions.Method: ExpressibleByArgument {}

/// The element types `--activation-type` takes.
enum ActivationType: String, ExpressibleByArgument, CaseIterable {
    case uint8, int8
}
