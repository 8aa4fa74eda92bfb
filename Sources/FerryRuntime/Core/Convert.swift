import FerryIR

/// How conversions round into the 8-bit float types: Cast's `saturate` and `round_mode` attributes.
struct CastRounding {
    /// Out-of-range values become the largest finite value (else infinity or NaN).
    var saturate = true
    /// How float8e8m0 rounds between powers of two.
    var e8m0: Float8E8M0.Rounding = .up

    static let standard = CastRounding()
}

/// Element conversion between numeric types (ONNX Cast semantics: floats to integers truncate toward
/// zero, integers to narrower integers keep the low bits (int4 and int2 too), anything to bool is
/// `!= 0`, floats to narrower floats round to nearest even, into the 8-bit floats as `rounding` says).
func convert(_ v: Value, to target: ElementType, ctx: ExecutionContext, rounding: CastRounding = .standard) throws
    -> Value
{
    if v.type == target { return v }
    let n = v.count
    let out = try ctx.allocate(target, v.shape)
    if v.type == .float && target == .float16 {
        let s = v.floats, d = out.pointer(UInt16.self)
        for i in 0..<n { d[i] = s[i].halfBits }
        return out
    }
    if v.type == .float16 && target == .float {
        let s = v.pointer(UInt16.self), d = out.floats
        for i in 0..<n { d[i] = Float(halfBits: s[i]) }
        return out
    }
    if target == .float, let out = integersToFloat(v, out) { return out }
    let integers: Set<ElementType> = [
        .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .bool, .int4, .uint4, .int2, .uint2
    ]
    if integers.contains(v.type) && integers.contains(target) {
        let read = try intReader(v)
        let write = try intWriter(out)
        for i in 0..<n { write(i, read(i)) }
        return out
    }
    let read = try doubleReader(v)
    let write = try doubleWriter(out, rounding)
    for i in 0..<n { write(i, read(i)) }
    return out
}

/// Integers to float32 in one typed loop per source type (the per-element readers cost several
/// nanoseconds an element: the int32 sums of dynamically quantized products are cast this way);
/// each value rounds once, to nearest even, as NumPy's astype. Nil for other source types.
private func integersToFloat(_ v: Value, _ out: Value) -> Value? {
    func run<T: BinaryInteger>(_: T.Type) -> Value {
        let s = v.pointer(T.self), d = out.floats
        for i in 0..<v.count { d[i] = Float(s[i]) }
        return out
    }
    switch v.type {
    case .int32: return run(Int32.self)
    case .int64: return run(Int64.self)
    case .int16: return run(Int16.self)
    case .int8: return run(Int8.self)
    case .uint8: return run(UInt8.self)
    case .uint16: return run(UInt16.self)
    default: return nil
    }
}

private func intReader(_ v: Value) throws -> (Int) -> Int64 {
    switch v.type {
    case .int64:
        let p = v.pointer(Int64.self)
        return { p[$0] }
    case .int32:
        let p = v.pointer(Int32.self)
        return { Int64(p[$0]) }
    case .int16:
        let p = v.pointer(Int16.self)
        return { Int64(p[$0]) }
    case .int8, .int4, .int2:
        let p = v.pointer(Int8.self)
        return { Int64(p[$0]) }
    case .uint64:
        let p = v.pointer(UInt64.self)
        return { Int64(truncatingIfNeeded: p[$0]) }
    case .uint32:
        let p = v.pointer(UInt32.self)
        return { Int64(p[$0]) }
    case .uint16:
        let p = v.pointer(UInt16.self)
        return { Int64(p[$0]) }
    case .uint8, .bool, .uint4, .uint2:
        let p = v.pointer(UInt8.self)
        return { Int64(p[$0]) }
    default: throw KernelError.unsupported("cast from \(v.type.name)")
    }
}

