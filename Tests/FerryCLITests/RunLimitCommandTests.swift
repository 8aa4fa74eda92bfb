import FerryIR
import FerryONNX
import FerryTestSupport
import Foundation
import Testing

/// `--timeout` and `--max-memory` of the subcommands that run a model: a Loop with trip count 2^62
/// ends in one line naming a node, exit 1.
@Suite struct RunLimitCommandTests {
    @Test(arguments: [
        (false, ["run", "--timeout", "0.5"], "time limit of 0.5 s"),
        (true, ["run", "--max-memory", "16M"], "memory limit of 16777216"),
        (false, ["bench", "--timeout", "0.5", "--runs", "1", "--warmup", "0"], "time limit of 0.5 s")
    ])
    func anEndlessLoopEndsInOneLine(scan: Bool, arguments: [String], message: String) throws {
        let dir = try TestSupport.temporaryDirectory()
        try ONNXWriter(path: dir + "/loop.onnx").write(TestSupport.endlessLoopModel(scan: scan))
        let start = Date()
        let r = try ferry([arguments[0], dir + "/loop.onnx"] + arguments.dropFirst())
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains("node '") && r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1)
        #expect(Date().timeIntervalSince(start) < 30)
    }

    @Test(arguments: ["0", "-1", "2X", "nan"])
    func badLimitsAreUsageErrors(value: String) throws {
        #expect(try ferry("run", "Fixtures/onnx/valid/small_cnn.onnx", "--max-memory", value).status == 2)
        #expect(try ferry("run", "Fixtures/onnx/valid/small_cnn.onnx", "--timeout", value).status == 2)
    }
}
