import FerryIR
import FerryTestSupport
import Foundation
import Testing

@testable import FerryRuntime

/// SiLU, Swish and GELU as exporters spell them out (Sigmoid and Mul; Div or Mul, Erf, Add and two
/// Muls in the orders torch and TF write) become one Swish or Gelu node, fused into the Conv
/// before it on every Conv kernel path; the results against float64 references.
extension FusionTests {
    /// Builds Conv + `pattern` on each geometry and checks the output and that only the Conv ran.
    private func checkFused(
        _ label: String, seed: UInt64, pattern: (inout KernelGraph) -> Void, reference: (Double) -> Double
    ) throws {
        for (i, geo) in FusionTests.geometries.enumerated() {
            var rng = SplitMix64(seed: seed + UInt64(i))
            var g = KernelGraph()
            let conv = addConv(geo, bias: true, to: &g, rng: &rng)
            pattern(&g)
            g.outputs = ["y"]
            let profiler = Profiler()
            let out = try g.run(threads: 1, profiler: profiler)
            assertClose(out[0], conv.values.map(reference), shape: conv.shape, "\(label), geometry \(i)")
            #expect(profiler.nodes.map(\.op) == ["Conv"], "\(label), geometry \(i)")
        }
    }

    private static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    @Test func spelledOutSiLUIsFused() throws {
        for sigmoidFirst in [false, true] {
            try checkFused("silu (sigmoid first: \(sigmoidFirst))", seed: sigmoidFirst ? 30 : 40) { g in
                g.node("Sigmoid", ["conv"], ["s"])
                g.node("Mul", sigmoidFirst ? ["s", "conv"] : ["conv", "s"], ["y"])
            } reference: {
                $0 * Self.sigmoid($0)
            }
        }
    }

    @Test func spelledOutSwishWithAlphaIsFused() throws {
        try checkFused("swish 1.702", seed: 50) { g in
            g.constant("alpha", HostTensor([], [1.702]))
            g.node("Mul", ["alpha", "conv"], ["ax"])
            g.node("Sigmoid", ["ax"], ["s"])
            g.node("Mul", ["conv", "s"], ["y"])
        } reference: {
            $0 * Self.sigmoid(Double(Float(1.702)) * $0)
        }
    }

    @Test func spelledOutGeluIsFusedInEachOrder() throws {
        // (x * s) * 0.5 with x / sqrt 2 (torch), x * (s * 0.5) with x * (1 / sqrt 2), (x * 0.5) * s.
        for order in 0..<3 {
            try checkFused("gelu order \(order)", seed: 60 + UInt64(10 * order)) { g in
                g.constant("root2", HostTensor([], [Float(2.0.squareRoot())]))
                g.constant("inverseRoot2", HostTensor([], [Float(0.5.squareRoot())]))
                g.constant("one", HostTensor([], [1]))
                g.constant("half", HostTensor([], [0.5]))
                if order == 1 { g.node("Mul", ["inverseRoot2", "conv"], ["t"]) } else { g.node("Div", ["conv", "root2"], ["t"]) }
                g.node("Erf", ["t"], ["e"])
                g.node("Add", ["e", "one"], ["s"])
                switch order {
                case 0:
                    g.node("Mul", ["conv", "s"], ["xs"])
                    g.node("Mul", ["xs", "half"], ["y"])
                case 1:
                    g.node("Mul", ["s", "half"], ["sh"])
                    g.node("Mul", ["conv", "sh"], ["y"])
                default:
                    g.node("Mul", ["conv", "half"], ["xh"])
                    g.node("Mul", ["xh", "s"], ["y"])
                }
            } reference: {
                0.5 * $0 * (1 + erf($0 / 2.0.squareRoot()))
            }
        }
    }

    @Test func spelledOutTanhGeluIsFused() throws {
        // torch's approximate="tanh" below opset 20: x * (x * x) or Pow(x, 3); (x * s) * 0.5 or x * (s * 0.5)
        for (i, usePow) in [false, true].enumerated() {
            try checkFused("tanh gelu (pow: \(usePow))", seed: 120 + UInt64(10 * i)) { g in
                g.constant("c", HostTensor([], [0.044715]))
                g.constant("k", HostTensor([], [Float((2 / Double.pi).squareRoot())]))
                g.constant("one", HostTensor([], [1]))
                g.constant("half", HostTensor([], [0.5]))
                g.constant("three", HostTensor([], [3]))
                if usePow {
                    g.node("Pow", ["conv", "three"], ["cube"])
                } else {
                    g.node("Mul", ["conv", "conv"], ["square"])
                    g.node("Mul", ["conv", "square"], ["cube"])
                }
                g.node("Mul", ["c", "cube"], ["term"])
                g.node("Add", ["conv", "term"], ["sum"])
                g.node("Mul", ["k", "sum"], ["u"])
                g.node("Tanh", ["u"], ["t"])
                g.node("Add", ["one", "t"], ["s"])
                if usePow {
                    g.node("Mul", ["s", "half"], ["sh"])
                    g.node("Mul", ["conv", "sh"], ["y"])
                } else {
                    g.node("Mul", ["conv", "s"], ["xs"])
                    g.node("Mul", ["half", "xs"], ["y"])
                }
            } reference: {
                0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0)))
            }
        }
    }

    @Test func swishWhoseSigmoidIsAlsoReadIsLeftAlone() throws {
        var rng = SplitMix64(seed: 90)
        var g = KernelGraph()
        let x = rng.tensor([2, 5])
        g.input("x", x)
        g.node("Sigmoid", ["x"], ["s"])
        g.node("Mul", ["x", "s"], ["y"])
        g.outputs = ["y", "s"]
        let profiler = Profiler()
        let out = try g.run(threads: 1, profiler: profiler)
        let xs = x.data.map(Double.init)
        assertClose(out[0], xs.map { $0 * Self.sigmoid($0) }, shape: [2, 5], "y")
        assertClose(out[1], xs.map(Self.sigmoid), shape: [2, 5], "s")
        #expect(profiler.nodes.map(\.op) == ["Sigmoid", "Mul"])
    }
}
