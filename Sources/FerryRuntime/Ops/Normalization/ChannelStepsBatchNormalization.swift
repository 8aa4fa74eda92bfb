import CKernels
import FerryIR

/// An inference BatchNormalization that `Fusion` gave the per-channel steps following it: Mul and
/// Add by constants (inputs 5 and up, in order; `ChannelSteps.attribute` says which is which) and
/// then an optional Relu. When every constant is per-channel for the input's rank (one value, or C
/// values on axis 1 only) all of it runs in one pass over the data, each row finished while it is
/// in cache; otherwise the steps run one after the other, as the separate ops would. Either way each
/// step rounds as its own op did, so the numbers are the same as unfused.
final class ChannelStepsBatchNormalizationKernel: Kernel {
    private let plain: Kernel
    private let epsilon: Double
    /// Per step: true for Mul, false for Add.
    private let multiplies: [Bool]
    private let relu: Bool

    init(_ spec: NodeSpec, plain: Kernel) throws {
        self.plain = plain
        epsilon = Double(try spec.float("epsilon", 1e-5))
        multiplies = (try spec.ints(ChannelSteps.attribute) ?? []).map { $0 == ChannelSteps.mul }
        relu = try spec.int(FusedActivation.attribute, 0) == Int(FERRY_ACT_RELU.rawValue)
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0, "X")
        let normalization = Array(inputs.prefix(5))
        let operands = try multiplies.indices.map { try inputs.required(5 + $0, multiplies[$0] ? "Mul operand" : "Add operand") }
        if x.type == .float, x.rank >= 2, operands.allSatisfy({ ChannelSteps.isPerChannel($0, of: x) }) {
            return [try fused(x, normalization, operands, ctx)]
        }
        guard var y = try plain.run(normalization, ctx).first ?? nil else { throw KernelError.invalid("no output") }
        for (mul, c) in zip(multiplies, operands) {
            y = mul ? try arith(MulRule.self, y, c, ctx) : try arith(AddRule.self, y, c, ctx)
        }
        return [relu ? try UnaryOps.relu(y, ctx) : y]
    }

    private func fused(_ x: Value, _ inputs: [Value?], _ operands: [Value], _ ctx: ExecutionContext) throws -> Value {
        let y = try ctx.allocate(.float, x.shape)
        let channels = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
        guard x.count > 0, inner > 0 else { return y }
        let (a, b) = try NormalizationOps.inferenceCoefficients(inputs, channels: channels, epsilon: epsilon, ctx)
        let af = a.map { Float($0) }, bf = b.map { Float($0) }
        // Step values per channel, step after step.
        var values = [Float](repeating: 0, count: operands.count * channels)
        for (s, c) in operands.enumerated() {
            for k in 0..<channels { values[s * channels + k] = c.floats[c.count == 1 ? 0 : k] }
        }
        let src = x.floats, dst = y.floats, steps = multiplies, relu = relu
        let act = Int32(FERRY_ACT_RELU.rawValue)
        af.withUnsafeBufferPointer { ap in
            bf.withUnsafeBufferPointer { bp in
                values.withUnsafeBufferPointer { vp in
                    ctx.parallel(x.count / inner, itemElements: inner) { r in
                        for s in r {
                            let k = s % channels, row = dst + s * inner
                            NormalizationMath.affine(src + s * inner, row, inner, ap[k], bp[k])
                            for (i, mul) in steps.enumerated() {
                                let v = vp[i * channels + k]
                                if mul {
                                    for p in 0..<inner { row[p] = row[p] * v }
                                } else {
                                    for p in 0..<inner { row[p] = row[p] + v }
                                }
                            }
                            if relu { ferry_scale_bias_act(row, 1, inner, inner, nil, nil, act, 0, 0) }
                        }
                    }
                }
            }
        }
        return y
    }
}

/// How `Fusion` records the steps an inference BatchNormalization took over.
enum ChannelSteps {
    /// Int list attribute: one entry per step input (inputs 5 and up), `mul` or `add`.
    static let attribute = "ferry.channel_steps"
    static let mul = 0
    static let add = 1

    /// True when `c` broadcast against `x` (rank >= 2) scales or shifts each channel (axis 1) by one
    /// value without changing `x`'s shape.
    static func isPerChannel(_ c: Value, of x: Value) -> Bool {
        guard c.type == .float, c.rank <= x.rank else { return false }
        if c.count == 1 { return true }
        let padded = [Int](repeating: 1, count: x.rank - c.rank) + c.shape
        return padded[1] == x.shape[1] && padded.enumerated().allSatisfy { $0.offset == 1 || $0.element == 1 }
    }
}
