import FerryIR
import FerryRuntime
import FerryTestSupport
import Foundation
import Testing

/// DequantizeLinear -> Conv -> (Sigmoid | HardSigmoid | HardSwish | LeakyRelu) -> QuantizeLinear runs
/// as one int8 convolution whose output pass dequantizes, applies the activation and quantizes;
/// checked against the ONNX definition computed here in Double (dequantize, convolve, activate,
/// quantize with rounding half to even), within one output step.
@Suite struct QDQActivationFusionTests {
    @Test func activationBetweenConvAndQuantizeLinearIsFusedAndExact() throws {
        let activations: [(op: String, attributes: [Attribute], f: (Double) -> Double)] = [
            ("Sigmoid", [], { 1 / (1 + exp(-$0)) }),
            ("HardSigmoid", [], { max(0, min(1, 0.2 * $0 + 0.5)) }),
            ("HardSwish", [], { $0 * max(0, min(1, $0 / 6 + 0.5)) }),
            ("LeakyRelu", [attr("alpha", Float(0.1))], { $0 < 0 ? 0.1 * $0 : $0 })
        ]
        var rng = SplitMix64(seed: 91)
        let c = 4, m = 5, h = 6, w = 7
        let x = rng.tensor([1, c, h, w])
        let xs: Float = 2.0 / 255, xz: Int32 = 128
        let wq = (0..<(m * c * 9)).map { _ in Int8(rng.int(-127...127)) }
        let ws = (0..<m).map { Float(0.004) * Float(1 + $0) }
        let bq = (0..<m).map { _ in Int32(rng.int(-2000...2000)) }
        let ys: Float = 3.0 / 255, yz: Int32 = 60
        func quantize(_ v: Double, _ s: Float, _ z: Int32) -> Int32 {
            Int32(max(0, min(255, (v / Double(s)).rounded(.toNearestOrEven) + Double(z))))
        }
        // The definition, in Double.
        let xd = HostTensor(x.shape, x.data.map { Float(Double(quantize(Double($0), xs, xz) - xz) * Double(xs)) })
        let wd = HostTensor([m, c, 3, 3], wq.enumerated().map { Float(Double($1) * Double(ws[$0 / (c * 9)])) })
        let bias = (0..<m).map { Float(Double(bq[$0]) * Double(xs) * Double(ws[$0])) }
        let conv = referenceConv(
            xd, wd, bias: bias, group: 1, strides: [1, 1], dilations: [1, 1], padBegin: [1, 1], outSpatial: [h, w])

        for a in activations {
            var g = KernelGraph()
            g.input("x", x)
            g.initializers += [
                Tensor(name: "xs", elementType: .float, shape: [], values: [xs]),
                Tensor(name: "xz", elementType: .uint8, shape: [], values: [UInt8(xz)]),
                Tensor(name: "wq", elementType: .int8, shape: [m, c, 3, 3], values: wq),
                Tensor(name: "ws", elementType: .float, shape: [m], values: ws),
                Tensor(name: "wz", elementType: .int8, shape: [m], values: [Int8](repeating: 0, count: m)),
                Tensor(name: "bq", elementType: .int32, shape: [m], values: bq),
                Tensor(name: "bs", elementType: .float, shape: [m], values: ws.map { $0 * xs }),
                Tensor(name: "ys", elementType: .float, shape: [], values: [ys]),
                Tensor(name: "yz", elementType: .uint8, shape: [], values: [UInt8(yz)])
            ]
            g.node("QuantizeLinear", ["x", "xs", "xz"], ["xq"])
            g.node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"])
            g.node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], [attr("axis", 0)])
            g.node("DequantizeLinear", ["bq", "bs"], ["bd"], [attr("axis", 0)])
            g.node("Conv", ["xd", "wd", "bd"], ["conv"], [attr("pads", [1, 1, 1, 1])])
            g.node(a.op, ["conv"], ["act"], a.attributes)
            g.node("QuantizeLinear", ["act", "ys", "yz"], ["yq"])
            g.node("DequantizeLinear", ["yq", "ys", "yz"], ["y"])
            g.outputs = ["y"]
            for threads in [1, 2] {
                let profiler = Profiler()
                let got = try g.run(threads: threads, profiler: profiler)[0]
                let ops = profiler.nodes.map(\.op)
                #expect(ops.contains("QLinearConv"), "\(a.op): \(ops)")
                #expect(!(ops.contains(a.op) || ops.filter { $0 == "QuantizeLinear" }.count > 1), "\(a.op) not fused: \(ops)")
                var exact = 0
                for (i, v) in conv.enumerated() {
                    let want = Double(quantize(a.f(v), ys, yz) - yz) * Double(ys)
                    let diff = abs(Double(got.data[i]) - want)
                    #expect(diff <= Double(ys) * 1.001, "\(a.op) element \(i)")
                    if diff < Double(ys) / 2 { exact += 1 }
                }
                #expect(Double(exact) / Double(conv.count) >= 0.98, "\(a.op): \(exact) of \(conv.count) exact")
            }
        }
    }
}
