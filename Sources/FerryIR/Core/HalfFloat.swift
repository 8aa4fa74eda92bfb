/// IEEE half precision and bfloat16, the 16-bit float element types, as Float.
extension Float {
    /// The float an IEEE half-precision bit pattern encodes.
    public init(halfBits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int(h >> 10) & 0x1f
        let mant = UInt32(h & 0x3ff)
        if exp == 0 {
            // zero or subnormal
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            self = sign != 0 ? -v : v
        } else if exp == 31 {
            self = Float(bitPattern: sign | 0x7f80_0000 | (mant << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exp + 112) << 23 | (mant << 13))
        }
    }

    /// This float rounded to IEEE half precision (round to nearest even), as bits.
    public var halfBits: UInt16 {
        let x = bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exp = Int((x >> 23) & 0xff)
        var mant = x & 0x7f_ffff
        if exp == 255 { return sign | 0x7c00 | (mant != 0 ? 0x200 : 0) }
        var e = exp - 127 + 15
        if e >= 31 { return sign | 0x7c00 }
        if e <= 0 {
            if e < -10 { return sign }
            mant |= 0x80_0000
            let shift = UInt32(14 - e)
            var h = mant >> shift
            let rem = mant & ((1 << shift) - 1)
            let half = UInt32(1) << (shift - 1)
            if rem > half || (rem == half && (h & 1) == 1) { h += 1 }
            return sign | UInt16(h)
        }
        var h = mant >> 13
        let rem = mant & 0x1fff
        if rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1) {
            h += 1
            if h == 0x400 {
                h = 0
                e += 1
                if e >= 31 { return sign | 0x7c00 }
            }
        }
        return sign | UInt16(e) << 10 | UInt16(h)
    }

    /// The float a bfloat16 bit pattern encodes.
    public init(bfloat16Bits b: UInt16) { self = Float(bitPattern: UInt32(b) << 16) }

    /// This float rounded to bfloat16 (round to nearest even), as bits.
    public var bfloat16Bits: UInt16 {
        if isNaN { return 0x7fc0 }
        let x = bitPattern
        let rounded = x &+ 0x7fff &+ ((x >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}

extension Tensor {
    /// A float16 or bfloat16 tensor of `values` rounded to nearest even.
    public init(name: String = "", half type: ElementType, shape: [Int], rounding values: [Float]) {
        precondition(type == .float16 || type == .bfloat16, "\(type.name) is not a 16-bit float type")
        let bits = type == .float16 ? values.map(\.halfBits) : values.map(\.bfloat16Bits)
        self.init(name: name, elementType: type, shape: shape, values: bits)
    }

    /// The elements of a float16 or bfloat16 tensor as Float (nil for other types and segments).
    public var halfFloatValues: [Float]? {
        guard elementType == .float16 || elementType == .bfloat16, segment == nil, let b = bytes else { return nil }
        let bits = b.toArray(of: UInt16.self)
        return elementType == .float16 ? bits.map { Float(halfBits: $0) } : bits.map { Float(bfloat16Bits: $0) }
    }
}
