import FerryIR

/// What a pruning run did: per layer, per channel group, and for the whole model.
public struct PruneReport: Encodable, Sendable {
    /// One weight-reading node (Conv, ConvTranspose, Gemm, MatMul).
    public struct Layer: Encodable, Sendable {
        public var node: String
        public var op: String
        public var weight: String
        public var shapeBefore: [Int]
        public var shapeAfter: [Int]
        /// Magnitude: fraction of the weight's elements that are zero afterwards.
        public var zerosFraction: Double?
        /// Channels: output channels before, and kept.
        public var channelsBefore: Int?
        public var channelsKept: Int?
        /// True when the layer's weight changed.
        public var pruned: Bool
        /// Why the layer was left alone, or how it followed another layer.
        public var reason: String?
    }

    /// Layers whose output channels are joined (residual Add, squeeze-excite Mul, ...) and so
    /// must lose the same channels.
    public struct ChannelGroup: Encodable, Sendable {
        public var layers: [String]
        public var channels: Int
        public var kept: Int
        /// True when the group was pruned with one shared channel mask.
        public var pruned: Bool
        /// Why the group was left alone.
        public var reason: String?
    }

    public var method: String
    /// Magnitude only: layer or global.
    public var scope: String?
    public var sparsity: Double
    public var minElements: Int
    public var exclude: [String]
    public var layers: [Layer] = []
    public var groups: [ChannelGroup] = []
    public var before: ModelCost
    public var after: ModelCost
    /// Magnitude: fraction of zeros over all pruned weights together.
    public var prunedWeightsZerosFraction: Double?
    /// Sizes of the input and output files, filled in by whoever writes them.
    public var fileBytesBefore: Int?
    public var fileBytesAfter: Int?
    public var notes: [String] = []

    /// A screen summary: one line per layer, the groups, and the totals.
    public var text: String {
        var lines: [String] = []
        func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ",") + "]" }
        func percent(_ x: Double) -> String {
            String(Int((x * 1000).rounded()) / 10) + "." + String(Int((x * 1000).rounded()) % 10) + "%"
        }
        lines.append("\(method) pruning, sparsity \(sparsity)\(scope.map { ", \($0) scope" } ?? "")")
        for l in layers {
            var what: String
            if let z = l.zerosFraction {
                what = "zeros \(percent(z))"
            } else if let c = l.channelsBefore, let k = l.channelsKept {
                what = "channels \(k)/\(c)"
            } else {
                what = shape(l.shapeBefore) == shape(l.shapeAfter) ? "" : "\(shape(l.shapeBefore)) -> \(shape(l.shapeAfter))"
            }
            if let r = l.reason { what += (what.isEmpty ? "" : "  ") + (l.pruned ? "(\(r))" : "kept: \(r)") }
            lines.append("  \(l.node) (\(l.op)) \(shape(l.shapeAfter))  \(what)")
        }
        for g in groups {
            let status =
                g.pruned
                ? "pruned \(g.layers.count > 1 ? "together" : "consistently"), \(g.kept)/\(g.channels) channels"
                : "left alone: \(g.reason ?? "")"
            lines.append("  group \(g.layers.joined(separator: " + ")): \(status)")
        }
        if let z = prunedWeightsZerosFraction { lines.append("zeros over the pruned weights: \(percent(z))") }
        lines.append(
            "parameters: \(grouped(before.parameters)) -> \(grouped(after.parameters)) (nonzero \(grouped(before.nonzeroParameters)) -> \(grouped(after.nonzeroParameters)))"
        )
        if let a = before.multiplyAdds, let b = after.multiplyAdds {
            lines.append("multiply-adds: \(grouped(a)) -> \(grouped(b))")
        }
        if let a = fileBytesBefore, let b = fileBytesAfter { lines.append("file bytes: \(grouped(a)) -> \(grouped(b))") }
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}
