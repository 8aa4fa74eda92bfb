import FerryIR
import Foundation

/// Activation ranges from calibration samples: the float model is run on each sample and every
/// tensor to be quantized is observed (min/max, then histograms for percentile and entropy).
enum Calibration {
    /// Histogram bins for percentile and entropy.
    static let bins = 2048

    /// The real range [lo, hi] to quantize each of `tensors` with.
    static func ranges(
        _ model: Model, tensors: [String], samples: [[String: Tensor]],
        options: QuantizationOptions
    ) throws -> [String: (lo: Float, hi: Float)] {
        let probe = try TensorProbe(model, probing: tensors)
        var lo: [String: Float] = [:], hi: [String: Float] = [:]
        try Progress.forEach(samples, "calibrating: ranges") { sample in
            let values = try probe.run(sample)
            for t in tensors {
                guard let v = values[t] else { continue }
                var a = lo[t] ?? .infinity, b = hi[t] ?? -.infinity
                for x in v where x.isFinite {
                    a = min(a, x)
                    b = max(b, x)
                }
                lo[t] = a
                hi[t] = b
            }
        }
        for t in tensors where lo[t] == nil || !(lo[t]!.isFinite) {
            throw PassError.calibration(file: "samples", reason: "tensor '\(t)' was not computed or never finite")
        }
        guard options.method != .minmax else { return lo.reduce(into: [:]) { $0[$1.key] = ($1.value, hi[$1.key]!) } }

        // Second pass: histograms over [lo, hi] (percentile) or of |x| over [0, max |x|] (entropy).
        var histograms: [String: [Double]] = [:]
        func edges(_ t: String) -> (Float, Float) {
            options.method == .entropy ? (0, max(abs(lo[t]!), abs(hi[t]!))) : (lo[t]!, hi[t]!)
        }
        try Progress.forEach(samples, "calibrating: histograms") { sample in
            let values = try probe.run(sample)
            for t in tensors {
                guard let v = values[t] else { continue }
                let (a, b) = edges(t)
                let width = (b - a) / Float(bins)
                var h = histograms[t] ?? [Double](repeating: 0, count: bins)
                // Entropy leaves exact zeros out: zero is always exact, and the spike Relu makes at 0
                // would pull the threshold down.
                for x in v where x.isFinite && !(options.method == .entropy && x == 0) {
                    let y = options.method == .entropy ? abs(x) : x
                    let i = width > 0 ? Int((y - a) / width) : 0
                    h[min(max(i, 0), bins - 1)] += 1
                }
                histograms[t] = h
            }
        }
        var result: [String: (lo: Float, hi: Float)] = [:]
        for t in tensors {
            let (a, b) = edges(t)
            let h = histograms[t]!
            if options.method == .percentile {
                result[t] = percentileRange(h, lo: a, hi: b, percent: options.percentile)
            } else {
                let unsigned = lo[t]! >= 0
                let threshold = entropyThreshold(h, max: b, levels: unsigned ? 256 : 128)
                result[t] = (unsigned ? 0 : max(lo[t]!, -threshold), min(hi[t]!, threshold))
            }
        }
        return result
    }

    /// The range between the (100 - p)th and pth percentiles of a histogram over [lo, hi].
    static func percentileRange(_ h: [Double], lo: Float, hi: Float, percent: Double) -> (lo: Float, hi: Float) {
        let total = h.reduce(0, +)
        let width = (hi - lo) / Float(h.count)
        let tail = total * (100 - percent) / 100
        var below = 0.0, first = 0
        while first < h.count - 1 && below + h[first] <= tail {
            below += h[first]
            first += 1
        }
        var above = 0.0, last = h.count - 1
        while last > first && above + h[last] <= tail {
            above += h[last]
            last -= 1
        }
        return (lo + Float(first) * width, lo + Float(last + 1) * width)
    }

    /// The clipping threshold for a histogram of |x| over [0, max] that minimises KL(P || Q): P is
    /// the histogram cut at the threshold with the clipped mass added to its last bin, Q the cut
    /// histogram (without that mass) merged into `levels` levels and spread back over the non-empty
    /// bins of each level. Thresholds are tried every `step` bins.
    static func entropyThreshold(_ h: [Double], max: Float, levels: Int, step: Int = 8) -> Float {
        let n = h.count
        guard n > levels else { return max }
        var best = Double.infinity, bestBins = n
        var suffix = [Double](repeating: 0, count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + h[i] }
        var kept = levels
        while true {
            let divergence = klDivergence(h, kept: kept, clipped: suffix[kept], levels: levels)
            if divergence < best {
                best = divergence
                bestBins = kept
            }
            if kept == n { break }
            kept = min(kept + step, n)
        }
        return max * Float(bestBins) / Float(n)
    }

    private static func klDivergence(_ h: [Double], kept: Int, clipped: Double, levels: Int) -> Double {
        let total = h[0..<kept].reduce(0, +) + clipped
        guard total > 0 else { return 0 }
        var q = [Double](repeating: 0, count: kept)
        let per = Double(kept) / Double(levels)
        for l in 0..<levels {
            let start = Int((Double(l) * per).rounded(.down)),
                end = l == levels - 1 ? kept : Int((Double(l + 1) * per).rounded(.down))
            guard end > start else { continue }
            var mass = 0.0, nonEmpty = 0
            for i in start..<end where h[i] > 0 {
                mass += h[i]
                nonEmpty += 1
            }
            guard nonEmpty > 0 else { continue }
            for i in start..<end where h[i] > 0 { q[i] = mass / Double(nonEmpty) }
        }
        let qTotal = q.reduce(0, +)
        guard qTotal > 0 else { return .infinity }
        var d = 0.0
        for i in 0..<kept {
            let p = (h[i] + (i == kept - 1 ? clipped : 0)) / total
            guard p > 0 else { continue }
            guard q[i] > 0 else { return .infinity }
            d += p * log(p / (q[i] / qTotal))
        }
        return d
    }
}
