import FerryIR
import FerryONNX
import FerryRuntime
import FerryTestSupport
import Testing

/// The structure fuzz's findings (Fixtures/fuzz/onnx-structure): each once trapped while planning
/// or running; each now plans and runs, or is refused with an error naming the node.
@Suite struct FuzzFindingTests {
    /// File -> a phrase of the planning error, or nil when the model must plan and run.
    static let cases: [(file: String, error: String?)] = [
        ("argmax_empty_inner_axis.onnx", nil),
        ("scan_num_scan_inputs_min.onnx", "num_scan_inputs -9223372036854775808 does not fit")
    ]

    @Test(arguments: 0..<cases.count)
    func aDamagedModelIsRefusedOrRuns(_ i: Int) throws {
        let (file, expected) = Self.cases[i]
        let model = try ONNXReader(path: TestSupport.fixture("fuzz/onnx-structure/" + file)).read().model
        if let expected {
            let error = #expect(throws: RuntimeError.self) { _ = try InferenceSession(model: model) }
            let text = String(describing: try #require(error))
            #expect(text.contains(expected) && !text.contains("\n"), "\(text)")
            return
        }
        let session = try InferenceSession(model: model)
        let feeds = Dictionary(
            uniqueKeysWithValues: session.inputs.map { input -> (String, Tensor) in
                guard case .tensor(let type, let dims?)? = input.type?.type else {
                    return (input.name, Tensor(name: input.name, elementType: .float, shape: [], values: [Float(0)]))
                }
                let shape = dims.map { d -> Int in if case .fixed(let n) = d.value { return Int(n) } else { return 1 } }
                return (
                    input.name,
                    Tensor(
                        name: input.name, elementType: type, shape: shape,
                        storage: .bytes(TensorBytes(zeroed: type.byteCount(elements: shape.reduce(1, *))!)))
                )
            })
        #expect(try session.run(feeds).count == session.outputs.count)
    }
}
