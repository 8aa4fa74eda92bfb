import FerryIR

/// Quantized ops: ONNX QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, QLinearConv,
/// ConvInteger, QLinearMatMul, MatMulInteger, and the com.microsoft ops onnxruntime's quantizer
/// writes (QLinearAdd, QLinearMul, QLinearSigmoid, QLinearLeakyRelu, QLinearConcat,
/// QLinearGlobalAveragePool, QLinearAveragePool, QGemm, MatMulIntegerToFloat,
/// DynamicQuantizeMatMul, DynamicQuantizeLSTM, MatMulNBits).
enum QuantizationOps {

    static func register(into r: inout KernelRegistry) {
        r.register("QuantizeLinear", since: 10) { spec in try QuantizeLinearKernel(spec) }
        r.register("DequantizeLinear", since: 10) { spec in try DequantizeLinearKernel(spec) }
        r.register("DynamicQuantizeLinear", since: 11) { _ in
            FunctionKernel { inputs, ctx in
                let (y, p) = try dynamicQuantizeLinear(try inputs.required(0, "x"), ctx)
                return [
                    y, Value.float([p.scale], shape: []),
                    Value(type: .uint8, shape: [], buffer: [UInt8(p.zeroPoint)].withUnsafeBytes { .init(copying: $0) })
                ]
            }
        }
        r.register("QLinearConv", since: 10) { spec in try QuantizedConvKernel(spec, slots: .qlinear) }
        r.register("ConvInteger", since: 10) { spec in try QuantizedConvKernel(spec, slots: .integer) }
        r.register("QLinearMatMul", since: 10) { spec in try QuantizedMatMulKernel(spec, slots: .qlinearMatMul) }
        r.register("MatMulInteger", since: 10) { spec in try QuantizedMatMulKernel(spec, slots: .matMulInteger) }
        r.register("MatMulIntegerToFloat", domain: Domain.microsoft) { spec in
            try QuantizedMatMulKernel(spec, slots: .matMulIntegerToFloat)
        }
        r.register("DynamicQuantizeMatMul", domain: Domain.microsoft) { spec in
            try QuantizedMatMulKernel(spec, slots: .dynamicQuantizeMatMul)
        }
        r.register("QGemm", domain: Domain.microsoft) { spec in try QuantizedMatMulKernel(spec, slots: .qgemm) }
        r.register("QLinearAdd", domain: Domain.microsoft, qlinearBinary(multiply: false))
        r.register("QLinearMul", domain: Domain.microsoft, qlinearBinary(multiply: true))
        r.register("QLinearSigmoid", domain: Domain.microsoft, qlinearUnary(logistic))
        r.register("QLinearLeakyRelu", domain: Domain.microsoft) { spec in
            let alpha = try spec.float("alpha", 0.01)
            return try qlinearUnary { $0 < 0 ? alpha * $0 : $0 }(spec)
        }
        r.register("QLinearConcat", domain: Domain.microsoft) { spec in try qlinearConcat(spec) }
        r.register("QLinearGlobalAveragePool", domain: Domain.microsoft) { spec in try QLinearGlobalAveragePoolKernel(spec) }
        r.register("QLinearAveragePool", domain: Domain.microsoft) { spec in try QLinearAveragePoolKernel(spec) }
        r.register("DynamicQuantizeLSTM", domain: Domain.microsoft) { spec in try DynamicQuantizeLSTMKernel(spec) }
        r.register("MatMulNBits", domain: Domain.microsoft) { spec in try MatMulNBitsKernel(spec) }
    }
}
