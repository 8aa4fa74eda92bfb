import FerryIR
import FerryRuntime
import Foundation
import Testing

@testable import FerryPasses

/// Activation ranges predicted from batch-norm statistics: the normal law's points, the walk
/// through activations and residual sums against closed forms, equalization's rescaling, the
/// blend, and the quantizer using them.
@Suite struct BatchNormRangesTests {
    /// x -> BatchNormalization(scale, bias) per channel -> `tail` nodes.
    func model(scale: [Float], bias: [Float], tail: [Node], extra: [Tensor] = [], outputs: [String]) -> Model {
        let c = scale.count
        let bn = Node(opType: "BatchNormalization", name: "bn", inputs: ["x", "g", "b", "m", "v"], outputs: ["y"])
        return Build.model(
            [bn] + tail,
            initializers: [
                Tensor(name: "g", floats: scale, shape: [c]), Tensor(name: "b", floats: bias, shape: [c]),
                Tensor(name: "m", floats: [Float](repeating: 0.5, count: c), shape: [c]),
                Tensor(name: "v", floats: [Float](repeating: 4, count: c), shape: [c])
            ] + extra, inputs: [("x", [1, c, 4, 4])], outputs: outputs)
    }

    /// The percentile lies in the slice of the normal law holding it: between these two z.
    let z9999 = (BatchNormRanges.inverseNormal(0.9997), BatchNormRanges.inverseNormal(0.9999))

    @Test func normalPointsAreTheStandardNormalLaw() {
        #expect(abs(BatchNormRanges.inverseNormal(0.975) - 1.959964) < 1e-5)
        #expect(abs(BatchNormRanges.inverseNormal(0.001) + 3.090232) < 1e-5)
        let points = BatchNormRanges.normalPoints
        #expect(abs(points.reduce(0) { $0 + $1.weight } - 1) < 1e-12)
        #expect(abs(points.reduce(0) { $0 + $1.weight * $1.z }) < 1e-9, "mean 0")
        let variance = points.reduce(0) { $0 + $1.weight * $1.z * $1.z }
        #expect(abs(variance - 1) < 0.03, "variance \(variance)")
    }

    @Test func batchNormOutputFollowsItsScaleAndBias() {
        let m = model(scale: [-2], bias: [1], tail: [], outputs: ["y"])
        let r = BatchNormRanges(m).ranges(m.graph, opset: 17, tensors: ["y"], percent: 99.99)["y"]!
        #expect(Double(r.hi) >= 1 + 2 * z9999.0 - 1e-5 && Double(r.hi) <= 1 + 2 * z9999.1 + 1e-5, "\(r)")
        #expect(Double(r.lo) <= 1 - 2 * z9999.0 + 1e-5 && Double(r.lo) >= 1 - 2 * z9999.1 - 1e-5, "\(r)")
    }

    @Test func activationsPadAndResidualSumsAreFollowed() {
        let tail = [
            Node(opType: "Relu", name: "relu", inputs: ["y"], outputs: ["r"]),
            Node(opType: "Pad", name: "pad", inputs: ["r", "pads"], outputs: ["p"]),
            Node(opType: "HardSwish", name: "hs", inputs: ["y"], outputs: ["h"]),
            Node(opType: "Add", name: "sum", inputs: ["y", "y2"], outputs: ["s"]),
            Node(
                opType: "BatchNormalization", name: "bn2", inputs: ["x", "g", "zero", "m", "v"], outputs: ["y2"]),
            Node(opType: "Mul", name: "gate", inputs: ["y", "h"], outputs: ["g2"])
        ]
        let m = model(
            scale: [1, 3], bias: [-1, 0], tail: tail,
            extra: [
                Tensor(name: "pads", elementType: .int64, shape: [8], values: [Int64]([0, 0, 1, 1, 0, 0, 1, 1])),
                Tensor(name: "zero", floats: [0, 0], shape: [2])
            ], outputs: ["p", "h", "s", "g2"])
        let r = BatchNormRanges(m).ranges(m.graph, opset: 17, tensors: ["p", "h", "s", "g2"], percent: 99.99)
        // Relu: nothing below 0; the widest channel (scale 3, bias 0) sets the top
        #expect(r["p"]!.lo == 0)
        #expect(Double(r["p"]!.hi) >= 3 * z9999.0 - 1e-5 && Double(r["p"]!.hi) <= 3 * z9999.1 + 1e-5, "\(r["p"]!)")
        // HardSwish's smallest value is -3/8
        #expect(abs(r["h"]!.lo + 0.375) < 1e-3, "\(r["h"]!)")
        // y + y2: channel 1 is N(0, 3^2 + 3^2)
        let sumDeviation = (18.0).squareRoot()
        #expect(Double(r["s"]!.hi) >= sumDeviation * z9999.0 - 1e-4 && Double(r["s"]!.hi) <= sumDeviation * z9999.1 + 1e-4)
        // products end the walk
        #expect(r["g2"] == nil)
    }

