import FerryIR
import FerryONNX
import FerryTestSupport
import Testing

/// Every storage form and element type, judged against the values numpy wrote
/// (`Fixtures/onnx/valid/storage_forms.expect.json`, made by tools/make_onnx_fixtures.py).
@Suite struct StorageFormTests {
    struct Expected {
        let name: String
        let code: Int32
        let dims: [Int]
        let form: String
        let bytes: [UInt8]?
        let strings: [[UInt8]]?
    }

    static let expected: [Expected] = {
        let list = (try? TestSupport.json("onnx/valid/storage_forms.expect.json")) as? [[String: Any]] ?? []
        return list.map { e in
            Expected(
                name: e["name"] as! String, code: Int32(e["data_type"] as! Int), dims: e["dims"] as! [Int],
                form: e["form"] as! String, bytes: (e["hex"] as? String).map(TestSupport.bytes(hex:)),
                strings: (e["strings_hex"] as? [String])?.map(TestSupport.bytes(hex:)))
        }
    }()

    static let model: Model? = try? ONNXReader(path: TestSupport.fixture("onnx/valid/storage_forms.onnx")).read().model

    @Test func theReferenceListCoversEveryForm() {
        let forms = Set(Self.expected.map(\.form))
        #expect(
            forms.isSuperset(of: [
                "raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data", "string_data"
            ]))
        #expect(Self.expected.count >= 30)
    }

    @Test(arguments: StorageFormTests.expected.map(\.name))
    func tensorMatchesNumpy(name: String) throws {
        let e = try #require(Self.expected.first { $0.name == name })
        let model = try #require(Self.model)
        let t = try #require(model.graph.initializers.first { $0.name == name })
        #expect(t.elementType.rawValue == e.code)
        #expect(t.shape == e.dims)
        switch t.storage {
        case .bytes(let b):
            #expect(b.toArray(of: UInt8.self) == (e.bytes ?? []))
        case .strings(let s):
            #expect(s == e.strings)
        }
    }

    @Test func largePayloadsAreAdoptedAligned() throws {
        let model = try #require(Self.model)
        for t in model.graph.initializers {
            if let b = t.bytes { #expect(b.buffer.isAligned(to: 8), "tensor \(t.name)") }
        }
    }
}
