import FerryHDF5
import FerryIR
import FerryTestSupport
import Foundation
import Testing

/// The HDF5 layer against files h5py wrote (`Fixtures/hdf5`, made by tools/make_hdf5_fixtures.py).
@Suite struct HDF5ReadTests {
    static let expected = ((try? TestSupport.json("hdf5/tree.expect.json")) as? [[String: Any]]) ?? []

    private func tree() throws -> [Tensor] {
        try HDF5TensorTree.read(try HDF5File.open(TestSupport.fixture("hdf5/tree.h5")))
    }

    @Test func everyDatasetMatchesNumpy() throws {
        let tensors = try tree()
        #expect(Self.expected.count >= 12)
        for e in Self.expected {
            let name = e["name"] as! String
            let t = try #require(tensors.first { $0.name == name }, "missing \(name)")
            #expect(t.elementType.name == (e["dtype"] as! String).replacingOccurrences(of: "bool", with: "bool"), "\(name)")
            #expect(t.shape == e["shape"] as! [Int], "\(name)")
            #expect(t.bytes?.toArray(of: UInt8.self) == TestSupport.bytes(hex: e["hex"] as! String), "\(name)")
        }
    }

    @Test func stringDatasetsAndAttributesInEveryForm() throws {
        let file = try HDF5File.open(TestSupport.fixture("hdf5/tree.h5"))
        let root = try file.root
        let names = try #require(try tree().first { $0.name == "names" })
        #expect(names.storage == .strings([Array("alpha".utf8), Array("beta".utf8)]))
        #expect(try root.attribute("vlen_scalar") == .string("h\u{e9}llo"))
        #expect(try root.attribute("fixed_array")?.stringList == ["dense", "dense_1"])
        #expect(try root.attribute("vlen_array")?.stringList == ["a", "bb", "\u{fc}"])
        #expect(try root.attribute("empty_list")?.stringList == [])
        #expect(try root.attribute("missing") == nil)
        guard case .tensor(let n)? = try root.attribute("number") else {
            Issue.record("number is not numeric")
            return
        }
        #expect(n.bytes?.toArray(of: Int64.self) == [7])
    }

