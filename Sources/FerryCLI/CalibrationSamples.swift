import Ferry
import FerryIR
import FerryPasses
import Foundation

/// Calibration samples from a folder: each .npy file is a sample (or batch) of a single-input
/// model's input; each .npz holds one array per input name. Files are read in name order.
enum CalibrationSamples {
    static func read(_ dir: String, inputs: [String]) throws -> [[String: Tensor]] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw PassError.calibration(file: dir, reason: "not a readable folder")
        }
        let files = entries.filter { $0.hasSuffix(".npy") || $0.hasSuffix(".npz") }.sorted()
        guard !files.isEmpty else { throw PassError.calibration(file: dir, reason: "holds no .npy or .npz files") }
        return try files.map { name in
            let path = dir + "/" + name
            if name.hasSuffix(".npy") {
                guard inputs.count == 1 else {
                    throw PassError.calibration(
                        file: path, reason: "the model has \(inputs.count) inputs; use .npz files with an array per input")
                }
                return [inputs[0]: try NumPyFile.read(path)]
            }
            var sample: [String: Tensor] = [:]
            for (key, t) in try NumPyFile.readArchive(path) {
                let input = inputs.contains(key) ? key : (inputs.count == 1 ? inputs[0] : nil)
                guard let input else {
                    throw PassError.calibration(
                        file: path, reason: "array '\(key)' names no input (\(inputs.joined(separator: ", ")))")
                }
                sample[input] = t
            }
            return sample
        }
    }
}
