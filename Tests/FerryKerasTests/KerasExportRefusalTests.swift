import FerryIR
import FerryKeras
import FerryTestSupport
import Foundation
import Testing

/// A graph Keras cannot hold is refused with one summary: each kind of problem once with a count,
/// and the nodes left out only because of them counted, not listed one by one.
@Suite struct KerasExportRefusalTests {
    @Test func refusalsAreSummarisedByOpAndReason() throws {
        var nodes: [Node] = []
        var branches: [String] = []
        for b in 0..<3 {
            nodes.append(Node(opType: "Hardmax", name: "h\(b)", inputs: ["x"], outputs: ["h\(b)_out"]))
            var last = "h\(b)_out"
            for k in 0..<4 {
                nodes.append(Node(opType: "Relu", name: "r\(b)_\(k)", inputs: [last], outputs: ["r\(b)_\(k)_out"]))
                last = "r\(b)_\(k)_out"
            }
            branches.append(last)
        }
        nodes.append(Node(opType: "Sum", name: "sum", inputs: branches, outputs: ["y"]))
        let model = Model(
            irVersion: 8, opsetImports: [OpsetID(domain: "", version: 17)],
            graph: Graph(
                name: "g", nodes: nodes,
                inputs: [ValueInfo(name: "x", type: TypeInfo(.tensor(.float, shape: [.fixed(1), .fixed(4)])))],
                outputs: [ValueInfo(name: "y", type: nil)]))
        let dir = try TestSupport.temporaryDirectory()
        let error = #expect(throws: KerasError.self) { try KerasFile.writeLegacy(model, to: dir + "/m.h5", replace: false) }
        let text = String(describing: try #require(error))
        #expect(
            text.hasSuffix(
                "cannot write as Keras: Hardmax 'h0' and 2 more like it: no Keras layer for this op; 13 node(s) after them left out"
            ),
            "\(text)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.h5"))
    }
}
