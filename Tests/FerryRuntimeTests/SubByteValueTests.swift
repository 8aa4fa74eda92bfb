import FerryIR
import Testing

@testable import FerryRuntime

/// Tensors of 2-, 4- and 6-bit elements held one per byte by the interpreter: unpacked as ONNX
/// packs them (element i at bit i * width, least significant first; int2 and int4 sign-extended)
/// and packed again bit for bit.
@Suite struct SubByteValueTests {
    @Test func unpacksAndPacksEverySubByteType() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for type in ElementType.allCases where type.isSubByte {
            let width = type.bitWidth, signed = type == .int4 || type == .int2
            for n in [1, 2, 3, 4, 5, 7, 8, 13] {
                let codes = (0..<n).map { _ -> UInt8 in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return UInt8(truncatingIfNeeded: state >> 58) & UInt8(1 << width - 1)
                }
                // the packing by its definition, one bit at a time
                var packed = [UInt8](repeating: 0, count: type.byteCount(elements: n)!)
                for (i, code) in codes.enumerated() {
                    for b in 0..<width where code >> b & 1 == 1 { packed[(i * width + b) / 8] |= 1 << ((i * width + b) % 8) }
                }
                let tensor = Tensor(name: "t", elementType: type, shape: [n], storage: .bytes(TensorBytes(copying: packed)))
                let value = try Value(tensor)
                let held = (0..<n).map { value.pointer(UInt8.self)[$0] }
                let expected = codes.map { code -> UInt8 in
                    signed && code >> (width - 1) == 1 ? code | ~UInt8(1 << width - 1) : code
                }
                #expect(held == expected, "\(type.name) n=\(n)")
                #expect(value.tensor(name: "t").bytes?.toArray(of: UInt8.self) == packed, "\(type.name) n=\(n)")
            }
        }
    }

    @Test func castsBetweenSubByteIntegersKeepTheLowBits() throws {
        let ctx = ExecutionContext(pool: BufferPool(reusesBlocks: false), threads: 1)
        let x = Value.int64([-9, -8, 7, 8, 15, 16, -2, 1, 2], shape: [9])
        #expect(try convert(x, to: .int4, ctx: ctx).ints() == [7, -8, 7, -8, -1, 0, -2, 1, 2])
        #expect(try convert(x, to: .uint4, ctx: ctx).ints() == [7, 8, 7, 8, 15, 0, 14, 1, 2])
        #expect(try convert(x, to: .int2, ctx: ctx).ints() == [-1, 0, -1, 0, -1, 0, -2, 1, -2])
        #expect(try convert(x, to: .uint2, ctx: ctx).ints() == [3, 0, 3, 0, 3, 0, 2, 1, 2])
    }
}

/// A model that holds float16 values runs in float32, but its Casts to float16 still round.
@Suite struct HalfPrecisionCastTests {
    @Test func castToFloat16RoundsInAWidenedModel() throws {
        let values: [Float] = [1, 1 + 0x1p-11, 1 + 0x1p-10 + 0x1p-12, 65504, 65520, 70000, -1e6, 0x1p-25, 0x1p-24 * 1.5]
        var g = KernelGraph()
        g.input("x", HostTensor([values.count], values))
        g.node("Cast", ["x"], ["h"], [attr("to", Int(ElementType.float16.rawValue))])
        g.node("Cast", ["h"], ["y"], [attr("to", Int(ElementType.float.rawValue))])
        g.outputs = ["y"]
        let y = try g.run()[0].data
        #expect(y == values.map { Float(halfBits: $0.halfBits) })
        #expect(y[5] == .infinity && y[6] == -.infinity && y[1] == 1 && y[7] == 0)
    }
}
