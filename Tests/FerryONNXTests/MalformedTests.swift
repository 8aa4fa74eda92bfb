import FerryIR
import FerryONNX
import FerryTestSupport
import Testing

/// Every file in `Fixtures/onnx/malformed/` is refused with one line that names the file and the
/// part at fault (`cases.json` says which part).
@Suite struct MalformedTests {
    static let cases = ((try? TestSupport.json("onnx/malformed/cases.json")) as? [[String: String]]) ?? []

    @Test func theCasesCoverEveryKindOfFault() {
        #expect(Set(Self.cases.compactMap { $0["check"] }) == ["wire", "tensor", "graph", "external"])
        #expect(Self.cases.count >= 18)
    }

    @Test(arguments: MalformedTests.cases.compactMap { $0["file"] })
    func isRefusedWithOneLineNamingThePart(file: String) throws {
        let c = try #require(Self.cases.first { $0["file"] == file })
        let path = TestSupport.fixture("onnx/malformed/" + file)
        let error = #expect(throws: ONNXError.self) { _ = try ONNXReader(path: path).read() }
        let text = String(describing: try #require(error))
        #expect(!text.contains("\n"))
        #expect(text.hasPrefix(path))
        #expect(text.contains(c["part"]!), "\(text)")
    }

    @Test func inconsistentGraphsNameTheNodes() throws {
        let path = TestSupport.fixture("onnx/malformed/duplicate_output.onnx")
        do {
            _ = try ONNXReader(path: path).read()
            Issue.record("read a graph with a value defined twice")
        } catch ONNXError.invalidModel(_, let e) {
            #expect(
                e
                    == .duplicateDefinition(
                        value: "y", first: "node 'relu_a' (Relu)", second: "node 'relu_b' (Relu)", graph: "duplicate_output"))
        }
    }
}
