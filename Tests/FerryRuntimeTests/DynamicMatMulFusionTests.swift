import FerryIR
import FerryRuntime
import FerryTestSupport
import Testing

/// What dynamic quantization writes for a MatMul (DynamicQuantizeLinear, MatMulInteger, Cast to
/// float, Mul by a_scale * b_scale, Add of the bias) runs as one MatMulIntegerToFloat, and gives
/// bit for bit what the ops' definitions give: the exact int32 sums (Int64 here), converted to
/// float, times the float product of the two scales, plus the bias (then a Relu, fused into the
/// same output pass, when one follows). The quantized input, its
/// scale and zero point are graph outputs, so the reference starts from the same values.
@Suite struct DynamicMatMulFusionTests {
    @Test(arguments: [false, true], [false, true])
    func dynamicallyQuantizedMatMulIsFusedAndExact(scaleFirst: Bool, relu: Bool) throws {
        var rng = SplitMix64(seed: 93)
        let (rows, k, n) = (21, 70, 37)
        let w = (0..<(k * n)).map { _ in Int8(rng.int(-128...127)) }
        let ws = (0..<n).map { _ in Float(0.001) + Float(rng.int(1...100)) * 1e-4 }
        let bias = (0..<n).map { _ in rng.unit() }
        var g = KernelGraph()
        g.input("x", HostTensor([3, 7, k], rng.tensor([3, 7, k]).data.map { $0 * 4 }))
        g.initializers += [
            Tensor(name: "w", elementType: .int8, shape: [k, n], values: w),
            Tensor(name: "wz", elementType: .int8, shape: [n], values: [Int8](repeating: 0, count: n)),
            Tensor(name: "ws", elementType: .float, shape: [n], values: ws),
            Tensor(name: "bias", elementType: .float, shape: [n], values: bias)
        ]
        g.node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"])
        g.node("MatMulInteger", ["xq", "w", "xz", "wz"], ["y32"])
        g.node("Cast", ["y32"], ["yf"], [attr("to", Int(ElementType.float.rawValue))])
        g.node("Mul", scaleFirst ? ["ws", "xs"] : ["xs", "ws"], ["s"])
        g.node("Mul", scaleFirst ? ["s", "yf"] : ["yf", "s"], ["ym"])
        g.node("Add", ["bias", "ym"], [relu ? "yb" : "y"])
        if relu { g.node("Relu", ["yb"], ["y"]) }
        g.outputs = ["y", "xq", "xs", "xz"]
        for threads in [1, 2] {
            let profiler = Profiler()
            let session = try InferenceSession(model: g.model, options: SessionOptions(threads: threads))
            let out = try session.run(g.feeds, profiler: profiler).map(\.tensor)
            let ops = profiler.nodes.map(\.op)
            #expect(ops == ["DynamicQuantizeLinear", "MatMulIntegerToFloat"], "\(ops)")
            let y = out[0].bytes!.toArray(of: Float.self), xq = out[1].bytes!.toArray(of: UInt8.self)
            let xs = out[2].bytes!.toArray(of: Float.self)[0], xz = Int64(out[3].bytes!.toArray(of: UInt8.self)[0])
            #expect(out[0].shape == [3, 7, n])
            var mismatches = 0
            for i in 0..<rows {
                for j in 0..<n {
                    var sum: Int64 = 0
                    for t in 0..<k { sum += (Int64(xq[i * k + t]) - xz) * Int64(w[t * n + j]) }
                    let sumBias = bias[j] + Float(Int32(sum)) * (xs * ws[j])
                    let want = relu ? max(0, sumBias) : sumBias
                    if y[i * n + j].bitPattern != want.bitPattern { mismatches += 1 }
                }
            }
            #expect(mismatches == 0, "\(mismatches) of \(rows * n) differ (threads \(threads))")
        }
    }

    /// DynamicQuantizeLinear of a tensor large enough that its range is found in chunks on the
    /// threads: the same scale, zero point and bytes as one thread's, and the range's true ends.
    @Test func dynamicQuantizeLinearAgreesAcrossThreads() throws {
        var rng = SplitMix64(seed: 95)
        var data = rng.tensor([600, 1000]).data.map { $0 * 3 }
        data[123_457] = -7.5
        data[599_999] = 9.25
        var g = KernelGraph()
        g.input("x", HostTensor([600, 1000], data))
        g.node("DynamicQuantizeLinear", ["x"], ["y", "ys", "yz"])
        g.outputs = ["y", "ys", "yz"]
        var results: [[[UInt8]]] = []
        for threads in [1, 2] {
            let session = try InferenceSession(model: g.model, options: SessionOptions(threads: threads))
            results.append(try session.run(g.feeds).map { $0.tensor.bytes!.toArray(of: UInt8.self) })
        }
        #expect(results[0] == results[1])
        let scale = results[0][1].withUnsafeBytes { $0.load(as: Float.self) }
        #expect(scale == (Float(9.25) - Float(-7.5)) / 255, "\(scale)")
    }
}