private func intWriter(_ v: Value) throws -> (Int, Int64) -> Void {
    switch v.type {
    case .int64:
        let p = v.pointer(Int64.self)
        return { p[$0] = $1 }
    case .int32:
        let p = v.pointer(Int32.self)
        return { p[$0] = Int32(truncatingIfNeeded: $1) }
    case .int16:
        let p = v.pointer(Int16.self)
        return { p[$0] = Int16(truncatingIfNeeded: $1) }
    case .int8:
        let p = v.pointer(Int8.self)
        return { p[$0] = Int8(truncatingIfNeeded: $1) }
    case .uint64:
        let p = v.pointer(UInt64.self)
        return { p[$0] = UInt64(truncatingIfNeeded: $1) }
    case .uint32:
        let p = v.pointer(UInt32.self)
        return { p[$0] = UInt32(truncatingIfNeeded: $1) }
    case .uint16:
        let p = v.pointer(UInt16.self)
        return { p[$0] = UInt16(truncatingIfNeeded: $1) }
    case .uint8:
        let p = v.pointer(UInt8.self)
        return { p[$0] = UInt8(truncatingIfNeeded: $1) }
    case .bool:
        let p = v.pointer(UInt8.self)
        return { p[$0] = $1 != 0 ? 1 : 0 }
    case .int4, .int2:
        // Held one per byte, sign-extended from the type's width.
        let p = v.pointer(Int8.self), shift = Int64(64 - v.type.bitWidth)
        return { p[$0] = Int8(truncatingIfNeeded: ($1 << shift) >> shift) }
    case .uint4, .uint2:
        let p = v.pointer(UInt8.self), mask = Int64(1) << v.type.bitWidth - 1
        return { p[$0] = UInt8(truncatingIfNeeded: $1 & mask) }
    default: throw KernelError.unsupported("cast to \(v.type.name)")
    }
}

/// Element i of `v` as a Double, for every numeric type.
func doubleReader(_ v: Value) throws -> (Int) -> Double {
    switch v.type {
    case .float:
        let p = v.floats
        return { Double(p[$0]) }
    case .double:
        let p = v.pointer(Double.self)
        return { p[$0] }
    case .float16:
        let p = v.pointer(UInt16.self)
        return { Double(Float(halfBits: p[$0])) }
    case .bfloat16:
        let p = v.pointer(UInt16.self)
        return { Double(Float(bfloat16Bits: p[$0])) }
    case .float8e8m0:
        let p = v.pointer(UInt8.self)
        return { Double(Float8E8M0.decode(p[$0])) }
    default:
        if let format = NarrowFloatFormat(v.type) {
            let p = v.pointer(UInt8.self)
            return { Double(format.decode(p[$0])) }
        }
        let r = try intReader(v)
        if v.type == .uint64 {
            let p = v.pointer(UInt64.self)
            return { Double(p[$0]) }
        }
        return { Double(r($0)) }
    }
}

private func doubleWriter(_ v: Value, _ rounding: CastRounding) throws -> (Int, Double) -> Void {
    switch v.type {
    case .float:
        let p = v.floats
        return { p[$0] = Float($1) }
    case .double:
        let p = v.pointer(Double.self)
        return { p[$0] = $1 }
    case .float16:
        let p = v.pointer(UInt16.self)
        return { p[$0] = Float($1).halfBits }
    case .bfloat16:
        let p = v.pointer(UInt16.self)
        return { p[$0] = Float($1).bfloat16Bits }
    case .bool:
        let p = v.pointer(UInt8.self)
        return { p[$0] = $1 != 0 ? 1 : 0 }
    case .float8e8m0:
        let p = v.pointer(UInt8.self)
        return { p[$0] = Float8E8M0.encode(Float($1), saturate: rounding.saturate, rounding: rounding.e8m0) }
    case .int4, .uint4, .int2, .uint2:
        // Out of range is undefined in the spec; 0, as the onnx package's reference (ml_dtypes) and
        // its conformance cases have it (NaN too).
        let w = try intWriter(v), range = try QuantizedType.range(v.type)
        return { i, x in
            let t = x.rounded(.towardZero)
            w(i, t >= Double(range.lo) && t <= Double(range.hi) ? Int64(t) : 0)
        }
    default:
        if let format = NarrowFloatFormat(v.type) {
            let p = v.pointer(UInt8.self), saturate = rounding.saturate
            return { p[$0] = format.encode($1, saturate: saturate) }
        }
        let w = try intWriter(v)
        return { i, x in
            // Truncate toward zero; NaN and out-of-range values saturate instead of trapping.
            let t = x.rounded(.towardZero)
            if t.isNaN {
                w(i, 0)
            } else if t >= 9.2e18 {
                w(i, v.type == .uint64 ? -1 : .max)
            } else if t <= -9.2e18 {
                w(i, .min)
            } else {
                w(i, Int64(t))
            }
        }
    }
}
