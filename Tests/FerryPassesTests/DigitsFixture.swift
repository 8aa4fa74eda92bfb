import Ferry
import FerryIR
import FerryRuntime
import FerryTestSupport

/// The digits CNN of Fixtures/digits (trained by Keras on scikit-learn's digits) with its held-out
/// test split and true labels, and its calibration samples.
enum DigitsFixture {
    static let model = try! ModelIO.load(TestSupport.fixture("digits/digits_cnn.h5")).model
    static let testX = try! NumPyFile.read(TestSupport.fixture("digits/test_x.npy"))
    static let labels = try! NumPyFile.read(TestSupport.fixture("digits/test_y.npy")).bytes!.toArray(of: Int64.self)
    static let calibration: [[String: Tensor]] = (0..<4).map { i in
        [model.graph.runtimeInputs[0].name: try! NumPyFile.read(TestSupport.fixture("digits/calibration/batch_\(i).npy"))]
    }
    static let floatAccuracy = try! accuracy(model)

    /// Percentage of test images whose arg max is their label, run in Ferry's interpreter.
    static func accuracy(_ m: Model) throws -> Double {
        let session = try InferenceSession(model: m)
        let probs = try session.run([session.inputs[0].name: testX])[0].tensor.floatValues!
        var right = 0
        for (i, label) in labels.enumerated() {
            let row = probs[(i * 10)..<(i * 10 + 10)]
            if row.indices.max(by: { row[$0] < row[$1] })! - i * 10 == Int(label) { right += 1 }
        }
        return 100 * Double(right) / Double(labels.count)
    }
}
