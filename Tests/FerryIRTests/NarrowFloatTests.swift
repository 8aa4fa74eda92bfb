import FerryIR
import Testing

/// The float8 / float6 / float4 codecs against the formats' definitions: decoding checked on known
/// codes (the OCP and ONNX tables), encoding against a brute-force search over every code (nearest
/// value, ties to the even code), overflow against ONNX Cast's saturate tables.
@Suite struct NarrowFloatTests {
    static let types: [ElementType] = [
        .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float6e2m3, .float6e3m2, .float4e2m1
    ]

    /// Codes of each format: 2^bits of them.
    static func codes(_ type: ElementType) -> [UInt8] { (0..<(1 << type.bitWidth)).map { UInt8($0) } }

    @Test func decodesTheDefinedValues() {
        let e4m3fn = NarrowFloatFormat(.float8e4m3fn)!
        #expect(e4m3fn.decode(0x7e) == 448 && e4m3fn.decode(0x7f).isNaN && e4m3fn.decode(0xff).isNaN)
        #expect(e4m3fn.decode(0x01) == 0x1p-9 && e4m3fn.decode(0x38) == 1 && e4m3fn.decode(0x80).sign == .minus)
        let e4m3fnuz = NarrowFloatFormat(.float8e4m3fnuz)!
        #expect(e4m3fnuz.decode(0x7f) == 240 && e4m3fnuz.decode(0x80).isNaN && e4m3fnuz.decode(0x01) == 0x1p-10)
        let e5m2 = NarrowFloatFormat(.float8e5m2)!
        #expect(e5m2.decode(0x7b) == 57344 && e5m2.decode(0x7c) == .infinity && e5m2.decode(0xfc) == -.infinity)
        #expect(e5m2.decode(0x7d).isNaN && e5m2.decode(0x01) == 0x1p-16)
        let e5m2fnuz = NarrowFloatFormat(.float8e5m2fnuz)!
        #expect(e5m2fnuz.decode(0x7f) == 57344 && e5m2fnuz.decode(0x80).isNaN && e5m2fnuz.decode(0x01) == 0x1p-17)
        let e2m1 = NarrowFloatFormat(.float4e2m1)!
        #expect(Self.codes(.float4e2m1).map(e2m1.decode) == [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6])
        #expect(NarrowFloatFormat(.float6e2m3)!.greatestFinite == 7.5 && NarrowFloatFormat(.float6e3m2)!.greatestFinite == 28)
        #expect(NarrowFloatFormat(.float16) == nil)
    }

    @Test func everyCodeRoundTrips() {
        for type in Self.types {
            let f = NarrowFloatFormat(type)!
            for code in Self.codes(type) {
                let v = f.decode(code)
                if v.isNaN || v.isInfinite { continue }
                #expect(f.encode(v, saturate: false) == code, "\(type.name) code \(code)")
            }
        }
    }

    /// The nearest finite code by search, ties to the code with an even last bit.
    static func nearest(_ x: Float, _ f: NarrowFloatFormat, _ type: ElementType) -> UInt8 {
        var best: UInt8 = 0, bestDistance = Float.infinity
        for code in codes(type) {
            let v = f.decode(code)
            guard v.isFinite, (v.sign == .minus) == (x.sign == .minus) || v == 0 else { continue }
            let d = abs(v - x)
            if d < bestDistance || d == bestDistance && code & 1 == 0 && best & 1 == 1 {
                best = code
                bestDistance = d
            }
        }
        return best
    }

    @Test func encodesInRangeValuesToTheNearestCode() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for type in Self.types {
            let f = NarrowFloatFormat(type)!
            let values = Self.codes(type).map(f.decode).filter(\.isFinite).sorted()
            var samples: [Float] = values.flatMap { [$0, $0.nextUp, $0.nextDown] }
            // the ties between neighbours (exact in float32), and just either side of them
            for (a, b) in zip(values, values.dropFirst()) where a < b {
                let m = (a + b) / 2
                samples += [m, m.nextUp, m.nextDown]
            }
            for _ in 0..<2000 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let unit = Float(state >> 40) / Float(1 << 24)
                samples.append((unit * 2 - 1) * f.greatestFinite)
            }
            for x in samples where x.magnitude <= f.greatestFinite && x != 0 {
                let want = Self.nearest(x, f, type), got = f.encode(x, saturate: false)
                // zero keeps the input's sign where the format has a negative zero
                let same = got == want || f.decode(got) == 0 && f.decode(want) == 0
                #expect(same, "\(type.name) \(x): code \(got), expected \(want)")
            }
        }
    }

    @Test func overflowFollowsCastsSaturateTables() {
        let e4m3fn = NarrowFloatFormat(.float8e4m3fn)!, e5m2 = NarrowFloatFormat(.float8e5m2)!
        let fnuz = NarrowFloatFormat(.float8e4m3fnuz)!, e2m1 = NarrowFloatFormat(.float4e2m1)!
        // 464 is the tie between 448 and the NaN slot (rounds to even 448); above it overflows.
        #expect(e4m3fn.encode(Float(464), saturate: false) == 0x7e)
        #expect(e4m3fn.decode(e4m3fn.encode(Float(465), saturate: false)).isNaN)
        #expect(e4m3fn.encode(Float(465), saturate: true) == 0x7e)
        #expect(e4m3fn.encode(-Float.infinity, saturate: true) == 0xfe)
        #expect(e4m3fn.decode(e4m3fn.encode(Float.infinity, saturate: false)).isNaN)
        #expect(e5m2.encode(Float(1e9), saturate: false) == 0x7c && e5m2.encode(Float(1e9), saturate: true) == 0x7b)
        #expect(e5m2.encode(-Float.infinity, saturate: false) == 0xfc)
        #expect(fnuz.encode(Float(-0.0), saturate: true) == 0 && fnuz.encode(-Float.infinity, saturate: false) == 0x80)
        #expect(e2m1.encode(Float(1e6), saturate: false) == 0x7 && e2m1.encode(-Float.infinity, saturate: false) == 0xf)
        // Double inputs round once, from the double.
        #expect(e4m3fn.encode(Double(1.0625).nextUp, saturate: true) == 0x39)
    }

    @Test func e8m0RoundsAsTheOnnxReference() {
        #expect(Float8E8M0.decode(127) == 1 && Float8E8M0.decode(0) == 0x1p-127 && Float8E8M0.decode(255).isNaN)
        #expect(Float8E8M0.encode(1, saturate: true, rounding: .up) == 127)
        #expect(Float8E8M0.encode(1.1, saturate: true, rounding: .up) == 128)
        #expect(Float8E8M0.encode(1.1, saturate: true, rounding: .down) == 127)
        #expect(Float8E8M0.encode(1.5, saturate: true, rounding: .nearest) == 128)
        #expect(Float8E8M0.encode(1.4, saturate: true, rounding: .nearest) == 127)
        #expect(Float8E8M0.encode(.greatestFiniteMagnitude, saturate: true, rounding: .up) == 254)
        #expect(Float8E8M0.encode(.greatestFiniteMagnitude, saturate: false, rounding: .up) == 255)
        #expect(Float8E8M0.encode(.infinity, saturate: true, rounding: .up) == 255)
        #expect(Float8E8M0.encode(0, saturate: true, rounding: .up) == 0)
    }
}
