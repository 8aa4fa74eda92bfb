import FerryIR
import FerryRuntime
import FerryTestSupport
import Foundation
import Testing

/// A run's limits (`SessionOptions.timeoutSeconds`, `maxMemoryBytes`): a model that would run
/// for ever, or whose activations grow past the limit, ends in an error naming the node it reached.
@Suite struct RunLimitsTests {
    /// A Loop with trip count 2^62 whose body negates a carried [4] tensor and, with `scan`, gives
    /// its iteration number as a scan output (stacked over all iterations).
    private func endlessLoop(scan: Bool) -> KernelGraph {
        func info(_ name: String, _ type: ElementType) -> ValueInfo {
            ValueInfo(name: name, type: TypeInfo(.tensor(type, shape: nil)))
        }
        let body = Graph(
            name: "body",
            nodes: [
                Node(opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"]),
                Node(opType: "Neg", inputs: ["x_in"], outputs: ["x_out"])
            ] + (scan ? [Node(opType: "Identity", name: "count", inputs: ["i"], outputs: ["i_out"])] : []),
            inputs: [info("i", .int64), info("cond_in", .bool), info("x_in", .float)],
            outputs: [info("cond_out", .bool), info("x_out", .float)] + (scan ? [info("i_out", .int64)] : []))
        var g = KernelGraph()
        g.input("x", HostTensor([4], [1, 2, 3, 4]))
        g.initializers.append(Tensor(name: "M", elementType: .int64, shape: [], values: [Int64(1) << 62]))
        g.nodes.append(
            Node(
                opType: "Loop", name: "endless", inputs: ["M", "", "x"], outputs: scan ? ["x_final", "counts"] : ["x_final"],
                attributes: [Attribute("body", .graph(body))]))
        g.outputs = scan ? ["x_final", "counts"] : ["x_final"]
        return g
    }

    private func failure(_ g: KernelGraph, _ options: SessionOptions) throws -> (text: String, seconds: Double) {
        let session = try InferenceSession(model: g.model, options: options)
        let start = Date()
        let error = #expect(throws: RuntimeError.self) { _ = try session.run(g.feeds) }
        return (String(describing: try #require(error)), Date().timeIntervalSince(start))
    }

    @Test func aLoopThatNeverEndsStopsAtTheTimeLimit() throws {
        let (text, seconds) = try failure(endlessLoop(scan: false), SessionOptions(threads: 1, timeoutSeconds: 0.3))
        #expect(text.contains("time limit of 0.3 s") && text.hasPrefix("node '"), "\(text)")
        #expect(seconds >= 0.3 && seconds < 5)
    }

    @Test func scanOutputsThatGrowForEverStopAtTheMemoryLimit() throws {
        let (text, seconds) = try failure(
            endlessLoop(scan: true), SessionOptions(threads: 1, timeoutSeconds: 60, maxMemoryBytes: 16 << 20))
        #expect(text.contains("memory limit of \(16 << 20) bytes") && text.hasPrefix("node '"), "\(text)")
        #expect(seconds < 30)
    }

    @Test func anOutputOverTheLimitIsRefusedWithItsNode() throws {
        var g = KernelGraph()
        g.input("x", HostTensor([4], [1, 2, 3, 4]))
        g.initializers.append(Tensor(name: "shape", elementType: .int64, shape: [2], values: [Int64(1) << 22, 4]))
        g.nodes.append(Node(opType: "Expand", name: "big", inputs: ["x", "shape"], outputs: ["y"]))
        g.outputs = ["y"]
        let (text, _) = try failure(g, SessionOptions(threads: 1, maxMemoryBytes: 32 << 20))
        #expect(text.hasPrefix("node 'big' (Expand)") && text.contains("memory limit"), "\(text)")
        // The same model runs under a limit it fits in.
        let session = try InferenceSession(model: g.model, options: SessionOptions(threads: 1, maxMemoryBytes: 128 << 20))
        #expect(try session.run(g.feeds)[0].tensor.shape == [1 << 22, 4])
    }
}
