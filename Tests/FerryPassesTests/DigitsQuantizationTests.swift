import Ferry
import FerryIR
import FerryPasses
import FerryRuntime
import FerryTestSupport
import Foundation
import Testing

/// Quantization judged on a real task: the digits CNN (Fixtures/digits, trained by Keras) must keep
/// its accuracy on the held-out test split, against the true labels.
@Suite struct DigitsQuantizationTests {
    func quantized(_ configure: (inout QuantizationOptions) -> Void) throws -> (Model, QuantizationReport) {
        var options = QuantizationOptions()
        configure(&options)
        return try Quantizer(options: options).quantize(DigitsFixture.model, samples: DigitsFixture.calibration)
    }

    @Test func floatModelHasKerassAccuracy() {
        // Keras itself scores 356 of 360 (Fixtures/digits/README.md).
        #expect(abs(DigitsFixture.floatAccuracy - 100 * 356 / 360) < 1e-9)
    }

    @Test func staticInt8LosesAtMostHalfAPoint() throws {
        for format in [QuantizationOptions.Format.qdq, .qoperator] {
            for activation in [ElementType.uint8, .int8] {
                let (m, report) = try quantized {
                    $0.format = format
                    $0.activationType = activation
                }
                let acc = try DigitsFixture.accuracy(m)
                #expect(DigitsFixture.floatAccuracy - acc <= 0.5, "\(format) \(activation.name): \(acc)%")
                #expect(m.graph.nodes.contains { $0.opType == "QuantizeLinear" })
                #expect(report.layers.filter { !$0.keptFloat }.count >= 2)
                #expect((report.outputCosine ?? 0) > 0.99)
            }
        }
    }

    /// MaxPool and Flatten read values quantized with their own output's scale and zero point, so a
    /// runtime runs them on integers; the probabilities stay those of the same file with the ops
    /// reading float (quantizing before or after an op that only selects or moves values is the same).
    @Test func dataMovementOpsReadValuesQuantizedLikeTheirOutput() throws {
        let (m, _) = try quantized { $0.keepEdgeLayersFloat = false }
        let producer = Dictionary(m.graph.nodes.flatMap { n in n.outputs.map { ($0, n) } }, uniquingKeysWith: { a, _ in a })
        var bypassed = m, checked = 0
        for (i, n) in m.graph.nodes.enumerated() where ["MaxPool", "Flatten"].contains(n.opType) {
            let dq = try #require(producer[n.inputs[0]]), q = try #require(producer[dq.inputs[0]])
            let after = try #require(m.graph.nodes.first { $0.opType == "QuantizeLinear" && $0.inputs[0] == n.outputs[0] })
            #expect(dq.opType == "DequantizeLinear" && q.opType == "QuantizeLinear")
            #expect(Array(dq.inputs[1...]) == Array(after.inputs[1...]) && Array(q.inputs[1...]) == Array(after.inputs[1...]))
            bypassed.graph.nodes[i].inputs[0] = q.inputs[0]
            checked += 1
        }
        #expect(checked == 2)
        let x = [DigitsFixture.model.graph.runtimeInputs[0].name: DigitsFixture.testX]
        let a = try InferenceSession(model: m).run(x)[0].tensor.floatValues!
        let b = try InferenceSession(model: bypassed).run(x)[0].tensor.floatValues!
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 0.02, "largest probability difference \(worst)")
    }

    @Test func everyCalibrationMethodKeepsAccuracyWithoutTheEdgeLayersInFloat() throws {
        for method in QuantizationOptions.Method.allCases {
            let (m, report) = try quantized {
                $0.method = method
                $0.keepEdgeLayersFloat = false
            }
            #expect(report.layers.allSatisfy { !$0.keptFloat })
            let acc = try DigitsFixture.accuracy(m)
            #expect(DigitsFixture.floatAccuracy - acc <= 0.5, "\(method): \(acc)%")
        }
    }

    @Test func weightsOnlyInt8LosesAtMostAFifthOfAPointAndShrinksWeights() throws {
        let (m, report) = try quantized { $0.mode = .weights }
        let acc = try DigitsFixture.accuracy(m)
        #expect(DigitsFixture.floatAccuracy - acc <= 0.2, "\(acc)%")
        #expect(Double(report.weightBytesAfter) <= 0.3 * Double(report.weightBytesBefore))
        #expect(report.layers.allSatisfy { ($0.weightSQNR ?? 0) > 30 })
    }

    @Test func dynamicInt8KeepsAccuracy() throws {
        let (m, _) = try quantized { $0.mode = .dynamic }
        #expect(m.graph.nodes.contains { $0.opType == "MatMulInteger" })
        let acc = try DigitsFixture.accuracy(m)
        #expect(DigitsFixture.floatAccuracy - acc <= 0.5, "\(acc)%")
    }

    @Test func accuracyTargetKeepsSensitiveLayersInFloat() throws {
        // Ranges clipped at the 90th percentile cost accuracy; the target wins it back by keeping
        // layers in float.
        func clipped(_ o: inout QuantizationOptions) {
            o.keepEdgeLayersFloat = false
            o.percentile = 90
        }
        let (_, loose) = try quantized(clipped)
        #expect((loose.outputCosine ?? 1) < 0.9999)
        let (m, report) = try quantized {
            clipped(&$0)
            $0.accuracyTarget = 0.9999
        }
        let kept = report.layers.filter(\.keptFloat).count
        #expect(kept >= 1 && kept < report.layers.count)
        #expect((report.outputCosine ?? 0) >= 0.9999)
        #expect(report.notes.contains { $0.contains("accuracy target") })
        #expect(m.graph.nodes.filter { $0.opType == "Conv" || $0.opType == "Gemm" }.count == report.layers.count)
    }

    @Test func accuracyTargetIsJudgedOnSamplesTheRangesDidNotSee() throws {
        // Without validation samples: two folds of the calibration rows, each half's ranges judged
        // on the other half.
        let (_, folds) = try quantized { $0.accuracyTarget = 0.99 }
        let rows = DigitsFixture.calibration.reduce(0) { $0 + ($1.values.first?.shape.first ?? 0) }
        #expect(folds.notes.contains { $0.contains("judged on \(rows) calibration samples in two folds") }, "\(folds.notes)")
        #expect(!folds.validated)

        // With validation samples: the target and the report are judged on them.
        let validation = [[DigitsFixture.model.graph.runtimeInputs[0].name: DigitsFixture.testX]]
        var o = QuantizationOptions()
        o.accuracyTarget = 0.9999
        o.percentile = 90
        o.keepEdgeLayersFloat = false
        let (m, report) = try Quantizer(options: o).quantize(
            DigitsFixture.model, samples: DigitsFixture.calibration, validation: validation)
        #expect(report.validated)
        #expect(report.samples == DigitsFixture.testX.shape[0])
        #expect(
            report.notes.contains { $0.contains("judged on \(DigitsFixture.testX.shape[0]) validation samples") },
            "\(report.notes)")
        let met = report.notes.contains { $0.contains("judged on") && $0.contains(": met") }
        #expect(met == ((report.outputCosine ?? 0) >= 0.9999), "\(report.notes) \(report.outputCosine ?? 0)")
        #expect(report.layers.contains { $0.keptFloat })
        #expect(m.graph.nodes.contains { $0.opType == "QuantizeLinear" })
    }

    @Test func optionsThatCannotWorkAreRefused() {
        #expect(throws: PassError.self) {
            try Quantizer(options: QuantizationOptions()).quantize(DigitsFixture.model, samples: [])
        }
        var o = QuantizationOptions()
        o.activationType = .float
        #expect(throws: PassError.self) {
            try Quantizer(options: o).quantize(DigitsFixture.model, samples: DigitsFixture.calibration)
        }
    }
}

