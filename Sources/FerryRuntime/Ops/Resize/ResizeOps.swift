import FerryIR

/// Resize (opsets 10 to 19) and Upsample (opsets 7 and 9): nearest, N-d multilinear and cubic
/// resampling with every coordinate transformation mode, antialiasing, axes and aspect-ratio policies.
enum ResizeOps {
    static func register(into r: inout KernelRegistry) {
        r.register("Resize") { spec in
            let config = try ResizeConfig(resize: spec)
            // Opset 10 has inputs (X, scales); later opsets (X, roi, scales, sizes).
            let legacy = spec.opset < 11
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0, "X")
                let scales = inputs.optional(legacy ? 1 : 2)
                let roi = legacy ? nil : inputs.optional(1), sizes = legacy ? nil : inputs.optional(3)
                return [try ResizeExecution.run(x, config: config, roi: roi, scales: scales, sizes: sizes, ctx)]
            }
        }
        r.register("Upsample") { spec in
            let config = try ResizeConfig(upsample: spec)
            // Opset 7 carries the scales as an attribute; opset 9 as input 1.
            let attribute = spec.opset < 9 ? try spec.floats("scales") : nil
            if spec.opset < 9 && attribute == nil { throw KernelError.invalid("attribute 'scales' is required") }
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0, "X")
                let scales = try attribute.map { Value.float($0, shape: [$0.count]) } ?? inputs.required(1, "scales")
                guard try scales.doubles().allSatisfy({ $0 >= 1 }) else {
                    throw KernelError.invalid("Upsample scales must be 1 or more")
                }
                return [try ResizeExecution.run(x, config: config, roi: nil, scales: scales, sizes: nil, ctx)]
            }
        }
    }
}
