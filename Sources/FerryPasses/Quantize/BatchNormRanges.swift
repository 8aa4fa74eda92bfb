import FerryIR
import FerryRewrite
import Foundation

/// Activation ranges predicted from BatchNormalization statistics, as data-free quantization does
/// (Nagel et al., 2019): over the data a model was trained on, channel c of an inference-mode
/// BatchNormalization's output is close to N(beta_c, scale_c^2), since its running mean and
/// variance normalise it. Those distributions are followed through the ops after it (activations,
/// Pad, a residual Add), and a tensor's predicted range is the percentile range of the mixture of
/// its channels. Products (a squeeze-and-excitation gate, x * Clip(x + 3, 0, 6)) end the walk: bounding them by
/// one factor's law widened ranges and cost accuracy on the shared PaddleOCR model. A few calibration samples only show how the samples at hand
/// spread; the statistics summarise the whole training set.
struct BatchNormRanges {
    /// A channel's values: `activation` applied to N(mean, deviation^2).
    struct Channel {
        var mean: Double
        var deviation: Double
    }

    /// A tensor's predicted distribution: per channel a normal law, then elementwise functions.
    struct Distribution {
        var channels: [Channel]
        var functions: [(Double) -> Double] = []

        func value(_ c: Channel, _ z: Double) -> Double { functions.reduce(c.mean + c.deviation * z) { $1($0) } }
    }

    /// The BatchNormalization outputs' channel laws, by tensor name, read before the optimizer folds
    /// the batch norms into their convolutions (the folded convolution keeps the output name).
    private(set) var seeds: [String: [Channel]] = [:]

    /// Reads the statistics of every inference-mode BatchNormalization whose parameters are
    /// initializers or Constant nodes.
    init(_ model: Model) {
        var fixed = model.constantInitializers
        for n in model.graph.nodes where n.isONNX("Constant") && n.outputs.count == 1 {
            if case .tensor(let t)? = n.attribute("value") { fixed[n.outputs[0]] = t }
        }
        let constants = Constants(fixed)
        for n in model.graph.nodes where n.isONNX("BatchNormalization") && n.inputs.count == 5 && n.outputs.count == 1 {
            guard n.int("training_mode", 0) == 0, let scale = constants[n.inputs[1]]?.floatValues,
                let bias = constants[n.inputs[2]]?.floatValues, scale.count == bias.count, !scale.isEmpty
            else { continue }
            seeds[n.outputs[0]] = zip(scale, bias).map { Channel(mean: Double($1), deviation: Double(abs($0))) }
        }
    }

    /// Cross-layer equalization divided channel c of these tensors by `divisors[c]`.
    mutating func divide(_ divisors: [String: [Float]]) {
        for (name, d) in divisors {
            guard var channels = seeds[name], channels.count == d.count else { continue }
            for c in channels.indices where d[c] > 0 {
                channels[c].mean /= Double(d[c])
                channels[c].deviation /= Double(d[c])
            }
            seeds[name] = channels
        }
    }

    /// The predicted [lo, hi] of each of `tensors` that follows from a batch norm in `graph`: the
    /// (100 - percent)th and percent-th percentiles of the mixture of its channels.
    func ranges(_ graph: Graph, opset: Int64, tensors: [String], percent: Double) -> [String: (lo: Float, hi: Float)] {
        guard !seeds.isEmpty else { return [:] }
        var fixed: [String: Tensor] = [:]
        for t in graph.initializers { fixed[t.name] = t }
        var walk = Walk(graph: graph, index: GraphIndex(graph), seeds: seeds, constants: Constants(fixed), opset: opset)
        var result: [String: (lo: Float, hi: Float)] = [:]
        for t in tensors {
            guard let d = walk.distribution(t, depth: 0) else { continue }
            var values: [(value: Double, weight: Double)] = []
            values.reserveCapacity(d.channels.count * Self.normalPoints.count)
            for c in d.channels { for p in Self.normalPoints { values.append((d.value(c, p.z), p.weight)) } }
            guard values.allSatisfy({ $0.value.isFinite }) else { continue }
            values.sort { $0.value < $1.value }
            let total = Double(d.channels.count)
            func at(_ percentile: Double) -> Float {
                var below = 0.0
                for v in values {
                    below += v.weight / total
                    if below >= percentile / 100 { return Float(v.value) }
                }
                return Float(values.last!.value)
            }
            result[t] = (at(100 - percent), at(percent))
        }
        return result
    }

    /// How many calibration samples the prediction counts as when it is blended with their range.
    static let priorSamples = 8.0

