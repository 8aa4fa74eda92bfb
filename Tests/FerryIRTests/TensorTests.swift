import FerryIR
import FerryTestSupport
import Foundation
import Testing

@Suite struct TensorTests {
    @Test func subByteAndWideTypesHaveTheirPackedSizes() {
        #expect(ElementType.int4.byteCount(elements: 3) == 2)
        #expect(ElementType.uint2.byteCount(elements: 5) == 2)
        #expect(ElementType.float6e2m3.byteCount(elements: 5) == 4)
        #expect(ElementType.complex128.byteCount(elements: 2) == 32)
        #expect(ElementType.string.byteCount(elements: 1) == nil)
        #expect(ElementType.double.byteCount(elements: Int.max / 4) == nil)
    }

    @Test func allocatedBuffersAre64ByteAligned() {
        for n in [1, 3, 100, 4097] {
            #expect(TensorBytes(zeroed: n).buffer.isAligned(to: 64))
            let values = [Float](repeating: 1, count: n)
            #expect(TensorBytes(copying: values).buffer.isAligned(to: 64))
        }
    }

    @Test func copiesShareStorageUntilOneWrites() {
        let a = TensorBytes(copying: [Float](arrayLiteral: 1, 2, 3))
        var b = a
        #expect(a.buffer === b.buffer)
        b.withUnsafeMutableBufferPointer(as: Float.self) { $0[0] = 9 }
        #expect(a.buffer !== b.buffer)
        #expect(a.toArray(of: Float.self) == [1, 2, 3])
        #expect(b.toArray(of: Float.self) == [9, 2, 3])
    }

    @Test func aUniqueBufferIsWrittenInPlace() {
        var a = TensorBytes(copying: [Int32](arrayLiteral: 1, 2))
        let before = ObjectIdentifier(a.buffer)
        a.withUnsafeMutableBufferPointer(as: Int32.self) { $0[1] = 5 }
        #expect(ObjectIdentifier(a.buffer) == before)
        #expect(a.toArray(of: Int32.self) == [1, 5])
    }

    @Test func mappedViewsAreReadOnlyAndCopiedOnWrite() throws {
        let dir = try TestSupport.temporaryDirectory()
        let path = dir + "/data.bin"
        var bytes = [UInt8](repeating: 0, count: 128)
        for i in bytes.indices { bytes[i] = UInt8(i) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let file = try MappedFile(path: path)
        var view = TensorBytes(TensorBuffer(viewing: file, offset: 64, count: 8))
        #expect(!view.buffer.isWritable)
        #expect(view.toArray(of: UInt8.self) == Array(64..<72))
        view.withUnsafeMutableBytes { $0[0] = 255 }
        #expect(view.buffer.isWritable)
        #expect(view.toArray(of: UInt8.self).first == 255)
        #expect(file.bytes[64] == 64)
    }

    @Test func validationNamesTheTensorAndTheProblem() {
        let short = Tensor(name: "w", elementType: .float, shape: [2, 3], values: [Float](repeating: 0, count: 5))
        #expect(throws: IRError.invalidTensor(tensor: "w", reason: "shape [2, 3] of float32 needs 24 bytes, found 20")) {
            try short.validate()
        }
        let negative = Tensor(name: "n", elementType: .float, shape: [-1], values: [Float]())
        #expect(throws: IRError.self) { try negative.validate() }
        let huge = Tensor(name: "h", elementType: .float, shape: [1 << 40, 1 << 40], values: [Float]())
        #expect(
            throws: IRError.invalidTensor(tensor: "h", reason: "element count of shape [1099511627776, 1099511627776] overflows")
        ) { try huge.validate() }
        let strings = Tensor(name: "s", elementType: .string, shape: [2], storage: .strings([[1], []]))
        #expect(throws: Never.self) { try strings.validate() }
        let segment = Tensor(
            name: "seg", elementType: .int8, shape: [10], storage: .bytes(TensorBytes(zeroed: 4)),
            segment: .init(begin: 2, end: 6))
        #expect(throws: Never.self) { try segment.validate() }
    }
}