    @Test(arguments: [
        ("elink.h5", "/g/link", "an external link"), ("extstore.h5", "/w", "external raw storage"),
        ("vds.h5", "/v", "a virtual dataset")
    ])
    func dataFromOtherFilesIsRefused(file: String, object: String, kind: String) throws {
        let path = TestSupport.fixture("hdf5/" + file)
        let error = #expect(throws: HDF5Error.self) { _ = try HDF5TensorTree.read(try HDF5File.open(path)) }
        let text = String(describing: try #require(error))
        #expect(text.hasPrefix(path) && text.contains(object) && text.contains(kind), "\(text)")
        let allowed = try HDF5TensorTree.read(try HDF5File.open(path, allowExternal: true))
        #expect(allowed.contains { $0.bytes?.toArray(of: Float.self) == [0, 1, 2, 3] })
    }

    @Test func linksThatLoopAreNotFollowedForever() throws {
        let tensors = try HDF5TensorTree.read(try HDF5File.open(TestSupport.fixture("hdf5/loops.h5")))
        #expect(tensors.map(\.name) == ["a/b"])
    }

    @Test func brokenFilesGiveOneLineErrors() throws {
        for file in ["truncated.h5", "tree.expect.json"] {
            let path = TestSupport.fixture("hdf5/" + file)
            let error = #expect(throws: HDF5Error.self) { _ = try HDF5File.open(path) }
            let text = String(describing: try #require(error))
            #expect(text.hasPrefix(path) && !text.contains("\n"), "\(text)")
        }
    }
}

@Suite struct HDF5WriteTests {
    private let tensors: [Tensor] = [
        Tensor(
            name: "encoder/layer.0/weight", elementType: .float, shape: [2, 3], values: [Float](arrayLiteral: 1, 2, 3, 4, 5, -0.0)
        ),
        Tensor(name: "encoder/layer.0/bias", elementType: .float16, shape: [2], values: [UInt16](arrayLiteral: 0x3C00, 0x7E00)),
        Tensor(name: "encoder/bf", elementType: .bfloat16, shape: [1], values: [UInt16](arrayLiteral: 0x3F80)),
        Tensor(name: "mask", elementType: .bool, shape: [3], values: [UInt8](arrayLiteral: 1, 0, 1)),
        Tensor(name: "steps", elementType: .int64, shape: [], values: [Int64(42)]),
        Tensor(name: "u32", elementType: .uint32, shape: [2], values: [UInt32](arrayLiteral: 0, .max)),
        Tensor(name: "empty", elementType: .float, shape: [0, 4], values: [Float]()),
        Tensor(name: "vocab", elementType: .string, shape: [2], storage: .strings([Array("h\u{e9}".utf8), []]))
    ]

    @Test(arguments: [false, true])
    func aWrittenTreeReadsBackBitExact(compress: Bool) throws {
        let dir = try TestSupport.temporaryDirectory()
        try HDF5TensorTree.write(tensors, to: dir + "/t.h5", compress: compress, replace: false)
        let back = try HDF5TensorTree.read(try HDF5File.open(dir + "/t.h5"))
        #expect(back.sorted { $0.name < $1.name } == tensors.sorted { $0.name < $1.name })
        let weight = try (try HDF5File.open(dir + "/t.h5")).root.dataset("encoder/layer.0/weight")
        #expect(weight.isFiltered == compress)
    }

    @Test(arguments: ["", "a//b", "/abs", "a/./b", "a/../b"])
    func namesThatAreNotPathsAreRefused(name: String) throws {
        let dir = try TestSupport.temporaryDirectory()
        let t = Tensor(name: name, elementType: .float, shape: [1], values: [Float(1)])
        #expect(throws: HDF5Error.self) { try HDF5TensorTree.write([t], to: dir + "/t.h5", compress: false, replace: false) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func aNameCannotBeBothTensorAndGroup() throws {
        let dir = try TestSupport.temporaryDirectory()
        let a = Tensor(name: "a", elementType: .float, shape: [1], values: [Float(1)])
        let ab = Tensor(name: "a/b", elementType: .float, shape: [1], values: [Float(1)])
        #expect(throws: HDF5Error.self) { try HDF5TensorTree.write([a, ab], to: dir + "/t.h5", compress: false, replace: false) }
        #expect(throws: HDF5Error.self) { try HDF5TensorTree.write([ab, a], to: dir + "/t.h5", compress: false, replace: false) }
    }

    /// libhdf5 reads shape x element size bytes: a shorter buffer must be refused, not read past.
    @Test func bytesThatDoNotFillTheShapeAreRefused() throws {
        let dir = try TestSupport.temporaryDirectory()
        let short = Tensor(name: "w", elementType: .float, shape: [100_000], values: [Float](repeating: 1, count: 3))
        let error = #expect(throws: HDF5Error.self) {
            try HDF5TensorTree.write([short], to: dir + "/t.h5", compress: false, replace: false)
        }
        let text = String(describing: try #require(error))
        #expect(text.hasPrefix(dir + "/t.h5") && text.contains("/w"), "\(text)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func typesHDF5CannotHoldAreRefusedByName() throws {
        let dir = try TestSupport.temporaryDirectory()
        let t = Tensor(name: "q", elementType: .int4, shape: [2], values: [UInt8(0x21)])
        let error = #expect(throws: HDF5Error.self) {
            try HDF5TensorTree.write([t], to: dir + "/t.h5", compress: false, replace: false)
        }
        #expect(String(describing: try #require(error)).contains("/q"))
    }

    @Test func attributesRoundTripInTheFormsKerasUses() throws {
        let dir = try TestSupport.temporaryDirectory()
        try HDF5File.writeAtomically(dir + "/a.h5", replace: false) { root in
            let g = try root.createGroup("model_weights")
            try g.setAttribute("layer_names", .strings(["dense", "dense_1"]))
            try g.setAttribute("model_config", .string("{\"k\": \"\u{fc}\"}"))
            try g.setAttribute("empty", .strings([]))
        }
        let g = try (try HDF5File.open(dir + "/a.h5")).root.group("model_weights")
        #expect(try g.attribute("layer_names") == .strings(["dense", "dense_1"]))
        #expect(try g.attribute("model_config") == .string("{\"k\": \"\u{fc}\"}"))
        #expect(try g.attributeNames().sorted() == ["empty", "layer_names", "model_config"])
    }
}
