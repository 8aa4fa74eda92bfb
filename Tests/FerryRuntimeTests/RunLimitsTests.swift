import FerryIR
import FerryRuntime
import FerryTestSupport
import Foundation
import Testing

/// A run's limits (`SessionOptions.timeoutSeconds`, `maxMemoryBytes`): a model that would run
/// for ever, or whose activations grow past the limit, ends in an error naming the node it reached.
@Suite struct RunLimitsTests {
    private func failure(_ model: Model, feeds: [String: Tensor] = [:], _ options: SessionOptions) throws -> (
        text: String, seconds: Double
    ) {
        let session = try InferenceSession(model: model, options: options)
        let start = Date()
        let error = #expect(throws: RuntimeError.self) { _ = try session.run(feeds) }
        return (String(describing: try #require(error)), Date().timeIntervalSince(start))
    }

    @Test func aLoopThatNeverEndsStopsAtTheTimeLimit() throws {
        let (text, seconds) = try failure(
            TestSupport.endlessLoopModel(scan: false), SessionOptions(threads: 1, timeoutSeconds: 0.3))
        #expect(text.contains("time limit of 0.3 s") && text.hasPrefix("node '"), "\(text)")
        #expect(seconds >= 0.3 && seconds < 5)
    }

    @Test func scanOutputsThatGrowForEverStopAtTheMemoryLimit() throws {
        let (text, seconds) = try failure(
            TestSupport.endlessLoopModel(scan: true), SessionOptions(threads: 1, timeoutSeconds: 60, maxMemoryBytes: 16 << 20))
        #expect(text.contains("memory limit of \(16 << 20) bytes") && text.hasPrefix("node '"), "\(text)")
        #expect(seconds < 30)
    }

    @Test func aMissingOrUnknownInputIsNamed() throws {
        var g = KernelGraph()
        g.input("x", HostTensor([4], [1, 2, 3, 4]))
        g.nodes.append(Node(opType: "Relu", inputs: ["x"], outputs: ["y"]))
        g.outputs = ["y"]
        let missing = try failure(g.model, SessionOptions(threads: 1)).text
        #expect(missing == "input 'x' (float32[?]) is required", "\(missing)")
        let unknown = try failure(g.model, feeds: g.feeds.merging(["z": g.feeds["x"]!]) { a, _ in a }, SessionOptions(threads: 1))
        #expect(unknown.text == "input 'z' is not an input of the model (inputs: x)", "\(unknown.text)")
    }

    @Test func anOutputOverTheLimitIsRefusedWithItsNode() throws {
        var g = KernelGraph()
        g.input("x", HostTensor([4], [1, 2, 3, 4]))
        g.initializers.append(Tensor(name: "shape", elementType: .int64, shape: [2], values: [Int64(1) << 22, 4]))
        g.nodes.append(Node(opType: "Expand", name: "big", inputs: ["x", "shape"], outputs: ["y"]))
        g.outputs = ["y"]
        let (text, _) = try failure(g.model, feeds: g.feeds, SessionOptions(threads: 1, maxMemoryBytes: 32 << 20))
        #expect(text.hasPrefix("node 'big' (Expand)") && text.contains("memory limit"), "\(text)")
        // The same model runs under a limit it fits in.
        let session = try InferenceSession(model: g.model, options: SessionOptions(threads: 1, maxMemoryBytes: 128 << 20))
        #expect(try session.run(g.feeds)[0].tensor.shape == [1 << 22, 4])
    }
}
