import FerryIR

extension ShapeOps {
    /// Element type conversion: Cast (`to`, a type name before opset 6) and CastLike.
    /// `saturate` only concerns float8 types, which are not supported.
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
            return FunctionKernel { inputs, ctx in [try cast(try inputs.required(0), to: target, ctx: ctx)] }
        }
        r.register("CastLike") { _ in
            FunctionKernel { inputs, ctx in
                let target = try inputs.required(1, "target_type").type
                guard castable.contains(target) else { throw KernelError.unsupported("Cast to \(target.name)") }
                return [try cast(try inputs.required(0), to: target, ctx: ctx)]
            }
        }
    }

    /// The element types Cast converts between.
    private static let castable: Set<ElementType> = [
        .float, .double, .float16, .bfloat16, .int8, .int16, .int32, .int64,
        .uint8, .uint16, .uint32, .uint64, .bool
    ]

    /// `x` converted to `target`; the input itself when it already has that type.
    private static func cast(_ x: Value, to target: ElementType, ctx: ExecutionContext) throws -> Value {
        guard castable.contains(x.type) else { throw KernelError.unsupported("Cast from \(x.type.name)") }
        return try convert(x, to: target, ctx: ctx)
    }
}