    @Test func equalizationDivisorsScaleThePrediction() {
        let m = model(scale: [2, 2], bias: [0, 0], tail: [], outputs: ["y"])
        var b = BatchNormRanges(m)
        let before = b.ranges(m.graph, opset: 17, tensors: ["y"], percent: 99.99)["y"]!
        b.divide(["y": [2, 4]])
        let after = b.ranges(m.graph, opset: 17, tensors: ["y"], percent: 99.99)["y"]!
        #expect(abs(after.hi - before.hi / 2) < 1e-5 && abs(after.lo - before.lo / 2) < 1e-5, "\(before) -> \(after)")
    }

    @Test func blendInterpolatesEndsOfOneSignByTheSampleCount() {
        // 8 samples weigh as much as the prediction: the geometric mean
        let r = BatchNormRanges.blend((lo: -4, hi: 9), (lo: -1, hi: 4), samples: 8)
        #expect(abs(r.lo + 2) < 1e-5 && abs(r.hi - 6) < 1e-5, "\(r)")
        let zero = BatchNormRanges.blend((lo: 0, hi: 9), (lo: -1, hi: 1), samples: 8)
        #expect(zero.lo == 0 && abs(zero.hi - 3) < 1e-5)
        // 56 samples: 7/8 of the way to the calibrated end (in logarithms)
        let many = BatchNormRanges.blend((lo: -1, hi: 256), (lo: -1, hi: 1), samples: 56)
        #expect(many.lo == -1 && abs(many.hi - 128) < 1e-3, "\(many)")
    }

    @Test func quantizerMovesRangesOnlyWhenAsked() throws {
        // Conv -> BatchNormalization -> Relu -> Conv: the second Conv's input range is predicted.
        let c = 4
        let nodes = [
            Node(opType: "Conv", name: "conv1", inputs: ["x", "w1"], outputs: ["c1"]),
            Node(
                opType: "BatchNormalization", name: "bn", inputs: ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"],
                outputs: ["b"]),
            Node(opType: "Relu", name: "relu", inputs: ["b"], outputs: ["r"]),
            Node(opType: "Conv", name: "conv2", inputs: ["r", "w2"], outputs: ["y"])
        ]
        let m = Build.model(
            nodes,
            initializers: [Build.random("w1", [c, 3, 3, 3], seed: 1), Build.random("w2", [2, c, 1, 1], seed: 2)]
                + Build.batchNorm("bn", c, seed: 3), inputs: [("x", [2, 3, 8, 8])], outputs: ["y"])
        let samples = [["x": Build.random("x", [2, 3, 8, 8], seed: 9)]]
        var options = QuantizationOptions()
        options.keepEdgeLayersFloat = false
        options.equalize = false
        let (with, report) = try Quantizer(options: options).quantize(m, samples: samples)
        #expect(report.notes.contains { $0.contains("batch-norm statistics: 1 of 2 activation ranges") }, "\(report.notes)")
        options.batchNormRanges = false
        let (without, plain) = try Quantizer(options: options).quantize(m, samples: samples)
        #expect(!plain.notes.contains { $0.contains("batch-norm statistics") })
        func scale(_ m: Model, _ name: String) -> Float? { m.graph.initializer(named: name)?.floatValues?.first }
        #expect(scale(with, "x_scale") == scale(without, "x_scale"), "the input follows no batch norm")
        #expect(scale(with, "r_scale") != scale(without, "r_scale"))
    }
}
