import FerryIR

/// What `Quantizer` does and how.
public struct QuantizationOptions: Sendable {
    /// Which tensors become integers.
    public enum Mode: String, Sendable, CaseIterable {
        /// int8 weights dequantized at load (DequantizeLinear on initializers): a 4x smaller file.
        case weights
        /// int8 weights; activations quantized at run time (DynamicQuantizeLinear + MatMulInteger/ConvInteger).
        case dynamic
        /// int8 weights and activations, activation ranges from calibration samples.
        case `static`
    }

    /// How quantized operators are spelled in the written model.
    public enum Format: String, Sendable, CaseIterable {
        /// QuantizeLinear/DequantizeLinear pairs around float operators, as onnxruntime writes them.
        case qdq
        /// Integer operators: QLinearConv, QLinearMatMul, ... with QuantizeLinear/DequantizeLinear at the edges.
        case qoperator
        /// 4-bit weights: onnxruntime's com.microsoft MatMulNBits.
        case matmulnbits
    }

    /// How an activation's range is chosen from the calibration samples.
    public enum Method: String, Sendable, CaseIterable {
        /// The smallest and largest values seen.
        case minmax
        /// The `percentile` (and 100 - `percentile`) percentile of the values seen.
        case percentile
        /// The clipping threshold minimising the KL divergence between the float and quantized histograms.
        case entropy
    }

    public var mode: Mode = .static
    public var format: Format = .qdq
    public var method: Method = .percentile
    /// Percentile for `.percentile`, in percent.
    public var percentile: Double = 99.99
    /// One weight scale per output channel (true) or one per tensor.
    public var perChannel = true
    /// 7-bit weights (|q| <= 64, as onnxruntime's `reduce_range`): no pair of u8 x s8 products can
    /// overflow int16, so CPUs without AVX-512 VNNI (whose fast instruction saturates such pairs)
    /// compute them exactly; costs one bit of weight precision.
    public var reduceRange = false
    /// The largest weight magnitude after quantization: 64 with `reduceRange`, else 127.
    public var weightLevels: Int32 { reduceRange ? 64 : 127 }
    /// Element type of quantized activations: `.uint8` or `.int8`.
    public var activationType: ElementType = .uint8
    /// Static mode: compute the first layers (no quantized layer before them) and the last layers
    /// (none after them) in float, where quantization noise costs the most accuracy; their weights
    /// are still stored as int8 unless `keepFloatWeights`.
    public var keepEdgeLayersFloat = true
    /// Static mode: cross-layer equalization before calibration, balancing the weight ranges of
    /// convolutions that feed each other through nothing or a Relu (the float model computes the
    /// same function; per-tensor and depthwise weights lose less to quantization).
    public var equalize = true
    /// Static mode: move each calibrated activation range toward the range the model's
    /// BatchNormalization statistics predict for it (the geometric mean of the two ends), so that
    /// a few calibration samples do not decide the ranges alone. Only tensors that follow from a
    /// batch norm through activations, Pad and residual Adds change.
    public var batchNormRanges = true
    /// Node names or op types kept in float.
    public var exclude: [String] = []
    /// Weights mode: bits per weight, 8 (int8 per channel or tensor) or 4 (blockwise, MatMul and
    /// Gemm weights only; `.matmulnbits` or `.qdq` with opset 21's blocked DequantizeLinear).
    public var bits = 8
    /// 4-bit weights: weights per block along the shared dimension (a power of two, at least 16).
    public var blockSize = 32
    /// 4-bit weights: symmetric blocks (no zero point) instead of asymmetric ones.
    public var symmetric = false
    /// MatMulNBits: accuracy_level 4, products quantize rows of A to int8 per block (faster for
    /// one to four rows, in Ferry and onnxruntime, at a little precision).
    public var int8Activations = false
    /// Automatic mixed precision: keep the most sensitive layers in float until the mean cosine
    /// similarity of the outputs against the float model, over the calibration samples, reaches this.
    public var accuracyTarget: Double?
    /// Static mode: layers computed in float (edges, exclusions, the accuracy target's choice) keep
    /// their float weights instead of int8 weights dequantized at load: larger, but exactly float.
    public var keepFloatWeights = false

    public init() {}

    /// Throws `PassError.invalidOption` (naming the property) for a setting outside its range or one
    /// that contradicts another. `Quantizer` calls it; a caller may too, before loading a model.
    public func validate() throws {
        guard activationType == .uint8 || activationType == .int8 else {
            throw PassError.invalidOption(option: "activationType", reason: "must be uint8 or int8, not \(activationType.name)")
        }
        guard percentile > 50, percentile <= 100 else {
            throw PassError.invalidOption(option: "percentile", reason: "\(percentile) is outside (50, 100]")
        }
        if let target = accuracyTarget, !(target > 0 && target <= 1) {
            throw PassError.invalidOption(option: "accuracyTarget", reason: "\(target) is not a cosine similarity in (0, 1]")
        }
        if format == .qoperator && mode != .static {
            throw PassError.invalidOption(option: "format", reason: "qoperator needs static mode, not \(mode.rawValue)")
        }
        guard bits == 8 || bits == 4 else { throw PassError.invalidOption(option: "bits", reason: "\(bits) is not 8 or 4") }
        if bits == 4 && mode != .weights {
            throw PassError.invalidOption(option: "bits", reason: "4-bit weights are for weights mode, not \(mode.rawValue)")
        }
        if format == .matmulnbits && bits != 4 {
            throw PassError.invalidOption(option: "format", reason: "matmulnbits holds 4-bit weights: add --bits 4")
        }
        if bits == 4 && format == .qoperator {
            throw PassError.invalidOption(option: "format", reason: "4-bit weights are written as matmulnbits or qdq")
        }
        if int8Activations && format != .matmulnbits {
            throw PassError.invalidOption(option: "int8Activations", reason: "needs --bits 4 with the matmulnbits format")
        }
        guard blockSize >= 16, blockSize & (blockSize - 1) == 0 else {
            throw PassError.invalidOption(option: "blockSize", reason: "\(blockSize) is not a power of two of at least 16")
        }
    }
}
