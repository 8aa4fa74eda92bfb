import Ferry
import FerryHDF5
import FerryIR
import FerryPasses
import FerryRuntime
import Foundation

// Loads the digits CNN (a Keras .h5 file), classifies the 360 test images, quantizes the model to
// int8 on the calibration images, writes it as ONNX, reads it back and classifies again.
// Usage: Digits FIXTURE_DIR (Fixtures/digits of the Ferry repository) OUTPUT_DIR.

/// What went wrong, in one line.
struct ExampleFailure: Error, CustomStringConvertible {
    let description: String
}

/// The share of images whose highest-scoring class is their label.
func accuracy(of model: Model, images: Tensor, labels: [Int64]) throws -> Double {
    let session = try InferenceSession(model: model)
    let outputs = try session.run([model.graph.inputs[0].name: images])
    guard let scores = outputs.first?.tensor.floatValues, scores.count == labels.count * 10 else {
        throw ExampleFailure(description: "the model did not return 10 float scores per image")
    }
    let correct = labels.indices.filter { image in
        let row = scores[(image * 10)..<(image * 10 + 10)]
        return Int64(row.indices.max { row[$0] < row[$1] }! - image * 10) == labels[image]
    }
    return Double(correct.count) / Double(labels.count)
}

// libhdf5 reads .h5 files in a helper process: this program serves as that helper when started as
// one (and exits); otherwise the call makes it the helper its own HDF5 reading starts.
HDF5ReaderHelper.serveIfAsked()

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: Digits FIXTURE_DIR OUTPUT_DIR\n".utf8))
    exit(2)
}
let (fixtures, outputDir) = (arguments[1], arguments[2])
do {
    let loaded = try ModelIO.load("\(fixtures)/digits_cnn.h5")
    let images = try NumPyFile.read("\(fixtures)/test_x.npy")
    guard let labels = try NumPyFile.read("\(fixtures)/test_y.npy").bytes?.toArray(of: Int64.self) else {
        throw ExampleFailure(description: "test_y.npy holds no int64 labels")
    }
    let floatAccuracy = try accuracy(of: loaded.model, images: images, labels: labels)

    let inputName = loaded.model.graph.inputs[0].name
    let samples = try (0..<4).map { [inputName: try NumPyFile.read("\(fixtures)/calibration/batch_\($0).npy")] }
    let (quantized, report) = try Quantizer(options: QuantizationOptions()).quantize(loaded.model, samples: samples)
    let path = "\(outputDir)/digits_int8.onnx"
    var save = SaveOptions()
    save.replaceExisting = true
    try ModelIO.save(quantized, to: path, options: save)
    let reloaded = try ModelIO.load(path)
    let int8Accuracy = try accuracy(of: reloaded.model, images: images, labels: labels)

    print(
        String(
            format: "float %.2f%%, int8 %.2f%% (%d layers, weights %d -> %d bytes), ",
            floatAccuracy * 100, int8Accuracy * 100, report.layers.count,
            report.weightBytesBefore, report.weightBytesAfter) + path)
    guard floatAccuracy >= 0.95, int8Accuracy >= floatAccuracy - 0.01 else {
        throw ExampleFailure(description: "accuracy below 95%, or int8 more than 1 point below float")
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
