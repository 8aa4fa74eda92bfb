import FerryIR

extension ShapeOps {
    /// Element type conversion: Cast (`to`, a type name before opset 6) and CastLike, with the
    /// `saturate` and `round_mode` attributes of conversions into the 8-bit float types.
    static func registerCast(into r: inout KernelRegistry) {
        r.register("Cast") { spec in
            let target: ElementType
            if spec.opset < 6, case .string? = spec.node.attribute("to") {
                let name = try spec.string("to", "").uppercased()
                guard let t = ElementType.allCases.first(where: { String(describing: $0).uppercased() == name }) else {
                    throw KernelError.invalid("unknown type '\(name)'")
                }
                target = t
            } else {
                let code = try spec.int("to", -1)
                guard let t = ElementType(rawValue: Int32(truncatingIfNeeded: code)), code >= 0 else {
                    throw KernelError.invalid("attribute 'to' (\(code)) is not an element type")
                }
                target = t
            }
            guard castable.contains(target) else { throw KernelError.unsupported("Cast to \(target.name)") }
            let rounding = try castRounding(spec)
            return FunctionKernel { inputs, ctx in [try cast(try inputs.required(0), to: target, rounding, ctx)] }
        }
        r.register("CastLike") { spec in
            let rounding = try castRounding(spec)
            return FunctionKernel { inputs, ctx in
                let target = try inputs.required(1, "target_type").type
                guard castable.contains(target) else { throw KernelError.unsupported("Cast to \(target.name)") }
                return [try cast(try inputs.required(0), to: target, rounding, ctx)]
            }
        }
    }

    /// The element types Cast converts between: every numeric type but the complex ones.
    private static let castable = Set(ElementType.allCases).subtracting([.undefined, .string, .complex64, .complex128])

    /// The `saturate` (default 1) and `round_mode` (default "up") attributes.
    private static func castRounding(_ spec: NodeSpec) throws -> CastRounding {
        let mode = try spec.string("round_mode", "up")
        guard let e8m0 = Float8E8M0.Rounding(rawValue: mode) else {
            throw KernelError.invalid("round_mode '\(mode)' is not up, down or nearest")
        }
        return CastRounding(saturate: try spec.int("saturate", 1) != 0, e8m0: e8m0)
    }

    /// `x` converted to `target`; the input itself when it already has that type.
    private static func cast(_ x: Value, to target: ElementType, _ rounding: CastRounding, _ ctx: ExecutionContext)
        throws -> Value
    {
        guard castable.contains(x.type) else { throw KernelError.unsupported("Cast from \(x.type.name)") }
        return try convert(x, to: target, ctx: ctx, rounding: rounding)
    }
}
