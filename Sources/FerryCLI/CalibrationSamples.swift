import Ferry
import FerryIR
import FerryPasses
import Foundation

/// Calibration (or validation) samples from a folder, or from one file: each .npy file is a
/// sample (or batch) of a single-input model's input; each .npz holds one array per input name.
/// Folder files are read in name order. An array whose element type, rank or fixed sizes are not
/// the input's is refused naming its file.
enum CalibrationSamples {
    static func read(_ path: String, inputs: [ValueInfo]) throws -> [[String: Tensor]] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw PassError.calibration(file: path, reason: "no such file or folder")
        }
        var files = [path]
        if isFolder.boolValue {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else {
                throw PassError.calibration(file: path, reason: "not a readable folder")
            }
            files = entries.filter { $0.hasSuffix(".npy") || $0.hasSuffix(".npz") }.sorted().map { path + "/" + $0 }
            guard !files.isEmpty else { throw PassError.calibration(file: path, reason: "holds no .npy or .npz files") }
        } else if !path.hasSuffix(".npy") && !path.hasSuffix(".npz") {
            throw PassError.calibration(file: path, reason: "not a .npy or .npz file, nor a folder of them")
        }
        let names = inputs.map(\.name)
        return try files.map { file in
            var sample: [String: Tensor] = [:]
            if file.hasSuffix(".npy") {
                guard names.count == 1 else {
                    throw PassError.calibration(
                        file: file, reason: "the model has \(names.count) inputs; use .npz files with an array per input")
                }
                sample[names[0]] = try NumPyFile.read(file)
            } else {
                for (key, t) in try NumPyFile.readArchive(file) {
                    guard let input = names.contains(key) ? key : (names.count == 1 ? names[0] : nil) else {
                        throw PassError.calibration(
                            file: file, reason: "array '\(key)' names no input (\(names.joined(separator: ", ")))")
                    }
                    sample[input] = t
                }
            }
            for info in inputs {
                if let t = sample[info.name], let problem = mismatch(t, info) {
                    throw PassError.calibration(file: file, reason: "input '\(info.name)': \(problem)")
                }
            }
            return sample
        }
    }

    /// Why `t` cannot feed `info`, if it cannot: another element type, rank or fixed size.
    private static func mismatch(_ t: Tensor, _ info: ValueInfo) -> String? {
        guard case .tensor(let type, let dims)? = info.type?.type else { return nil }
        let got = "\(t.elementType.name)\(t.shape)", want = info.type?.description ?? ""
        if t.elementType != type { return "\(got), the model expects \(want)" }
        guard let dims else { return nil }
        if dims.count != t.shape.count || zip(dims, t.shape).contains(where: { d, n in d.fixedSize.map { $0 != n } ?? false }) {
            return "\(got), the model expects \(want)"
        }
        return nil
    }
}
