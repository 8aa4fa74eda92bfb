import FerryIR
import Foundation

/// What a quantization did, layer by layer, measured on the calibration samples (or on the
/// validation samples when there are some).
public struct QuantizationReport: Codable, Sendable {
    /// One quantized (or deliberately float) operator.
    public struct Layer: Codable, Sendable {
        public var node: String
        public var op: String
        /// Signal-to-quantization-noise ratio of the weights, in dB (nil without weights).
        public var weightSQNR: Double?
        /// SQNR of the layer's output in the quantized model against the float model, in dB.
        public var outputSQNR: Double?
        /// Largest absolute difference of the layer's output against the float model.
        public var outputMaxError: Double?
        /// True when this layer computes in float (a first or last layer, or kept by mixed precision);
        /// its weights are still stored as int8 unless the options keep float weights.
        public var keptFloat: Bool
    }

    /// How `QuantizationOptions.accuracyTarget` came out.
    public struct TargetOutcome: Codable, Sendable {
        /// The mean cosine similarity asked for and the one reached.
        public var target: Double
        public var reached: Double
        public var met: Bool
        /// The samples it was judged on, in words.
        public var judgedOn: String
        /// The layers kept in float to reach it (beyond the edges and exclusions).
        public var keptInFloat: [String]

        /// The cosine reached with 5 decimals, or as many more (up to 9) as it takes not to read
        /// as the target when it fell short (0.9999996 against 1.0).
        public var reachedText: String {
            for digits in 5...9 {
                let text = String(format: "%.\(digits)f", reached)
                if met || (Double(text) ?? 0) < target { return text }
            }
            return String(format: "%.9f", reached)
        }
    }

    public var mode: String
    public var format: String
    public var method: String?
    public var perChannel: Bool
    /// Bytes of all initializers before and after.
    public var weightBytesBefore: Int
    public var weightBytesAfter: Int
    public var layers: [Layer]
    /// Mean cosine similarity of the model outputs against the float model over the samples.
    public var outputCosine: Double?
    /// Fraction of samples whose top-1 class (arg max of the first output's last axis) is unchanged.
    public var top1Agreement: Double?
    /// Sample rows (along the outputs' first axis) the measures above were taken on.
    public var samples: Int
    /// True when the measures come from validation samples, which no range was measured on.
    public var validated: Bool
    /// Things the user should know (opset upgraded, layers left in float and why, ...).
    public var notes: [String]
    /// Set when an accuracy target was given.
    public var accuracyTarget: TargetOutcome?
}

/// Signal-to-noise measures of `approx` against `exact`.
enum ErrorMeasures {
    /// Largest SQNR reported (no noise at all reads as this, so reports stay plain JSON numbers).
    static let sqnrCeiling = 200.0

    /// 10 log10(sum x^2 / sum (x - y)^2) in dB, at most `sqnrCeiling`.
    static func sqnr(_ exact: [Float], _ approx: [Float]) -> Double {
        var signal = 0.0, noise = 0.0
        for (x, y) in zip(exact, approx) {
            signal += Double(x) * Double(x)
            noise += Double(x - y) * Double(x - y)
        }
        if noise == 0 { return sqnrCeiling }
        return min(sqnrCeiling, 10 * log10(max(signal, .leastNonzeroMagnitude) / noise))
    }

    static func maxError(_ exact: [Float], _ approx: [Float]) -> Double {
        zip(exact, approx).reduce(0) { max($0, Double(abs($1.0 - $1.1))) }
    }

    /// Cosine similarity of two vectors (1 when both are zero).
    static func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) {
            ab += Double(x) * Double(y)
            aa += Double(x) * Double(x)
            bb += Double(y) * Double(y)
        }
        if aa == 0 && bb == 0 { return 1 }
        return ab / max((aa * bb).squareRoot(), .leastNonzeroMagnitude)
    }
}
