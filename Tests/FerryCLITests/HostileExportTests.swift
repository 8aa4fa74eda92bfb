import FerryIR
import FerryONNX
import FerryTestSupport
import Foundation
import Testing

/// Models that parse but are damaged (found by a structure-mutating fuzz of `ferry convert` to
/// .h5, which died on a Swift trap): a node without the inputs its op needs, a Reshape without its
/// shape input, a Gemm whose weight rows do not match its flattened input. Each must end in one
/// line naming the output and the node at fault, exit 1, and leave no file behind.
@Suite struct HostileExportTests {
    static func model(_ nodes: [Node], initializers: [Tensor] = []) -> Model {
        let x = ValueInfo(name: "x", type: TypeInfo(.tensor(.float, shape: [.fixed(1), .fixed(4), .fixed(3), .fixed(3)])))
        let y = ValueInfo(name: "y", type: TypeInfo(.tensor(.float, shape: nil)))
        let graph = Graph(name: "g", nodes: nodes, initializers: initializers, inputs: [x], outputs: [y])
        return Model(irVersion: 8, opsetImports: [OpsetID(domain: "", version: 17)], graph: graph)
    }

    static let cases: [(name: String, model: Model, message: String)] = [
        ("no_inputs", model([Node(opType: "MatMul", inputs: [], outputs: ["y"])]), "MatMul '': needs 2 input(s)"),
        ("relu_no_inputs", model([Node(opType: "Relu", inputs: [], outputs: ["y"])]), "Relu '': needs 1 input(s)"),
        ("reshape_one_input", model([Node(opType: "Reshape", inputs: ["x"], outputs: ["y"])]), "Reshape '': needs 2 input(s)"),
        (
            "gemm_rows_mismatch",
            model(
                [
                    Node(opType: "Flatten", inputs: ["x"], outputs: ["f"]),
                    Node(opType: "Gemm", inputs: ["f", "w"], outputs: ["y"])
                ],
                initializers: [Tensor(name: "w", elementType: .float, shape: [7, 5], values: [Float](repeating: 1, count: 35))]),
            "Gemm '': the weights have 7 rows, the input 36 features"
        )
    ]

    @Test(arguments: 0..<cases.count)
    func convertToKerasRefusesCleanly(_ i: Int) throws {
        let c = Self.cases[i]
        let dir = try TestSupport.temporaryDirectory()
        try ONNXWriter(path: dir + "/\(c.name).onnx").write(c.model)
        let r = try ferry("convert", dir + "/\(c.name).onnx", dir + "/out.h5")
        #expect(r.status == 1, "\(c.name)")
        #expect(r.stderr.hasPrefix("error: \(dir)/out.h5: cannot write as Keras: \(c.message)"), "\(c.name): \(r.stderr)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1, "\(c.name): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.h5"), "\(c.name)")
    }
}
