import FerryIR
import FerryONNX
import FerryTestSupport
import Foundation
import Testing

@testable import FerryRuntime

/// Models quantized by onnxruntime (tools/make_quant_fixtures.py: QDQ per channel and per tensor,
/// QOperator, dynamic) run against onnxruntime's outputs on the same files, within one quantization
/// step of each output (Fixtures/quant/manifest.txt). QDQ models must have their Conv, Gemm and
/// MatMul patterns fused into int8 kernels.
@Suite struct QuantizedModelTests {
    struct Case {
        let name: String
        let output: Int
        let tolerance: Double
    }

    static func cases() throws -> [Case] {
        let text = try String(contentsOfFile: TestSupport.fixture("quant/manifest.txt"), encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 3, let k = Int(f[1]), let t = Double(f[2]) else { return nil }
            return Case(name: String(f[0]), output: k, tolerance: t)
        }
    }

    /// Runs `name` with `threads`; returns the outputs and the ops left in the plan.
    func run(_ name: String, threads: Int) throws -> (outputs: [Tensor], ops: [String]) {
        let model = try ONNXReader(path: TestSupport.fixture("quant/\(name).onnx")).read().model
        let session = try InferenceSession(model: model, options: SessionOptions(threads: threads))
        let x = try ONNXTensorFile.read(TestSupport.fixture("quant/\(name).input_0.pb"))
        let profiler = Profiler()
        let outputs = try session.run([model.graph.inputs[0].name: x], profiler: profiler)
        return (outputs.map(\.tensor), profiler.nodes.map(\.op))
    }

    @Test func outputsMatchOnnxruntime() throws {
        let cases = try Self.cases()
        #expect(cases.count == 13)
        for c in cases {
            let want = try ONNXTensorFile.read(TestSupport.fixture("quant/\(c.name).output_\(c.output).pb"))
            for threads in [1, 2] {
                let got = try run(c.name, threads: threads).outputs[c.output]
                #expect(got.shape == want.shape, "\(c.name)")
                guard case .bytes(let g) = got.storage, case .bytes(let w) = want.storage else {
                    Issue.record("\(c.name): not numeric")
                    return
                }
                let gv = g.toArray(of: Float.self), wv = w.toArray(of: Float.self)
                let worst = zip(gv, wv).map { abs(Double($0) - Double($1)) }.max() ?? 0
                #expect(
                    worst <= c.tolerance * 1.0001,
                    "\(c.name) output \(c.output) threads=\(threads): off by \(worst), one step is \(c.tolerance)")
            }
        }
    }

    /// Single ops (Fixtures/quant/ops) on random integers: QLinearConv in every kernel path,
    /// ConvInteger, QLinearMatMul, MatMulInteger, the com.microsoft ops, QuantizeLinear on halves,
    /// huge values, infinities and NaN, and data-movement ops on uint8/int8 tensors (Reshape,
    /// Transpose, Slice, Pad, MaxPool, Resize, Gather...). Integer outputs equal onnxruntime's
    /// exactly, float outputs within 1e-5 relative.
    @Test func singleOpsMatchOnnxruntime() throws {
        let text = try String(contentsOfFile: TestSupport.fixture("quant/ops/cases.txt"), encoding: .utf8)
        let names = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        #expect(names.count == 46)
        for name in names {
            let base = TestSupport.fixture("quant/ops/\(name)")
            let model = try ONNXReader(path: base + ".onnx").read().model
            var feeds: [String: Tensor] = [:]
            for (k, info) in model.graph.inputs.enumerated() {
                feeds[info.name] = try ONNXTensorFile.read(base + ".input_\(k).pb")
            }
            let want = try ONNXTensorFile.read(base + ".output_0.pb")
            for threads in [1, 2] {
                do {
                    let got = try InferenceSession(model: model, options: SessionOptions(threads: threads)).run(feeds)[0].tensor
                    if let problem = ConformanceTests.compare(got, want, .init(rtol: 1e-5, atol: 1e-6)) {
                        Issue.record("\(name) threads=\(threads): \(problem)")
                    }
                } catch {
                    Issue.record("\(name) threads=\(threads): \(error)")
                }
            }
        }
    }

    /// The QDQ models' Conv, Gemm and MatMul (with their DequantizeLinear inputs, Relu and
    /// QuantizeLinear) became QLinearConv, QGemm and QLinearMatMul.
    @Test func qdqPatternsAreFused() throws {
        for variant in ["qdq_per_channel", "qdq_per_tensor", "qdq_s8s8"] {
            let conv = try run("convnet_\(variant)", threads: 1).ops
            #expect(conv.filter { $0 == "QLinearConv" }.count == 4, "convnet_\(variant): \(conv)")
            #expect(conv.filter { $0 == "QGemm" }.count == 1, "convnet_\(variant): \(conv)")
            #expect(!(conv.contains("Conv") || conv.contains("Gemm")), "convnet_\(variant): \(conv)")
            guard variant != "qdq_s8s8" else { continue }
            let mlp = try run("mlp_\(variant)", threads: 1).ops
            #expect(mlp.filter { $0 == "QLinearMatMul" }.count == 3, "mlp_\(variant): \(mlp)")
            #expect(!mlp.contains("MatMul"), "mlp_\(variant): \(mlp)")
        }
        // A conv output that is also a graph output: int8 conv with float output; Relu and
        // QuantizeLinear stay. A second conv with Clip(0, 6) fuses whole.
        let edge = try run("edge_qdq_kept_output", threads: 1).ops
        #expect(
            edge.sorted() == [
                "DequantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearConv", "QuantizeLinear", "QuantizeLinear", "Relu"
            ],
            "\(edge)")
    }
}