/// Dynamic quantization of recurrent models: LSTMs become onnxruntime's DynamicQuantizeLSTM with
/// int8 weights, and the outputs stay close to Keras's own (tools/interop_quantize.py checks them
/// against onnxruntime and an exact reference).
@Suite struct DynamicLSTMQuantizationTests {
    @Test func kerasLSTMBecomesDynamicQuantizeLSTMCloseToKeras() throws {
        let model = try ModelIO.load(TestSupport.fixture("keras/lstm.h5")).model
        var options = QuantizationOptions()
        options.mode = .dynamic
        let (q, report) = try Quantizer(options: options).quantize(model)
        #expect(q.graph.nodes.filter { $0.opType == "DynamicQuantizeLSTM" && $0.domain == "com.microsoft" }.count == 4)
        #expect(!q.graph.nodes.contains { $0.opType == "LSTM" })
        #expect(report.notes.contains { $0.contains("DynamicQuantizeLSTM") })
        let x = try NumPyFile.read(TestSupport.fixture("keras/lstm.input_0.npy"))
        let session = try InferenceSession(model: q)
        let outputs = try session.run([session.inputs[0].name: x])
        for (k, out) in outputs.enumerated() {
            let keras = try NumPyFile.read(TestSupport.fixture("keras/lstm.output_\(k).npy")).floatValues!
            let got = out.tensor.floatValues!
            let scale = keras.map { abs($0) }.max()!
            let worst = zip(keras, got).map { abs($0 - $1) }.max()!
            // int8 weights, and X and H quantized to uint8 as onnxruntime's kernel does (2.2% seen):
            // within 3% of the output's range of Keras's float outputs.
            #expect(worst <= 0.03 * scale, "output \(k): \(worst) of \(scale)")
        }
    }
}
