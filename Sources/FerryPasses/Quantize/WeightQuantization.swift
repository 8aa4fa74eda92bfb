import FerryIR

/// A float weight tensor quantized to symmetric int8, with one scale per slice along `axis`
/// (per channel) or a single scale.
struct QuantizedWeight {
    /// int8 values, same shape as the float tensor.
    var values: Tensor
    /// One scale per slice along `axis`, or one in all.
    var scales: [Float]
    /// The axis the scales run along; nil for a per-tensor scale.
    var axis: Int?

    /// Quantizes `weight` (float32) along `axis` (nil: per tensor); every value rounds half to even
    /// and saturates to [-levels, levels] (127, or 64 for 7-bit weights).
    init(_ weight: Tensor, name: String, axis: Int?, levels: Int32 = 127) throws {
        guard let w = weight.floatValues else {
            throw PassError.unsupported(
                subject: "weight '\(weight.name)'",
                reason: "only float32 weights can be quantized (found \(weight.elementType.name))")
        }
        let shape = weight.shape
        var slices = 1, inner = w.count, outer = 1
        if let axis {
            slices = shape[axis]
            outer = shape[..<axis].reduce(1, *)
            inner = shape[(axis + 1)...].reduce(1, *)
        }
        var absMax = [Float](repeating: 0, count: slices)
        for o in 0..<outer {
            for s in 0..<slices {
                let base = (o * slices + s) * inner
                for i in 0..<inner { absMax[s] = max(absMax[s], abs(w[base + i])) }
            }
        }
        let params = absMax.map { QuantParameters.symmetric(absMax: $0, levels: levels) }
        var q = [Int8](repeating: 0, count: w.count)
        for o in 0..<outer {
            for s in 0..<slices {
                let base = (o * slices + s) * inner
                for i in 0..<inner {
                    q[base + i] = Int8(min(max(params[s].quantize(w[base + i], type: .int8, symmetric: true), -levels), levels))
                }
            }
        }
        values = Tensor(name: name, elementType: .int8, shape: shape, values: q)
        scales = params.map(\.scale)
        self.axis = axis
    }

    /// The scales as a tensor named `name`: shape [n] per channel, a scalar per tensor.
    func scaleTensor(_ name: String) -> Tensor {
        Tensor(name: name, floats: scales, shape: axis == nil ? [] : [scales.count])
    }

    /// Zero points (all 0) matching the scales, as int8.
    func zeroPointTensor(_ name: String) -> Tensor {
        Tensor(
            name: name, elementType: .int8, shape: axis == nil ? [] : [scales.count],
            values: [Int8](repeating: 0, count: scales.count))
    }

    /// The weights as the integers would give them back: q * scale.
    func dequantized() -> [Float] {
        let q = values.bytes!.toArray(of: Int8.self)
        guard let axis else { return q.map { Float($0) * scales[0] } }
        let shape = values.shape
        let slices = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        return q.enumerated().map { i, v in Float(v) * scales[(i / inner) % slices] }
    }
}

/// A float bias quantized to int32 with scale inputScale * weightScale[o] and zero point 0, as
/// QLinearConv and onnxruntime's QDQ bias expect.
func quantizeBias(_ bias: Tensor, name: String, inputScale: Float, weightScales: [Float]) throws -> (
    values: Tensor, scales: [Float]
) {
    guard let b = bias.floatValues else {
        throw PassError.unsupported(
            subject: "bias '\(bias.name)'", reason: "only float32 biases can be quantized (found \(bias.elementType.name))")
    }
    let scales = b.indices.map { inputScale * weightScales[weightScales.count == 1 ? 0 : $0] }
    let q = zip(b, scales).map { v, s -> Int32 in
        guard s > 0 else { return 0 }
        let r = (Double(v) / Double(s)).rounded(.toNearestOrEven)
        return Int32(max(min(r, Double(Int32.max)), Double(Int32.min)))
    }
    return (Tensor(name: name, elementType: .int32, shape: bias.shape, values: q), scales)
}
