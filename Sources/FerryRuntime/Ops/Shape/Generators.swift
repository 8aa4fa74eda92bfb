import FerryIR

extension ShapeOps {
    /// Ops that make tensors from shapes or attributes: Shape, Size, ConstantOfShape, Constant, Range.
    static func registerGenerators(into r: inout KernelRegistry) {
        r.register("Shape") { spec in
            let start = try spec.int("start", 0), end = try spec.int("end", Int.max)
            return FunctionKernel { inputs, _ in
                let shape = try inputs.required(0).shape
                func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + shape.count : i, 0), shape.count) }
                let s = clamp(start), e = clamp(end)
                return [Value.int64(s < e ? Array(shape[s..<e]) : [])]
            }
        }
        r.register("Size") { _ in
            FunctionKernel { inputs, _ in [Value.int64([try inputs.required(0).count], shape: [])] }
        }
        r.register("ConstantOfShape") { spec in
            let value = try spec.tensor("value").map { try Value($0) } ?? Value.float([0], shape: [1])
            guard value.count == 1 else { throw KernelError.invalid("attribute 'value' must hold one element") }
            return FunctionKernel { inputs, ctx in
                let shape = try shapeIntegers(try inputs.required(0, "shape"), "shape")
                guard shape.allSatisfy({ $0 >= 0 }) else { throw KernelError.invalid("shape \(shape) has a negative size") }
                let out = try ctx.allocate(value.type, shape)
                shapeFill(
                    out.buffer.baseAddress, count: out.count, size: elementSize(value.type), element: value.buffer.baseAddress)
                return [out]
            }
        }
        r.register("Constant") { spec in
            let value = try constantValue(spec)
            return FunctionKernel { _, _ in [value] }
        }
        r.register("Range") { _ in
            FunctionKernel { inputs, ctx in
                let start = try inputs.required(0, "start"), limit = try inputs.required(1, "limit"),
                    delta = try inputs.required(2, "delta")
                guard limit.type == start.type, delta.type == start.type else { throw KernelError.invalid("input types differ") }
                return [try range(start, limit, delta, ctx: ctx)]
            }
        }
    }

    /// The value of a Constant node, from whichever attribute it has.
    private static func constantValue(_ spec: NodeSpec) throws -> Value {
        if let t = try spec.tensor("value") { return try Value(t) }
        if spec.has("value_float") { return Value.float([try spec.float("value_float", 0)], shape: []) }
        if let fs = try spec.floats("value_floats") { return Value.float(fs, shape: [fs.count]) }
        if spec.has("value_int") { return Value.int64([try spec.int("value_int", 0)], shape: []) }
        if let v = try spec.ints("value_ints") { return Value.int64(v) }
        if case .sparseTensor(let s)? = spec.node.attribute("sparse_value") { return try densify(s) }
        if spec.has("value_string") || spec.has("value_strings") { throw KernelError.unsupported("string constants") }
        throw KernelError.invalid("no value attribute")
    }

    /// A sparse tensor as a dense value (the values scattered into zeros).
    private static func densify(_ s: SparseTensor) throws -> Value {
        let values = try Value(s.values)
        let indices = try Value(s.indices).ints()
        let total = try shapeCount(s.shape), size = elementSize(values.type), nnz = values.count, rank = s.shape.count
        guard indices.count == nnz || indices.count == nnz * rank else {
            throw KernelError.invalid("sparse indices do not match the \(nnz) values")
        }
        let out = Value(type: values.type, shape: s.shape, buffer: TensorBuffer(zeroed: total * size))
        let strides = shapeStrides(s.shape)
        for i in 0..<nnz {
            var flat = 0
            if indices.count == nnz {
                flat = indices[i]
            } else {
                for d in 0..<rank {
                    let c = indices[i * rank + d]
                    guard c >= 0, c < s.shape[d] else { throw KernelError.invalid("sparse index \(c) is out of range") }
                    flat += c * strides[d]
                }
            }
            guard flat >= 0, flat < total else { throw KernelError.invalid("sparse index \(flat) is out of range") }
            (out.buffer.baseAddress + flat * size).copyMemory(from: values.buffer.baseAddress + i * size, byteCount: size)
        }
        return out
    }

    /// start, start + delta, … up to (not including) limit.
    private static func range(_ start: Value, _ limit: Value, _ delta: Value, ctx: ExecutionContext) throws -> Value {
        let type = start.type
        switch type {
        case .float, .double, .float16, .bfloat16:
            let s = try shapeScalar(start, "start"), l = try shapeScalar(limit, "limit"), d = try shapeScalar(delta, "delta")
            guard d != 0, s.isFinite, l.isFinite, d.isFinite else {
                throw KernelError.invalid("cannot make a range from \(s) to \(l) by \(d)")
            }
            let steps = max(((l - s) / d).rounded(.up), 0)
            guard steps < 1e15 else { throw KernelError.invalid("range from \(s) to \(l) by \(d) is too long") }
            let n = Int(steps)
            let out = try ctx.allocate(type, [n])
            switch type {
            case .float:
                let p = out.floats
                for i in 0..<n { p[i] = Float(s + Double(i) * d) }
            case .double:
                let p = out.pointer(Double.self)
                for i in 0..<n { p[i] = s + Double(i) * d }
            case .float16:
                let p = out.pointer(UInt16.self)
                for i in 0..<n { p[i] = Float(s + Double(i) * d).halfBits }
            default:
                let p = out.pointer(UInt16.self)
                for i in 0..<n { p[i] = Float(s + Double(i) * d).bfloat16Bits }
            }
            return out
        case .int64, .int32, .int16, .int8, .uint64, .uint32, .uint16, .uint8:
            let s = try start.ints(), l = try limit.ints(), d = try delta.ints()
            guard s.count == 1, l.count == 1, d.count == 1 else {
                throw KernelError.invalid("start, limit and delta must be scalars")
            }
            guard d[0] != 0 else { throw KernelError.invalid("delta is 0") }
            let (span, o) = l[0].subtractingReportingOverflow(s[0])
            guard !o else { throw KernelError.invalid("range from \(s[0]) to \(l[0]) is too long") }
            let step = d[0]
            let n = span == 0 || (span > 0) != (step > 0) ? 0 : (span.magnitude - 1) / step.magnitude + 1
            guard n < 1 << 50 else { throw KernelError.invalid("range from \(s[0]) to \(l[0]) is too long") }
            let values = try ctx.allocate(.int64, [Int(n)])
            let p = values.pointer(Int64.self)
            for i in 0..<Int(n) { p[i] = Int64(s[0] &+ i &* step) }
            return try convert(values, to: type, ctx: ctx)
        default:
            throw KernelError.unsupported("Range of \(type.name)")
        }
    }
}
