/// A floating-point format of at most 8 bits (ONNX's float8 family without float8e8m0, float6 and
/// float4): its codes decoded to Float, and values rounded to its codes as ONNX's Cast does (round
/// to nearest even; out-of-range values saturate to the largest finite value, or become infinity or
/// NaN when `saturate` is false and the format has them).
public struct NarrowFloatFormat: Sendable {
    /// How a format spends its special codes.
    enum Specials: Sendable {
        /// IEEE: the top exponent holds infinities (mantissa 0) and NaNs (float8e5m2).
        case ieee
        /// No infinities; S.1111.111 is NaN, so the top exponent holds finite values too (float8e4m3fn).
        case allOnesNaN
        /// "fnuz": no infinities and no negative zero; the negative-zero code 0x80 is NaN.
        case negativeZeroNaN
        /// Every code is a finite number (float6, float4).
        case none
    }

    let exponentBits: Int, mantissaBits: Int, bias: Int, specials: Specials

    /// The format of a narrow float element type, nil for other types.
    public init?(_ type: ElementType) {
        switch type {
        case .float8e4m3fn: self.init(4, 3, bias: 7, .allOnesNaN)
        case .float8e4m3fnuz: self.init(4, 3, bias: 8, .negativeZeroNaN)
        case .float8e5m2: self.init(5, 2, bias: 15, .ieee)
        case .float8e5m2fnuz: self.init(5, 2, bias: 16, .negativeZeroNaN)
        case .float6e2m3: self.init(2, 3, bias: 1, .none)
        case .float6e3m2: self.init(3, 2, bias: 3, .none)
        case .float4e2m1: self.init(2, 1, bias: 1, .none)
        default: return nil
        }
    }

    private init(_ exponentBits: Int, _ mantissaBits: Int, bias: Int, _ specials: Specials) {
        self.exponentBits = exponentBits
        self.mantissaBits = mantissaBits
        self.bias = bias
        self.specials = specials
    }

    private var signBit: UInt8 { UInt8(1) << (exponentBits + mantissaBits) }
    private var topExponent: Int { (1 << exponentBits) - 1 }
    private var mantissaMask: Int { (1 << mantissaBits) - 1 }

    /// The largest finite value.
    public var greatestFinite: Float {
        let exponent = specials == .ieee ? topExponent - 1 : topExponent
        let mantissa = specials == .allOnesNaN ? mantissaMask - 1 : mantissaMask
        return Float(sign: .plus, exponent: exponent - bias, significand: 1 + Float(mantissa) / Float(1 << mantissaBits))
    }

    /// The code of a NaN (sign kept where the format has signed NaNs).
    private func nanCode(negative: Bool) -> UInt8 {
        switch specials {
        case .ieee: return (negative ? signBit : 0) | UInt8(topExponent << mantissaBits | 1 << (mantissaBits - 1))
        case .allOnesNaN: return (negative ? signBit : 0) | (signBit - 1)
        case .negativeZeroNaN: return signBit
        case .none: return negative ? 0 : signBit // the onnx reference's (ml_dtypes') choice
        }
    }

    /// The value of a code (its low 4, 6 or 8 bits).
    public func decode(_ code: UInt8) -> Float {
        let negative = code & signBit != 0
        let exponent = Int(code >> mantissaBits) & topExponent, mantissa = Int(code) & mantissaMask
        switch specials {
        case .ieee where exponent == topExponent:
            return mantissa == 0 ? (negative ? -.infinity : .infinity) : .nan
        case .allOnesNaN where exponent == topExponent && mantissa == mantissaMask:
            return .nan
        case .negativeZeroNaN where code == signBit:
            return .nan
        default:
            break
        }
        let magnitude =
            exponent == 0
            ? Float(mantissa) * Float(sign: .plus, exponent: 1 - bias - mantissaBits, significand: 1)
            : Float(sign: .plus, exponent: exponent - bias, significand: 1 + Float(mantissa) / Float(1 << mantissaBits))
        return negative ? -magnitude : magnitude
    }

    /// The code nearest `x` (ties to even). Out-of-range values and infinities become the largest
    /// finite value when `saturate` is true or the format has no infinity and no NaN; otherwise
    /// infinity (IEEE formats) or NaN. A NaN becomes NaN; in formats without NaN, a zero of the
    /// opposite sign, as the onnx package's reference (ml_dtypes) writes it (the spec leaves it open).
    public func encode<F: BinaryFloatingPoint>(_ x: F, saturate: Bool) -> UInt8 {
        if x.isNaN { return nanCode(negative: x.sign == .minus) }
        let negative = x.sign == .minus
        let sign: UInt8 = negative ? signBit : 0
        let magnitude = x.magnitude, largest = F(greatestFinite)
        let minimumExponent = 1 - bias
        var rounded: F = 0
        if magnitude.isFinite, magnitude > 0 {
            let exponent = max(Int(magnitude.exponent), minimumExponent)
            let quantum = F(sign: .plus, exponent: F.Exponent(exponent - mantissaBits), significand: 1)
            rounded = (magnitude / quantum).rounded(.toNearestOrEven) * quantum
        } else if magnitude.isInfinite {
            rounded = .infinity
        }
        if rounded > largest {
            if saturate || specials == .none {
                return sign | encodeFinite(largest, minimumExponent)
            }
            return specials == .ieee ? sign | UInt8(topExponent << mantissaBits) : nanCode(negative: negative)
        }
        if rounded == 0 { return specials == .negativeZeroNaN ? 0 : sign }
        return sign | encodeFinite(rounded, minimumExponent)
    }

    /// The code of a positive representable value.
    private func encodeFinite<F: BinaryFloatingPoint>(_ v: F, _ minimumExponent: Int) -> UInt8 {
        let exponent = Int(v.exponent)
        if exponent < minimumExponent {
            let steps = v / F(sign: .plus, exponent: F.Exponent(minimumExponent - mantissaBits), significand: 1)
            return UInt8(Int(steps))
        }
        let mantissa = Int((v.significand - 1) * F(1 << mantissaBits))
        return UInt8((exponent + bias) << mantissaBits | mantissa)
    }
}

/// float8e8m0, the power-of-two scale of the microscaling (MX) formats: code e is 2^(e - 127), 255
/// is NaN; no sign, no zero.
public enum Float8E8M0 {
    /// How a value between two powers of two is rounded (Cast's `round_mode`).
    public enum Rounding: String, Sendable {
        /// To the greater power unless the value is one (the default).
        case up
        /// To the smaller power.
        case down
        /// To the nearer power, ties up.
        case nearest
    }

    /// The value of a code.
    public static func decode(_ code: UInt8) -> Float {
        code == 0xff ? .nan : Float(sign: .plus, exponent: Int(code) - 127, significand: 1)
    }

    /// The code of `x` as the onnx package's reference computes it: float32's exponent field, moved
    /// up by the rounding (the sign is ignored; zero and float32 subnormals give code 0); NaN and
    /// infinity give NaN; with `saturate`, rounding never goes past the largest code.
    public static func encode(_ x: Float, saturate: Bool, rounding: Rounding) -> UInt8 {
        let bits = x.bitPattern, exponent = Int(bits >> 23) & 0xff, fraction = bits & 0x7f_ffff
        if exponent == 0xff { return 0xff }
        let up: Bool
        switch rounding {
        case .up: up = fraction != 0
        case .down: up = false
        case .nearest: up = fraction & 0x40_0000 != 0 && (fraction & 0x3f_ffff != 0 || exponent > 0)
        }
        if up && !(saturate && exponent == 0xfe) { return UInt8(exponent + 1) }
        return UInt8(exponent)
    }
}
