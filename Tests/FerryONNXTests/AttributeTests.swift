import FerryIR
import FerryONNX
import FerryTestSupport
import Foundation
import Testing

/// Every attribute kind, judged against `Fixtures/onnx/valid/attributes.expect.json`.
@Suite struct AttributeTests {
    static let expected = ((try? TestSupport.json("onnx/valid/attributes.expect.json")) as? [[String: Any]]) ?? []
    static let model = try? ONNXReader(path: TestSupport.fixture("onnx/valid/attributes.onnx")).read().model

    @Test func everyKindIsPresent() {
        let kinds = Set(Self.expected.compactMap { $0["type"] as? Int })
        #expect(kinds == Set(AttributeKind.allCases.map { Int($0.rawValue) }).subtracting([0]))
    }

    @Test(arguments: AttributeTests.expected.compactMap { $0["attribute"] as? String })
    func attributeMatches(attribute name: String) throws {
        let e = try #require(Self.expected.first { $0["attribute"] as? String == name })
        let model = try #require(Self.model)
        let node = try #require(model.graph.nodes.first { $0.name == e["node"] as? String })
        let attr = try #require(node.attributes.first { $0.name == name })
        #expect(Int(attr.value.kind.rawValue) == e["type"] as? Int)
        #expect(attr.docString == e["doc_string"] as? String)
        switch attr.value {
        case .float(let f):
            // Compared as Float: Foundation's JSON parser may round the last digit of a double.
            #expect(f == (e["value"] as? NSNumber)?.floatValue)
        case .floats(let fs):
            #expect(fs == (e["value"] as? [NSNumber])?.map(\.floatValue))
        default:
            #expect(summary(attr.value) == normalize(e["value"]))
        }
    }

    /// The attribute value in the JSON shape the fixture script writes.
    private func summary(_ v: AttributeValue) -> String {
        switch v {
        case .int(let i): return "\(i)"
        case .string(let s): return String(decoding: s, as: UTF8.self)
        case .tensor(let t): return tensor(t)
        case .graph(let g): return graph(g)
        case .sparseTensor(let s): return sparse(s)
        case .typeProto(let t): return type(t)
        case .ints(let xs): return xs.map(String.init).joined(separator: ";")
        case .strings(let ss): return ss.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ";")
        case .tensors(let ts): return ts.map(tensor).joined(separator: ";")
        case .graphs(let gs): return gs.map(graph).joined(separator: ";")
        case .sparseTensors(let ss): return ss.map(sparse).joined(separator: ";")
        case .typeProtos(let ts): return ts.map(type).joined(separator: ";")
        case .reference(let n, _): return "ref \(n)"
        case .float, .floats: preconditionFailure("float attributes are compared numerically")
        }
    }

    private func normalize(_ any: Any?) -> String {
        switch any {
        case let d as [String: Any]:
            if let values = d["values"], let indices = d["indices"] {
                return "sparse \(d["dims"] as! [Int]) \(normalize(values)) \(normalize(indices))"
            }
            if let nodes = d["nodes"] as? Int { return "graph \(d["name"] as! String) \(nodes)" }
            return "tensor \(d["name"] as! String) \(d["dims"] as! [Int]) \(d["data_type"] as! Int)"
        case let list as [Any]: return list.map { normalize($0) }.joined(separator: ";")
        case let n as Int: return "\(n)"
        case let s as String: return s
        default: return "?"
        }
    }

    private func tensor(_ t: Tensor) -> String { "tensor \(t.name) \(t.shape) \(t.elementType.rawValue)" }
    private func graph(_ g: Graph) -> String { "graph \(g.name) \(g.nodes.count)" }
    private func sparse(_ s: SparseTensor) -> String { "sparse \(s.shape) \(tensor(s.values)) \(tensor(s.indices))" }

    private func type(_ t: TypeInfo) -> String {
        func dims(_ s: [Dim]?) -> String { "[" + (s ?? []).map(\.description).joined(separator: ",") + "]" }
        switch t.type {
        case .tensor(let e, let s): return "tensor(\(e),\(dims(s)))"
        case .sparseTensor(let e, let s): return "sparse_tensor(\(e),\(dims(s)))"
        case .sequence(let e): return "sequence(\(e.map(type) ?? "?"))"
        case .map(let k, let v): return "map(\(k),\(v.map(type) ?? "?"))"
        case .optional(let e): return "optional(\(e.map(type) ?? "?"))"
        case .opaque(let d, let n): return "opaque(\(d),\(n))"
        case .unspecified: return "?"
        }
    }
}
