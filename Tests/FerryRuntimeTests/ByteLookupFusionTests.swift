import FerryIR
import FerryRuntime
import FerryTestSupport
import Foundation
import Testing

/// DequantizeLinear -> elementwise op with scalar constants -> QuantizeLinear (as onnxruntime's
/// quantizer leaves the Div of a spelled-out hard swish, or a HardSigmoid) runs as one lookup in a
/// table of the 256 inputs; checked against the ONNX definition computed here, on every byte value
/// and both 8-bit types.
@Suite struct ByteLookupFusionTests {
    @Test func dequantizeOpQuantizeBecomesOneLookup() throws {
        let ops: [(op: String, constant: Float?, attributes: [Attribute], f: (Float) -> Float, exact: Bool)] = [
            ("Div", 6, [], { $0 / 6 }, true),
            ("Sub", 0.75, [], { $0 - 0.75 }, true),
            (
                "HardSigmoid", nil, [attr("alpha", Float(0.2)), attr("beta", Float(0.5))], { max(0, min(1, 0.2 * $0 + 0.5)) },
                false
            ),
            ("Tanh", nil, [], { Float(tanh(Double($0))) }, false)
        ]
        for signed in [false, true] {
            let type: ElementType = signed ? .int8 : .uint8
            let lo: Int32 = signed ? -128 : 0, hi: Int32 = signed ? 127 : 255
            let xs: Float = 0.05, xz: Int32 = signed ? -3 : 120, ys: Float = 0.011, yz: Int32 = signed ? 5 : 70
            // every byte, as the float values that quantize to it
            let x = HostTensor([2, 128], (lo...hi).map { Float($0 - xz) * xs })
            func zero(_ name: String, _ z: Int32) -> Tensor {
                signed
                    ? Tensor(name: name, elementType: .int8, shape: [], values: [Int8(z)])
                    : Tensor(name: name, elementType: .uint8, shape: [], values: [UInt8(z)])
            }
            for o in ops {
                var g = KernelGraph()
                g.input("x", x)
                g.initializers += [
                    Tensor(name: "xs", elementType: .float, shape: [], values: [xs]), zero("xz", xz),
                    Tensor(name: "ys", elementType: .float, shape: [], values: [ys]), zero("yz", yz)
                ]
                g.node("QuantizeLinear", ["x", "xs", "xz"], ["xq"])
                g.node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"])
                if let c = o.constant {
                    g.initializers.append(Tensor(name: "c", elementType: .float, shape: [1], values: [c]))
                    g.node(o.op, ["xd", "c"], ["v"], o.attributes)
                } else {
                    g.node(o.op, ["xd"], ["v"], o.attributes)
                }
                g.node("QuantizeLinear", ["v", "ys", "yz"], ["yq"])
                g.node("DequantizeLinear", ["yq", "ys", "yz"], ["y"])
                g.outputs = ["y"]
                for threads in [1, 2] {
                    let profiler = Profiler()
                    let got = try g.run(threads: threads, profiler: profiler)[0]
                    let ran = profiler.nodes.map(\.op)
                    #expect(ran.filter { $0 == "ByteLookup" }.count == 1, "\(o.op) \(type.name): \(ran)")
                    #expect(!ran.contains(o.op), "\(o.op) \(type.name) not fused: \(ran)")
                    #expect(got.shape == [2, 128])
                    for (i, b) in (lo...hi).enumerated() {
                        let v = o.f(Float(b - xz) * xs)
                        let q = Int32(max(Float(lo), min(Float(hi), (v / ys).rounded(.toNearestOrEven) + Float(yz))))
                        let want = Float(q - yz) * ys
                        // arithmetic is exact; HardSigmoid and Tanh may round their float result differently
                        #expect(abs(got.data[i] - want) <= (o.exact ? 0 : ys * 1.001), "\(o.op) \(type.name) byte \(b)")
                    }
                }
            }
        }
    }

    /// A hard swish as onnxruntime's quantizer writes it, x * Clip(x + 3, 0, 6) / 6 with every value
    /// quantized (the 3 a quantized constant, the Clip folded into the ranges): the QLinearAdd of the
    /// constant, the QLinearMul of x by that and the Div all depend on x's byte alone, so they run as
    /// one lookup; checked on every byte against the steps computed here (within one output step:
    /// the float32 rounding of the intermediate steps may differ).
    @Test func spelledOutQuantizedHardSwishBecomesOneLookup() throws {
        let xs: Float = 0.05, xz: Int32 = 128, ts: Float = 6.0 / 255, ms: Float = 0.06, ys: Float = 0.03
        let x = HostTensor([256], (0..<256).map { Float($0 - Int(xz)) * xs })
        func u8(_ name: String, _ v: Int32) -> Tensor { Tensor(name: name, elementType: .uint8, shape: [], values: [UInt8(v)]) }
        func f32(_ name: String, _ v: Float) -> Tensor { Tensor(name: name, elementType: .float, shape: [], values: [v]) }
        var g = KernelGraph()
        g.input("x", x)
        g.initializers += [
            f32("xs", xs), u8("xz", xz), f32("ts", ts), u8("tz", 0), f32("ms", ms), u8("mz", 0), f32("ys", ys), u8("yz", 0),
            f32("cs", 0.02), u8("cz", 0), u8("c3q", 150), f32("six", 6)
        ]
        g.node("QuantizeLinear", ["x", "xs", "xz"], ["xq"])
        g.node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"])
        g.node("DequantizeLinear", ["c3q", "cs", "cz"], ["c3"])
        g.node("Add", ["xd", "c3"], ["t"])
        g.node("QuantizeLinear", ["t", "ts", "tz"], ["tq"])
        g.node("DequantizeLinear", ["tq", "ts", "tz"], ["td"])
        g.node("Mul", ["xd", "td"], ["m"])
        g.node("QuantizeLinear", ["m", "ms", "mz"], ["mq"])
        g.node("DequantizeLinear", ["mq", "ms", "mz"], ["md"])
        g.node("Div", ["md", "six"], ["v"])
        g.node("QuantizeLinear", ["v", "ys", "yz"], ["yq"])
        g.node("DequantizeLinear", ["yq", "ys", "yz"], ["y"])
        g.outputs = ["y"]
        func quantize(_ v: Float, _ s: Float) -> Float { max(0, min(255, (v / s).rounded(.toNearestOrEven))) * s }
        for threads in [1, 2] {
            let profiler = Profiler()
            let got = try g.run(threads: threads, profiler: profiler)[0]
            let ran = profiler.nodes.map(\.op)
            #expect(ran.filter { $0 == "ByteLookup" }.count == 1, "\(ran)")
            #expect(Set(ran).isDisjoint(with: ["Add", "Mul", "Div", "QLinearAdd", "QLinearMul"]), "not fused: \(ran)")
            for b in 0..<256 {
                let xv = Float(b - Int(xz)) * xs
                let want = quantize(quantize(xv * quantize(xv + 150 * 0.02, ts), ms) / 6, ys)
                #expect(abs(got.data[b] - want) <= ys * 1.001, "byte \(b)")
            }
        }
    }
}
