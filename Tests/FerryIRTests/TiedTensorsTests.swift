import FerryIR
import Testing

/// Tied weights recorded as `ferry.alias.NAME` metadata: a tie holds only while the alias still
/// has its target's elements; dropping and restoring give back the same tensors.
@Suite struct TiedTensorsTests {
    let embedding = Tensor(name: "wte", elementType: .float, shape: [2, 2], values: [Float](arrayLiteral: 1, 2, 3, 4))
    let record = [KeyValue("ferry.alias.lm_head", "wte"), KeyValue("epoch", "3")]

    func named(_ name: String, _ t: Tensor) -> Tensor {
        var t = t
        t.name = name
        return t
    }

    @Test func aHoldingTieIsStoredOnceAndRestored() {
        let tensors = [embedding, named("lm_head", embedding)]
        #expect(TiedTensors.aliases(in: record) == ["lm_head": "wte"])
        let stored = TiedTensors.withoutCopies(tensors, metadata: record)
        #expect(stored.map(\.name) == ["wte"])
        #expect(TiedTensors.restored(stored, metadata: record) == tensors)
        // restoring never replaces a tensor that is present
        #expect(TiedTensors.restored(tensors, metadata: record) == tensors)
    }

    @Test func aTensorThatNoLongerMatchesIsKept() {
        let changed = Tensor(name: "lm_head", elementType: .float, shape: [2, 2], values: [Float](arrayLiteral: 1, 2, 3, 5))
        let reshaped = Tensor(name: "lm_head", elementType: .float, shape: [4], values: [Float](arrayLiteral: 1, 2, 3, 4))
        for other in [changed, reshaped] {
            #expect(TiedTensors.ties(in: [embedding, other], aliases: ["lm_head": "wte"]).isEmpty)
            #expect(TiedTensors.withoutCopies([embedding, other], metadata: record).count == 2)
        }
    }

    @Test func chainsAndMissingTargetsAreNotTies() {
        let tensors = [embedding, named("a", embedding), named("b", embedding)]
        // b -> a -> wte: only a's tie holds (b names an alias), so b is stored
        let chain = TiedTensors.ties(in: tensors, aliases: ["a": "wte", "b": "a"])
        #expect(chain == ["a": "wte"])
        #expect(TiedTensors.restored([embedding], metadata: [KeyValue("ferry.alias.x", "missing")]) == [embedding])
        #expect(TiedTensors.ties(in: tensors, aliases: ["wte": "wte"]).isEmpty)
    }
}
