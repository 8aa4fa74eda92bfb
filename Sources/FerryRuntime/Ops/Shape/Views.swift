import FerryIR

extension ShapeOps {
    /// Ops whose output shares the input's storage: Reshape, Flatten, Squeeze, Unsqueeze, Identity
    /// and inference-mode Dropout.
    static func registerViews(into r: inout KernelRegistry) {
        r.register("Reshape") { spec in
            if spec.opset < 5 {
                guard let shape = try spec.ints("shape") else { throw KernelError.invalid("attribute 'shape' is missing") }
                return FunctionKernel { inputs, _ in [try reshape(try inputs.required(0), shape, allowZero: false)] }
            }
            let allowZero = try spec.int("allowzero", 0) != 0
            return FunctionKernel { inputs, _ in
                let shape = try shapeIntegers(try inputs.required(1, "shape"), "shape")
                return [try reshape(try inputs.required(0), shape, allowZero: allowZero)]
            }
        }
        r.register("Flatten") { spec in
            let axis = try spec.int("axis", 1)
            return FunctionKernel { inputs, _ in
                let x = try inputs.required(0)
                let a = axis < 0 ? axis + x.rank : axis
                guard a >= 0, a <= x.rank else { throw KernelError.invalid("axis \(axis) is out of range for rank \(x.rank)") }
                return [x.reshaped([try shapeCount(x.shape[..<a]), try shapeCount(x.shape[a...])])]
            }
        }
        r.register("Squeeze") { spec in
            let attrAxes = spec.opset < 13 ? try spec.ints("axes") : nil
            return FunctionKernel { inputs, _ in
                let x = try inputs.required(0)
                let given = try attrAxes ?? inputs.optional(1).map { try shapeIntegers($0, "axes") }
                // No axes (or an empty list) squeezes every axis of size 1.
                guard let given, !given.isEmpty else { return [x.reshaped(x.shape.filter { $0 != 1 })] }
                var drop = Set<Int>()
                for a in given {
                    let k = try shapeAxis(a, rank: x.rank)
                    guard x.shape[k] == 1 else { throw KernelError.invalid("cannot squeeze axis \(a) of size \(x.shape[k])") }
                    drop.insert(k)
                }
                return [x.reshaped(x.shape.indices.filter { !drop.contains($0) }.map { x.shape[$0] })]
            }
        }
        r.register("Unsqueeze") { spec in
            let attrAxes = spec.opset < 13 ? try spec.ints("axes") : nil
            if spec.opset < 13 && attrAxes == nil { throw KernelError.invalid("attribute 'axes' is missing") }
            return FunctionKernel { inputs, _ in
                let x = try inputs.required(0)
                let axes = try attrAxes ?? shapeIntegers(try inputs.required(1, "axes"), "axes")
                let rank = x.rank + axes.count
                var inserted = [Bool](repeating: false, count: rank)
                for a in axes {
                    let k = try shapeAxis(a, rank: rank)
                    guard !inserted[k] else { throw KernelError.invalid("axis \(a) is repeated") }
                    inserted[k] = true
                }
                var shape: [Int] = [], next = 0
                for k in 0..<rank {
                    if inserted[k] {
                        shape.append(1)
                    } else {
                        shape.append(x.shape[next])
                        next += 1
                    }
                }
                return [x.reshaped(shape)]
            }
        }
        r.register("Identity") { _ in FunctionKernel { inputs, _ in [try inputs.required(0)] } }
        r.register("Dropout") { spec in
            // Before opset 12 the ratio is an attribute and the op always infers (is_test is ignored).
            let legacy = spec.opset < 12
            let attrRatio = try spec.float("ratio", 0.5)
            // The mask has the input's type before opset 10, bool after.
            let typedMask = spec.opset < 10
            let wantMask = spec.hasOutput(1)
            if !legacy, let training = spec.constant(2), try shapeScalar(training, "training_mode") != 0 {
                let ratio = try spec.constant(1).map { try shapeScalar($0, "ratio") } ?? 0.5
                if ratio > 0 { throw KernelError.unsupported("Dropout in training mode") }
            }
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                if !legacy, let training = inputs.optional(2), try shapeScalar(training, "training_mode") != 0 {
                    let ratio = try inputs.optional(1).map { try shapeScalar($0, "ratio") } ?? Double(attrRatio)
                    if ratio > 0 { throw KernelError.unsupported("Dropout in training mode") }
                }
                guard wantMask else { return [x] }
                let maskType: ElementType = typedMask ? x.type : .bool
                let mask = try ctx.allocate(maskType, x.shape)
                let one = try shapeConstant(1, maskType, ctx: ctx)
                shapeFill(mask.buffer.baseAddress, count: x.count, size: elementSize(maskType), element: one.buffer.baseAddress)
                return [x, mask]
            }
        }
    }

    /// `x` under the ONNX Reshape target `spec` (0 copies the input's axis unless `allowZero`,
    /// -1 is inferred).
    private static func reshape(_ x: Value, _ spec: [Int], allowZero: Bool) throws -> Value {
        var shape = spec
        var inferred: Int?
        for (i, d) in spec.enumerated() {
            if d == -1 {
                guard inferred == nil else { throw KernelError.invalid("shape \(spec) has more than one -1") }
                inferred = i
            } else if d == 0 && !allowZero {
                guard i < x.rank else { throw KernelError.invalid("shape \(spec) copies axis \(i) of a rank-\(x.rank) input") }
                shape[i] = x.shape[i]
            } else if d < 0 {
                throw KernelError.invalid("shape \(spec) has a negative size")
            }
        }
        if let i = inferred {
            shape[i] = 1
            let known = try shapeCount(shape)
            guard known > 0, x.count % known == 0 else {
                throw KernelError.invalid("cannot reshape \(x.shape) to \(spec)")
            }
            shape[i] = x.count / known
        }
        guard try shapeCount(shape) == x.count else { throw KernelError.invalid("cannot reshape \(x.shape) to \(spec)") }
        return x.reshaped(shape)
    }
}