    /// The calibrated range moved toward the predicted one, each end by geometric interpolation of
    /// the two magnitudes where both have the same sign (else the calibrated end stays): the
    /// calibrated end weighs n / (n + 8) for n calibration samples, so 8 samples meet the prediction
    /// halfway and many outweigh it. Neither alone is trusted: the prediction holds for the training
    /// data and normal channels, the calibration sees only its samples.
    static func blend(_ calibrated: (lo: Float, hi: Float), _ predicted: (lo: Float, hi: Float), samples: Int)
        -> (lo: Float, hi: Float)
    {
        let w = Double(samples) / (Double(samples) + priorSamples)
        func mix(_ a: Float, _ b: Float) -> Float {
            guard a * b > 0 else { return a }
            return (a < 0 ? -1 : 1) * Float(exp(w * log(Double(abs(a))) + (1 - w) * log(Double(abs(b)))))
        }
        return (mix(calibrated.lo, predicted.lo), mix(calibrated.hi, predicted.hi))
    }

    /// The standard normal law as weighted points: the middles of probability slices, 5% wide in
    /// the body and narrowing geometrically to 1e-6 in the tails, so that percentiles out to
    /// 99.9999 are resolved with 54 points.
    static let normalPoints: [(z: Double, weight: Double)] = {
        let tail = [1e-6, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1]
        let edges = [0] + tail + stride(from: 0.15, through: 0.851, by: 0.05) + tail.reversed().map { 1 - $0 } + [1]
        return zip(edges, edges.dropFirst()).map { (inverseNormal(($0 + $1) / 2), $1 - $0) }
    }()

    /// z with P(N(0, 1) <= z) = p, by bisection on erfc.
    static func inverseNormal(_ p: Double) -> Double {
        var lo = -10.0, hi = 10.0
        for _ in 0..<80 {
            let mid = (lo + hi) / 2
            if 0.5 * erfc(-mid / 2.0.squareRoot()) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// Follows distributions from the seeds down the graph, memoised.
    private struct Walk {
        let graph: Graph
        let index: GraphIndex
        let seeds: [String: [Channel]]
        let constants: Constants
        let opset: Int64
        var memo: [String: Distribution?] = [:]

        mutating func distribution(_ tensor: String, depth: Int) -> Distribution? {
            if let known = memo[tensor] { return known }
            let d = compute(tensor, depth: depth)
            memo[tensor] = d
            return d
        }

        private mutating func compute(_ tensor: String, depth: Int) -> Distribution? {
            if let channels = seeds[tensor] { return Distribution(channels: channels) }
            guard depth < 64, let p = index.producer[tensor] else { return nil }
            let n = graph.nodes[p]
            guard n.domain.isEmpty || n.domain == Domain.onnx, let x = n.inputs.first else { return nil }
            if let f = Self.activation(n, opset: opset, constants: constants) {
                guard var d = distribution(x, depth: depth + 1) else { return nil }
                d.functions.append(f)
                return d
            }
            switch n.opType {
            case "Identity", "Dropout", "Pad":
                return distribution(x, depth: depth + 1)
            case "Add" where n.inputs.count == 2:
                // A residual sum: each side's channels matched to a normal law, then added.
                guard let a = distribution(n.inputs[0], depth: depth + 1), let b = distribution(n.inputs[1], depth: depth + 1),
                    a.channels.count == b.channels.count
                else { return nil }
                return Distribution(channels: zip(a.channels, b.channels).map { Self.moments(a, $0) + Self.moments(b, $1) })
            default:
                return nil
            }
        }

        /// The elementwise function an activation node computes (read by the rewrite layer's
        /// `ActivationDescriptor`), if it is one this follows.
        static func activation(_ n: Node, opset: Int64, constants: Constants) -> ((Double) -> Double)? {
            guard let d = ActivationDescriptor(n, opset: opset, constants: constants) else { return nil }
            let alpha = Double(d.alpha), beta = Double(d.beta)
            switch d.kind {
            case .relu: return { max($0, 0) }
            case .leakyRelu: return { $0 >= 0 ? $0 : alpha * $0 }
            case .hardSwish: return { $0 * min(max($0 + 3, 0), 6) / 6 }
            case .hardSigmoid: return { min(max(alpha * $0 + beta, 0), 1) }
            case .sigmoid: return { 1 / (1 + exp(-$0)) }
            case .tanh: return { tanh($0) }
            case .clip: return { min(max($0, alpha), beta) }
            case .swish, .gelu: return nil
            }
        }

        /// A channel of `d` as the normal law with its mean and variance.
        static func moments(_ d: Distribution, _ c: Channel) -> Channel {
            guard !d.functions.isEmpty else { return c }
            let points = BatchNormRanges.normalPoints
            let mean = points.reduce(0) { $0 + $1.weight * d.value(c, $1.z) }
            let variance = points.reduce(0) { $0 + $1.weight * (d.value(c, $1.z) - mean) * (d.value(c, $1.z) - mean) }
            return Channel(mean: mean, deviation: variance.squareRoot())
        }
    }
}

extension BatchNormRanges.Channel {
    /// The law of the sum of two independent normal variables.
    static func + (a: Self, b: Self) -> Self {
        Self(mean: a.mean + b.mean, deviation: (a.deviation * a.deviation + b.deviation * b.deviation).squareRoot())
    }
}
