import FerryIR
import FerrySafetensors
import FerryTestSupport
import Foundation
import Testing

@Suite struct SafetensorsTests {
    private let tensors: [Tensor] = [
        Tensor(name: "model.embed.weight", elementType: .float, shape: [3, 2], values: [Float](arrayLiteral: 1, 2, 3, 4, 5, 6)),
        Tensor(name: "b\u{fc}as \"q\"", elementType: .bfloat16, shape: [2], values: [UInt16](arrayLiteral: 0x3F80, 0xC000)),
        Tensor(name: "mask", elementType: .bool, shape: [3], values: [UInt8](arrayLiteral: 1, 0, 1)),
        Tensor(name: "ids", elementType: .int64, shape: [], values: [Int64(-5)]),
        Tensor(name: "none", elementType: .float16, shape: [0], values: [UInt16]()),
        Tensor(name: "f8", elementType: .float8e4m3fn, shape: [1], values: [UInt8(0x38)])
    ]

    /// A safetensors file from a raw header and data section.
    private func file(header: String, data: [UInt8] = [], length: UInt64? = nil) throws -> String {
        let dir = try TestSupport.temporaryDirectory()
        var bytes = [UInt8](repeating: 0, count: 8)
        let h = Array(header.utf8)
        let n = length ?? UInt64(h.count)
        for k in 0..<8 { bytes[k] = UInt8((n >> (8 * UInt64(k))) & 0xff) }
        try Data(bytes + h + data).write(to: URL(fileURLWithPath: dir + "/t.safetensors"))
        return dir + "/t.safetensors"
    }

    @Test func writtenFilesReadBackBitExactWithMetadata() throws {
        let dir = try TestSupport.temporaryDirectory()
        let content = SafetensorsContent(tensors: tensors, metadata: [KeyValue("format", "pt"), KeyValue("note", "line\nbreak")])
        try SafetensorsFile.write(content, to: dir + "/m.safetensors", replace: false)
        let back = try SafetensorsFile.read(dir + "/m.safetensors")
        #expect(back.tensors.sorted { $0.name < $1.name } == tensors.sorted { $0.name < $1.name })
        #expect(back.metadata == content.metadata)
        let raw = try TestSupport.contents(dir + "/m.safetensors")
        let headerLength = raw.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + headerLength) % 64 == 0)
        // Aligned tensors are views of the mapped file.
        #expect(back.tensors.first { $0.name == "model.embed.weight" }?.bytes?.buffer.isWritable == false)
    }

    @Test func metadataWithoutTensors() throws {
        let path = try file(header: "{\"__metadata__\":{\"a\":\"b\"}}")
        let content = try SafetensorsFile.read(path)
        #expect(content.tensors.isEmpty)
        #expect(content.metadata == [KeyValue("a", "b")])
    }

    @Test func aHeaderOfManyTensorsIsRead() throws {
        let count = 200_000
        var header = "{"
        for i in 0..<count {
            header += (i > 0 ? "," : "") + "\"t\(i)\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[\(i),\(i + 1)]}"
        }
        header += "}"
        let content = try SafetensorsFile.read(try file(header: header, data: [UInt8](repeating: 7, count: count)))
        #expect(content.tensors.count == count)
        #expect(content.tensors.last?.name == "t\(count - 1)")
    }

    @Test(arguments: [
        ("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "tensor 'w'", "needs 8 bytes"),
        ("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", "tensor 'w'", "needs 4 bytes"),
        ("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "tensor 'w'", "outside"),
        ("{\"w\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,1]}}", "tensor 'w'", "unknown dtype"),
        (
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
            "tensor 'b'", "overlaps"
        ),
        ("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,0]}}", "tensor 'w'", "outside"),
        ("{\"w\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", "tensor 'w'", "non-negative integer"),
        ("{\"w\":{\"dtype\":\"U8\",\"shape\":[99999999999,99999999999],\"data_offsets\":[0,1]}}", "tensor 'w'", "overflows"),
        ("{\"w\":{\"dtype\":\"U8\",\"shape\":[1]}}", "tensor 'w'", "needs dtype, shape and data_offsets"),
        (
            "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
            "tensor 'w'", "twice"
        ),
        ("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}} x", "header", "unexpected bytes"),
        ("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}", "header", "expected"),
        ("[1,2]", "header", "expected '{'"),
        ("{\"w\\x\":1}", "header", "invalid escape")
    ])
    func malformedHeadersAreRefusedNamingThePart(header: String, part: String, reason: String) throws {
        let path = try file(header: header, data: [UInt8](repeating: 0, count: 8))
        let error = #expect(throws: SafetensorsError.self) { _ = try SafetensorsFile.read(path) }
        let text = String(describing: try #require(error))
        #expect(text.hasPrefix(path + ": " + part) && text.contains(reason) && !text.contains("\n"), "\(text)")
    }

    @Test func lengthsPastTheEndAreRefused() throws {
        let error = #expect(throws: SafetensorsError.self) {
            _ = try SafetensorsFile.read(try file(header: "{}", length: 1 << 40))
        }
        #expect(String(describing: try #require(error)).contains("runs past the end"))
        let dir = try TestSupport.temporaryDirectory()
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/short.safetensors"))
        #expect(throws: SafetensorsError.self) { _ = try SafetensorsFile.read(dir + "/short.safetensors") }
    }

    @Test func typesSafetensorsCannotHoldAreRefused() throws {
        let dir = try TestSupport.temporaryDirectory()
        let s = Tensor(name: "s", elementType: .string, shape: [1], storage: .strings([[1]]))
        #expect(throws: SafetensorsError.self) {
            try SafetensorsFile.write(SafetensorsContent(tensors: [s], metadata: []), to: dir + "/x.safetensors", replace: false)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
