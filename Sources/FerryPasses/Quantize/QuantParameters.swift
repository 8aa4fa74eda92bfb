import FerryIR

/// The scale and zero point of an affine quantization, real = (q - zeroPoint) * scale.
public struct QuantParameters: Equatable, Sendable {
    public var scale: Float
    public var zeroPoint: Int32

    /// Integer range of a quantized element type (int8 weights use the symmetric [-127, 127]).
    static func range(of type: ElementType, symmetric: Bool = false) -> (lo: Int32, hi: Int32) {
        switch type {
        case .int8: return (symmetric ? -127 : -128, 127)
        case .uint8: return (0, 255)
        case .int32: return (Int32.min, Int32.max)
        default: return (0, 255)
        }
    }

    /// Asymmetric parameters covering [lo, hi] widened to include 0 (so zero is exact, as padding and
    /// Relu need) for values stored as `type`.
    static func asymmetric(lo: Float, hi: Float, type: ElementType) -> QuantParameters {
        let (qlo, qhi) = range(of: type)
        let rmin = min(lo.isFinite ? lo : 0, 0), rmax = max(hi.isFinite ? hi : 0, 0)
        guard rmax > rmin else { return QuantParameters(scale: 1, zeroPoint: 0) }
        let scale = (rmax - rmin) / Float(qhi - qlo)
        let zp = (Float(qlo) - rmin / scale).rounded(.toNearestOrEven)
        return QuantParameters(scale: scale, zeroPoint: Int32(min(max(zp, Float(qlo)), Float(qhi))))
    }

    /// Symmetric int8 parameters mapping [-absMax, absMax] onto [-levels, levels] (zero point 0).
    static func symmetric(absMax: Float, levels: Int32 = 127) -> QuantParameters {
        QuantParameters(scale: absMax > 0 && absMax.isFinite ? absMax / Float(levels) : 1, zeroPoint: 0)
    }

    /// `x` quantized: round half to even, saturated to `type`'s range.
    func quantize(_ x: Float, type: ElementType, symmetric: Bool = false) -> Int32 {
        let (lo, hi) = QuantParameters.range(of: type, symmetric: symmetric)
        let q = (x / scale).rounded(.toNearestOrEven) + Float(zeroPoint)
        return Int32(min(max(q, Float(lo)), Float(hi)))
    }
}
