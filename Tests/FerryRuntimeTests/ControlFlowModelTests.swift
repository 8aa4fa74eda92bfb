import FerryIR
import FerryONNX
import FerryRuntime
import FerryTestSupport
import Foundation
import Testing

/// Control flow as PyTorch exports it (tools/make_control_fixtures.py): If nested three deep, a
/// voice-activity-style state passed through one branch, Loop and Scan bodies, all with branch
/// and body outputs that declare no type. Ferry infers the types from the bodies and must give
/// onnxruntime's outputs: integers exactly, floats within 1e-5 relative.
@Suite struct ControlFlowModelTests {
    static let cases: [(model: String, set: String)] = {
        let text = (try? String(contentsOfFile: TestSupport.fixture("onnx/control/cases.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
            let f = $0.split(separator: " ")
            return (String(f[0]), String(f[1]))
        }
    }()

    @Test func everyCaseIsListed() {
        #expect(Self.cases.count == 10)
    }

    @Test(arguments: cases.map { "\($0.model) \($0.set)" })
    func outputsMatchOnnxruntime(_ c: String) throws {
        let parts = c.split(separator: " ").map(String.init)
        let base = TestSupport.fixture("onnx/control/\(parts[0])")
        let model = try ONNXReader(path: base + ".onnx").read().model
        var feeds: [String: Tensor] = [:]
        for (k, info) in model.graph.inputs.enumerated() {
            feeds[info.name] = try ONNXTensorFile.read(base + ".\(parts[1]).input_\(k).pb")
        }
        for threads in [1, 2] {
            let outputs = try InferenceSession(model: model, options: SessionOptions(threads: threads)).run(feeds)
            for (k, out) in outputs.enumerated() {
                let want = try ONNXTensorFile.read(base + ".\(parts[1]).output_\(k).pb")
                #expect(out.tensor.elementType == want.elementType, "\(c) output \(k)")
                if let problem = ConformanceTests.compare(out.tensor, want, .init(rtol: 1e-5, atol: 1e-6)) {
                    Issue.record("\(c) output \(k) threads=\(threads): \(problem)")
                }
            }
        }
    }

    @Test func branchesOfDifferentTypesAreOneLineNamingBoth() throws {
        let model = try ONNXReader(path: TestSupport.fixture("onnx/control/branches_differ.onnx")).read().model
        do {
            _ = try InferenceSession(model: model)
            Issue.record("planned a model whose If branches return float and int64")
        } catch {
            let text = String(describing: error)
            #expect(!text.contains("\n"))
            #expect(
                text.contains("then_branch ('t')") && text.contains("else_branch ('e')") && text.contains("float32")
                    && text.contains("int64"), "\(text)")
        }
    }
}
