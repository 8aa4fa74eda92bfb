import FerryIR
import FerryTestSupport
import Testing

@testable import FerryPasses

/// The arithmetic of quantization parameters, weight quantization and range calibration.
@Suite struct QuantizationMathTests {
    @Test func asymmetricParametersCoverTheRangeAndKeepZeroExact() {
        // [-1, 3] over 255 uint8 steps: scale 4/255, zero at level round(255/4) = 64.
        let u = QuantParameters.asymmetric(lo: -1, hi: 3, type: .uint8)
        #expect(u.scale == Float(4) / 255)
        #expect(u.zeroPoint == 64)
        #expect(u.quantize(0, type: .uint8) == 64)
        #expect(u.quantize(-5, type: .uint8) == 0)
        #expect(u.quantize(100, type: .uint8) == 255)
        let s = QuantParameters.asymmetric(lo: -1, hi: 3, type: .int8)
        #expect(s.zeroPoint == -64)
        // A range that excludes 0 is widened to include it (Relu outputs start at exactly 0).
        let r = QuantParameters.asymmetric(lo: 0.5, hi: 2, type: .uint8)
        #expect(r.zeroPoint == 0)
        #expect(r.scale == Float(2) / 255)
        // Ties round to even, like QuantizeLinear.
        let one = QuantParameters(scale: 1, zeroPoint: 0)
        #expect(one.quantize(2.5, type: .uint8) == 2)
        #expect(one.quantize(3.5, type: .uint8) == 4)
    }

    @Test func perChannelWeightsUseEachChannelsOwnRange() throws {
        var rng = SplitMix64(seed: 7)
        let shape = [4, 3, 3, 3]
        var w = (0..<108).map { _ in Float.random(in: -1...1, using: &rng) }
        for i in 27..<54 { w[i] *= 0.01 } // a channel 100x smaller than the others
        let q = try QuantizedWeight(Tensor(name: "w", floats: w, shape: shape), name: "w_q", axis: 0)
        #expect(q.scales.count == 4)
        let ints = q.values.bytes!.toArray(of: Int8.self)
        let back = q.dequantized()
        for c in 0..<4 {
            let slice = (c * 27)..<((c + 1) * 27)
            #expect(slice.map { abs(Int(ints[$0])) }.max() == 127)
            for i in slice { #expect(abs(back[i] - w[i]) <= q.scales[c] / 2 * 1.0001) }
        }
        // Per tensor, the small channel would have lost almost all its resolution.
        let perTensor = try QuantizedWeight(Tensor(name: "w", floats: w, shape: shape), name: "w_q", axis: nil)
        let small = perTensor.values.bytes!.toArray(of: Int8.self)[27..<54]
        #expect(small.map { abs(Int($0)) }.max()! <= 2)
        #expect(ErrorMeasures.sqnr(w, back) > ErrorMeasures.sqnr(w, perTensor.dequantized()))
    }

    @Test func biasScaleIsInputScaleTimesWeightScale() throws {
        let b = Tensor(name: "b", floats: [0.5, -0.25], shape: [2])
        let (q, scales) = try quantizeBias(b, name: "b_q", inputScale: 0.1, weightScales: [0.01, 0.02])
        #expect(scales == [Float(0.1) * 0.01, Float(0.1) * 0.02])
        #expect(q.bytes!.toArray(of: Int32.self) == [500, -125])
    }

    @Test func percentileRangeDropsRareOutliers() {
        // 10000 values spread over [0, 1) and 5 outliers at 100: the 99.9th percentile ignores them.
        var h = [Double](repeating: 0, count: 2048)
        let width = Float(100) / 2048
        for i in 0..<10000 { h[Int(Float(i) / 10000 / width)] += 1 }
        h[2047] += 5
        let r = Calibration.percentileRange(h, lo: 0, hi: 100, percent: 99.9)
        #expect(r.lo == 0)
        #expect(r.hi < 1.1)
        #expect(Calibration.percentileRange(h, lo: 0, hi: 100, percent: 100).hi == 100)
    }

    @Test func entropyThresholdClipsALongTailButNotABulk() {
        // Most mass near 0 with a thin tail to the end: the threshold falls well inside.
        var tail = [Double](repeating: 0, count: 2048)
        for i in 0..<2048 { tail[i] = i < 200 ? 1000 : 0.01 }
        let t = Calibration.entropyThreshold(tail, max: 10, levels: 128)
        #expect(t < 5)
        #expect(t > 0.5)
        // Mass spread evenly to the end: nothing to clip.
        let flat = [Double](repeating: 10, count: 2048)
        #expect(Calibration.entropyThreshold(flat, max: 10, levels: 128) > 9.9)
    }
}
