import FerryIR
import Testing

@Suite struct CRC32Tests {
    /// The bitwise definition, one bit per step.
    private func naive(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    @Test func matchesZlibOnKnownInputs() {
        // zlib.crc32 in Python gives these.
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
        let bytes = (0..<1000).map { UInt8(($0 * 7 + 3) % 251) }
        #expect(bytes.withUnsafeBytes { CRC32.checksum($0) } == 0xA2F9_2763)
        #expect([UInt8]().withUnsafeBytes { CRC32.checksum($0) } == 0)
    }

    @Test func everyLengthAndSplitMatchesTheBitwiseDefinition() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<300).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        for n in 0...bytes.count {
            let whole = Array(bytes[..<n])
            let expected = naive(whole)
            #expect(whole.withUnsafeBytes { CRC32.checksum($0) } == expected)
            let split = n / 3
            let first = Array(whole[..<split]).withUnsafeBytes { CRC32.checksum($0) }
            #expect(Array(whole[split...]).withUnsafeBytes { CRC32.checksum($0, continuing: first) } == expected)
        }
    }
}
