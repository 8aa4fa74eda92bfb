import FerryIR

/// A per-channel affine map y = x * scale[c] + shift[c] that a node applies to its input: an
/// inference-mode BatchNormalization, or a Mul or an Add by a per-channel constant.
public struct ChannelAffine {
    /// nil means 1 for every channel.
    public var scale: [Float]?
    /// nil means 0 for every channel.
    public var shift: [Float]?

    /// The map `consumer` applies to `input` (whose channel axis is 1 and which has `channels`
    /// channels); Mul and Add only when `rank` (the input's rank) is given. nil when `consumer` is
    /// no such map or its parameters are not fixed float32 constants of the right size.
    public init?(_ consumer: Node, input: String, channels m: Int, rank: Int?, constants: Constants) {
        guard consumer.subgraphs.isEmpty, consumer.outputs.dropFirst().allSatisfy(\.isEmpty) else { return nil }
        if consumer.isONNX("BatchNormalization") {
            guard consumer.inputs.count == 5, consumer.inputs[0] == input, consumer.int("training_mode", 0) == 0 else {
                return nil
            }
            let p = consumer.inputs.dropFirst().map { ChannelAffine.vector(constants[$0], m) }
            guard let g = p[0], let b = p[1], let mean = p[2], let v = p[3] else { return nil }
            let eps = consumer.float("epsilon", 1e-5)
            let s = (0..<m).map { g[$0] / (v[$0] + eps).squareRoot() }
            scale = s
            shift = (0..<m).map { b[$0] - mean[$0] * s[$0] }
        } else if consumer.isONNX("Mul") || consumer.isONNX("Add") {
            guard let rank, consumer.inputs.count == 2, consumer.inputs.filter({ $0 == input }).count == 1 else { return nil }
            let other = consumer.inputs[0] == input ? consumer.inputs[1] : consumer.inputs[0]
            guard let c = constants[other], let values = ChannelAffine.perChannel(c, channels: m, rank: rank) else { return nil }
            if consumer.isONNX("Mul") { scale = values } else { shift = values }
        } else {
            return nil
        }
    }

    /// The values of a float32 tensor of exactly `m` elements.
    private static func vector(_ t: Tensor?, _ m: Int) -> [Float]? {
        guard let v = t?.floatValues, v.count == m else { return nil }
        return v
    }

    /// The per-channel values of a constant broadcast against a value of `rank` axes whose axis 1
    /// has `m` channels: a single value, or m values on axis 1 only (the result keeps its shape).
    private static func perChannel(_ c: Tensor, channels m: Int, rank: Int) -> [Float]? {
        guard let v = c.floatValues, c.shape.count <= rank else { return nil }
        if v.count == 1 { return [Float](repeating: v[0], count: m) }
        let padded = [Int](repeating: 1, count: rank - c.shape.count) + c.shape
        guard rank >= 2, padded[1] == m, padded.enumerated().allSatisfy({ $0.offset == 1 || $0.element == 1 }) else { return nil }
        return v
    }

    /// Bias after the map: b[o] * scale[o] + shift[o] (b absent counts as 0).
    public func bias(_ b: [Float]?, channels m: Int) -> [Float] {
        (0..<m).map { o in (b?[o] ?? 0) * (scale?[o] ?? 1) + (shift?[o] ?? 0) }
    }
}
