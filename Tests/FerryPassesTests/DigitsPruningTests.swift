import FerryIR
import FerryPasses
import Testing

/// Pruning judged on the digits CNN's held-out test split: the accuracy drop of 50% magnitude
/// pruning (no fine-tuning) is measured and reported, and must stay moderate.
@Suite struct DigitsPruningTests {
    @Test(arguments: [PruneScope.layer, .global])
    func halfTheWeightsZeroedKeepMostOfTheAccuracy(scope: PruneScope) throws {
        var model = DigitsFixture.model
        let report = try Pruning.prune(
            &model, options: PruneOptions(sparsity: 0.5, method: .magnitude, scope: scope, minElements: 0))
        let pruned = report.layers.filter(\.pruned)
        #expect(pruned.count == 5)
        if scope == .layer { #expect(pruned.allSatisfy { abs(($0.zerosFraction ?? 0) - 0.5) < 0.01 }) }
        let accuracy = try DigitsFixture.accuracy(model)
        let drop = DigitsFixture.floatAccuracy - accuracy
        print(
            "digits CNN, 50% magnitude pruning (\(scope)): accuracy \(accuracy)% (float \(DigitsFixture.floatAccuracy)%), drop \(drop) points"
        )
        #expect(drop <= 5, "drop \(drop) points")
    }
}
