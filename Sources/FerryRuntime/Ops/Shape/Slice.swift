import FerryIR

extension ShapeOps {
    /// Slice: starts, ends and axes as attributes before opset 10, then inputs with steps.
    static func registerSlice(into r: inout KernelRegistry) {
        r.register("Slice") { spec in
            if spec.opset < 10 {
                guard let starts = try spec.ints("starts"), let ends = try spec.ints("ends") else {
                    throw KernelError.invalid("attributes 'starts' and 'ends' are required")
                }
                let axes = try spec.ints("axes")
                return FunctionKernel { inputs, ctx in
                    [try slice(try inputs.required(0), starts: starts, ends: ends, axes: axes, steps: nil, ctx: ctx)]
                }
            }
            return FunctionKernel { inputs, ctx in
                let starts = try shapeIntegers(try inputs.required(1, "starts"), "starts")
                let ends = try shapeIntegers(try inputs.required(2, "ends"), "ends")
                let axes = try inputs.optional(3).map { try shapeIntegers($0, "axes") }
                let steps = try inputs.optional(4).map { try shapeIntegers($0, "steps") }
                return [try slice(try inputs.required(0), starts: starts, ends: ends, axes: axes, steps: steps, ctx: ctx)]
            }
        }
    }

    /// The NumPy-style slice of `x` (starts and ends clamped to each axis, negative steps reverse).
    private static func slice(_ x: Value, starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?, ctx: ExecutionContext) throws
        -> Value
    {
        let axes = axes ?? Array(0..<starts.count)
        let steps = steps ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw KernelError.invalid("starts, ends, axes and steps have different lengths")
        }
        let inStrides = shapeStrides(x.shape)
        var shape = x.shape, strides = inStrides, offset = 0
        var seen = Set<Int>()
        for i in 0..<starts.count {
            let a = try shapeAxis(axes[i], rank: x.rank)
            guard seen.insert(a).inserted else { throw KernelError.invalid("axis \(axes[i]) is repeated") }
            let dim = x.shape[a], step = steps[i]
            guard step != 0 else { throw KernelError.invalid("step 0 on axis \(axes[i])") }
            var s = starts[i], e = ends[i]
            if s < 0 { s += dim }
            if e < 0 { e += dim }
            let count: Int
            if step > 0 {
                s = min(max(s, 0), dim)
                e = min(max(e, 0), dim)
                count = e > s ? (e - s - 1) / step + 1 : 0
            } else {
                s = min(max(s, 0), dim - 1)
                e = min(max(e, -1), dim - 1)
                count = s > e ? (s - e - 1) / (step == Int.min ? Int.max : -step) + 1 : 0
            }
            shape[a] = count
            if count > 0 { offset += s * inStrides[a] }
            strides[a] = count > 1 ? inStrides[a] * step : 0
        }
        return try ShapeStridedCopy.copy(x, offset: offset, shape: shape, strides: strides, ctx: ctx)
    }
}
