import Ferry
import FerryIR
import FerryRuntime
import FerryTestSupport
import Foundation
import Testing

/// `InferenceSession.run` called from several threads at once on one session: the outputs are
/// those of serial runs, bit for bit (issue 15 part 6's soak test).
@Suite struct ConcurrentRunTests {
    /// A real trained model (the digits CNN) and a bidirectional LSTM, each fed batches of 1-4.
    static let models = [("digits/digits_cnn.h5", [8, 8, 1]), ("keras/bidirectional.h5", [6, 4])]

    private static func feeds(_ session: InferenceSession, batch: Int, shape: [Int], seed: UInt64) -> [String: Tensor] {
        var random = SplitMix64(seed: seed)
        let dims = [batch] + shape
        let values = (0..<dims.reduce(1, *)).map { _ in random.nextUnitFloat() * 2 - 1 }
        let name = session.inputs[0].name
        return [name: Tensor(name: name, elementType: .float, shape: dims, values: values)]
    }

    @Test func fourThreadsOf200RunsMatchSerialRuns() throws {
        let sessions = try Self.models.map { file, _ in
            try InferenceSession(model: try ModelIO.load(TestSupport.fixture(file)).model, options: SessionOptions(threads: 2))
        }
        // Serial reference: every (model, batch) pair once.
        var inputs: [[[String: Tensor]]] = []
        var expected: [[[Tensor]]] = []
        for (m, session) in sessions.enumerated() {
            let byBatch = (1...4).map { Self.feeds(session, batch: $0, shape: Self.models[m].1, seed: UInt64(m * 10 + $0)) }
            inputs.append(byBatch)
            expected.append(try byBatch.map { try session.run($0).map(\.tensor) })
        }
        final class Mismatches: @unchecked Sendable {
            var lock = NSLock()
            var items: [String] = []
            func add(_ s: String) { lock.withLock { items.append(s) } }
        }
        let mismatches = Mismatches()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for run in 0..<200 {
                let m = (thread + run) % 2, b = (thread + run / 2) % 4
                do {
                    let got = try sessions[m].run(inputs[m][b]).map(\.tensor)
                    if got != expected[m][b] { mismatches.add("thread \(thread) run \(run): model \(m) batch \(b + 1) differs") }
                } catch {
                    mismatches.add("thread \(thread) run \(run): \(error)")
                }
            }
        }
        #expect(mismatches.items.isEmpty, "\(mismatches.items.prefix(5))")
        #expect(expected[0][3][0].shape == [4, 10] && expected[1][3][0].shape == [4, 2])
    }
}
