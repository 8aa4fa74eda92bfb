import FerryIR
import FerryONNX
import FerryTestSupport
import Foundation
import Testing

/// `--timeout` and `--max-memory` of the subcommands that run a model: a Loop with trip count 2^62
/// ends in one line naming a node, exit 1.
@Suite struct RunLimitCommandTests {
    /// The Loop negates a carried [4] tensor; with `scan` it also stacks its iteration numbers.
    static func endlessLoop(scan: Bool) -> Model {
        func info(_ name: String, _ type: ElementType) -> ValueInfo {
            ValueInfo(name: name, type: TypeInfo(.tensor(type, shape: nil)))
        }
        let body = Graph(
            name: "body",
            nodes: [
                Node(opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"]),
                Node(opType: "Neg", inputs: ["x_in"], outputs: ["x_out"])
            ] + (scan ? [Node(opType: "Identity", inputs: ["i"], outputs: ["i_out"])] : []),
            inputs: [info("i", .int64), info("cond_in", .bool), info("x_in", .float)],
            outputs: [info("cond_out", .bool), info("x_out", .float)] + (scan ? [info("i_out", .int64)] : []))
        let outputs = scan ? ["x_final", "counts"] : ["x_final"]
        let graph = Graph(
            name: "g",
            nodes: [
                Node(
                    opType: "Loop", name: "endless", inputs: ["M", "", "x"], outputs: outputs,
                    attributes: [Attribute("body", .graph(body))])
            ],
            initializers: [
                Tensor(name: "M", elementType: .int64, shape: [], values: [Int64(1) << 62]),
                Tensor(name: "x", elementType: .float, shape: [4], values: [Float](arrayLiteral: 1, 2, 3, 4))
            ],
            inputs: [], outputs: outputs.map { info($0, .undefined) })
        return Model(irVersion: 8, opsetImports: [OpsetID(domain: "", version: 17)], graph: graph)
    }

    @Test(arguments: [
        (false, ["run", "--timeout", "0.5"], "time limit of 0.5 s"),
        (true, ["run", "--max-memory", "16M"], "memory limit of 16777216"),
        (false, ["bench", "--timeout", "0.5", "--runs", "1", "--warmup", "0"], "time limit of 0.5 s")
    ])
    func anEndlessLoopEndsInOneLine(scan: Bool, arguments: [String], message: String) throws {
        let dir = try TestSupport.temporaryDirectory()
        try ONNXWriter(path: dir + "/loop.onnx").write(Self.endlessLoop(scan: scan))
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
