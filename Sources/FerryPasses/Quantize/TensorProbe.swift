import FerryIR
import FerryRuntime

/// Runs a model in the interpreter and returns chosen intermediate tensors along with its outputs
/// (they are made graph outputs of a copy of the model).
struct TensorProbe {
    let session: InferenceSession
    /// The model's own outputs, then the probed tensors.
    let names: [String]

    init(_ model: Model, probing tensors: [String]) throws {
        var m = model
        let existing = Set(m.graph.outputs.map(\.name))
        m.graph.outputs += tensors.filter { !existing.contains($0) }.map { ValueInfo(name: $0, type: nil) }
        do {
            session = try InferenceSession(model: m)
        } catch {
            throw PassError.unsupported(subject: "model", reason: "the interpreter cannot run it for calibration: \(error)")
        }
        names = m.graph.outputs.map(\.name)
    }

    /// Float values of every output and probed tensor (non-float ones are left out).
    func run(_ feeds: [String: Tensor]) throws -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (name, t) in try session.run(feeds) {
            if let v = t.floatValues { out[name] = v }
        }
        return out
    }
}

/// Calibration samples as the model takes them: a batch whose first axis does not match a fixed
/// batch size the model declares is split into samples of that size.
func samplesForModel(_ samples: [[String: Tensor]], inputs: [ValueInfo]) throws -> [[String: Tensor]] {
    var result: [[String: Tensor]] = []
    for sample in samples {
        var parts: [[String: Tensor]] = []
        for info in inputs {
            guard let t = sample[info.name] else {
                throw PassError.calibration(file: "sample \(result.count)", reason: "input '\(info.name)' is missing")
            }
            var batch: Int?
            if case .tensor(_, let dims?)? = info.type?.type, dims.count == t.shape.count, let first = dims.first,
                case .fixed(let n) = first.value, n > 0, Int(n) != t.shape.first, let rows = t.shape.first, rows % Int(n) == 0
            {
                batch = Int(n)
            }
            let pieces = try batch.map { try split(t, rows: $0) } ?? [t]
            if parts.isEmpty {
                parts = pieces.map { [info.name: $0] }
            } else {
                guard parts.count == pieces.count else {
                    throw PassError.calibration(
                        file: "sample \(result.count)", reason: "inputs hold different numbers of samples")
                }
                for i in parts.indices { parts[i][info.name] = pieces[i] }
            }
        }
        result += parts
    }
    return result
}

/// `t` cut along its first axis into pieces of `rows` rows.
private func split(_ t: Tensor, rows: Int) throws -> [Tensor] {
    guard let bytes = t.bytes, let first = t.shape.first, first > 0 else { return [t] }
    let pieceBytes = bytes.count / first * rows
    return bytes.withUnsafeBytes { raw in
        (0..<(first / rows)).map { i in
            Tensor(
                name: t.name, elementType: t.elementType, shape: [rows] + t.shape.dropFirst(),
                storage: .bytes(
                    TensorBytes(copying: UnsafeRawBufferPointer(rebasing: raw[(i * pieceBytes)..<((i + 1) * pieceBytes)]))))
        }
    }
}

/// Each sample cut into single rows along the first axis where that axis is the model's batch axis
/// (not a fixed size) on every input and all inputs hold the same number of rows; other samples
/// stay whole.
func sampleRows(_ samples: [[String: Tensor]], inputs: [ValueInfo]) throws -> [[String: Tensor]] {
    let batchAxisIsFree = inputs.allSatisfy { info in
        if case .tensor(_, let dims?)? = info.type?.type, let first = dims.first, case .fixed = first.value { return false }
        return true
    }
    guard batchAxisIsFree else { return samples }
    var result: [[String: Tensor]] = []
    for sample in samples {
        let counts = Set(sample.values.map { $0.shape.first ?? 0 })
        guard counts.count == 1, let rows = counts.first, rows > 1, sample.values.allSatisfy({ $0.bytes != nil }) else {
            result.append(sample)
            continue
        }
        var parts = [[String: Tensor]](repeating: [:], count: rows)
        for (name, t) in sample {
            for (i, piece) in try split(t, rows: 1).enumerated() { parts[i][name] = piece }
        }
        result += parts
    }
    return result
}
