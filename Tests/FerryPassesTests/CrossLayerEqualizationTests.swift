import FerryIR
import FerryRuntime
import FerryTestSupport
import Testing

@testable import FerryPasses

/// Cross-layer equalization on the digits CNN: the float model computes the same probabilities,
/// the pairs' ranges end balanced (a second pass changes nothing), and static int8 after it keeps
/// the accuracy bound.
@Suite struct CrossLayerEqualizationTests {
    func probabilities(_ m: Model) throws -> [Float] {
        let session = try InferenceSession(model: m)
        return try session.run([session.inputs[0].name: DigitsFixture.testX])[0].tensor.floatValues!
    }

    @Test func sameFunctionAndBalancedRanges() throws {
        var notes: [String] = []
        let prepared = try QuantizationPreparation.prepare(DigitsFixture.model, notes: &notes)
        var equalized = prepared
        let pairs = CrossLayerEqualization.run(on: &equalized.graph).pairs
        #expect(pairs >= 1)
        let changed = zip(prepared.graph.initializers, equalized.graph.initializers).filter { $0.floatValues != $1.floatValues }
            .count
        #expect(changed >= 2, "weights of at least one pair rescaled")
        let a = try probabilities(prepared), b = try probabilities(equalized)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "largest probability difference \(worst)")
        // balanced: another pass leaves every weight where it was (up to rounding)
        var again = equalized
        _ = CrossLayerEqualization.run(on: &again.graph, rounds: 1)
        for (t, u) in zip(equalized.graph.initializers, again.graph.initializers) {
            guard let x = t.floatValues, let y = u.floatValues else { continue }
            let drift = zip(x, y).map { abs($0 - $1) / max(abs($0), 1e-6) }.max() ?? 0
            #expect(drift < 1e-3, "\(t.name) moved by \(drift) on a second pass")
        }
    }

    @Test func staticInt8AfterEqualizationKeepsAccuracy() throws {
        let options = QuantizationOptions() // equalization is on by default
        let (m, report) = try Quantizer(options: options).quantize(DigitsFixture.model, samples: DigitsFixture.calibration)
        #expect(report.notes.contains { $0.hasPrefix("cross-layer equalization:") && $0.contains("equalized") })
        let acc = try DigitsFixture.accuracy(m)
        #expect(DigitsFixture.floatAccuracy - acc <= 0.5, "\(acc)%")
    }
}
