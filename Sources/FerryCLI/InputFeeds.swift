import ArgumentParser
import Ferry
import FerryIR
import FerryRuntime

/// A `--shape NAME=DIMS` value (e.g. input=1,3,224,224) as its name and sizes; `DIMS` alone
/// (name "") is for a model with a single input (see `inputShapes`).
func parseShapeOption(_ s: String) throws -> (String, [Int]) {
    let eq = s.firstIndex(of: "=")
    let start = eq.map { s.index(after: $0) } ?? s.startIndex
    let dims = s[start...].split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
    guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? -1) >= 0 }) else {
        throw ValidationError("--shape takes NAME=DIMS, e.g. input=1,3,224,224, or DIMS for a single-input model (got '\(s)')")
    }
    return (eq.map { String(s[..<$0]) } ?? "", dims.map { $0! })
}

/// The `--shape` values by input name, a nameless one given to the model's only input.
func inputShapes(_ options: [String], inputs names: [String]) throws -> [String: [Int]] {
    var given: [String: [Int]] = [:]
    for s in options {
        var (name, dims) = try parseShapeOption(s)
        if name.isEmpty {
            guard names.count == 1 else {
                throw ValidationError(
                    "the model has \(names.count) inputs (\(names.joined(separator: ", "))); name one: --shape NAME=\(s)")
            }
            name = names[0]
        }
        guard names.contains(name) else { throw RuntimeError.unknownInput(name: name, expected: names) }
        given[name] = dims
    }
    return given
}

/// The inputs a run used: from files or random.
struct Feeds {
    var tensors: [String: Tensor] = [:]
    /// The names of the inputs made up of random values.
    var random: Set<String> = []

    /// Makes random tensors (seeded) for the `declared` inputs not yet fed: of the sizes in
    /// `shapes`, else the declared ones with symbolic axes at 1; each at most `memoryLimit` bytes.
    mutating func addRandom(for declared: [ValueInfo], shapes: [String: [Int]], seed: UInt64, memoryLimit: Int) throws {
        var rng = SplitMix64(seed: seed)
        for info in declared where tensors[info.name] == nil {
            guard case .tensor(let type, let dims)? = info.type?.type else {
                throw ValidationError("input '\(info.name)' has no tensor type; pass --input \(info.name)=FILE.npy")
            }
            let shape = shapes[info.name] ?? (dims ?? []).map { $0.fixedSize ?? 1 }
            guard let count = Tensor.elementCount(of: shape), let bytes = type.byteCount(elements: count), bytes <= memoryLimit
            else {
                throw RandomInputTooLarge(name: info.name, shape: shape, limit: memoryLimit)
            }
            guard let t = Tensor.random(type, shape: shape, name: info.name, using: &rng) else {
                throw ValidationError(
                    "cannot make random \(type.name) data for input '\(info.name)'; pass --input \(info.name)=FILE.npy")
            }
            tensors[info.name] = t
            random.insert(info.name)
        }
    }

    /// One entry per input, in the session's order.
    func summaries(_ session: InferenceSession, seed: UInt64) -> [InputSummary] {
        session.inputs.compactMap { info in
            tensors[info.name].map {
                InputSummary(
                    name: info.name, dtype: $0.elementType.name, shape: $0.shape,
                    source: random.contains(info.name) ? "random, seed \(seed)" : "file")
            }
        }
    }
}

/// One input of a run, as `run` and `bench` report it.
struct InputSummary: Encodable {
    let name: String
    let dtype: String
    let shape: [Int]
    /// "file", or "random, seed N".
    let source: String

    /// `x float32[1,3,224,224] (random, seed 0)`.
    static func line(_ inputs: [InputSummary]) -> String {
        "inputs: "
            + inputs.map { "\($0.name) \($0.dtype)[\($0.shape.map(String.init).joined(separator: ","))] (\($0.source))" }.joined(
                separator: ", ")
    }
}

/// Options naming a model's input values: files, or shapes for random data.
struct InputOptions: ParsableArguments {
    @Option(
        name: .customLong("input"),
        help: ArgumentHelp(
            "An input: NAME=FILE.npy, or FILE.npz (arrays named after inputs), or FILE.npy alone for a single-input model.",
            valueName: "NAME=FILE"))
    var inputs: [String] = []

    @Option(
        name: .customLong("shape"),
        help: ArgumentHelp(
            "Shape of a random input, NAME=1,3,224,224, or 1,3,224,224 for a single-input model (fills its symbolic axes; without it they are 1).",
            valueName: "NAME=DIMS"))
    var shapes: [String] = []

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 0

    func validate() throws {
        for s in shapes { _ = try parseShapeOption(s) }
    }

    /// Reads the inputs the options name, and makes random ones for the rest when `random` is true.
    func feeds(for session: InferenceSession, random: Bool) throws -> Feeds {
        try feeds(for: session.inputs, memoryLimit: session.options.maxMemoryBytes, random: random)
    }

    /// The same for a model's `declared` inputs; a random input may take up to `memoryLimit` bytes.
    func feeds(for declared: [ValueInfo], memoryLimit: Int, random: Bool) throws -> Feeds {
        var feeds: [String: Tensor] = [:]
        let names = declared.map(\.name)
        for item in inputs {
            if !FerryIR.fileExists(item), let eq = item.firstIndex(of: "=") {
                let name = String(item[..<eq]), path = String(item[item.index(after: eq)...])
                guard names.contains(name) else { throw RuntimeError.unknownInput(name: name, expected: names) }
                feeds[name] = try NumPyFile.read(path)
            } else if item.hasSuffix(".npz") {
                for (name, t) in try NumPyFile.readArchive(item) {
                    if names.contains(name) {
                        feeds[name] = t
                    } else if names.count == 1 && feeds.isEmpty {
                        feeds[names[0]] = t
                    } else {
                        throw RuntimeError.unknownInput(name: name, expected: names)
                    }
                }
            } else {
                guard names.count == 1 else {
                    throw ValidationError(
                        "the model has \(names.count) inputs (\(names.joined(separator: ", "))); name each: --input NAME=FILE.npy"
                    )
                }
                feeds[names[0]] = try NumPyFile.read(item)
            }
        }
        var made = Feeds(tensors: feeds)
        guard random else { return made }
        try made.addRandom(for: declared, shapes: try inputShapes(shapes, inputs: names), seed: seed, memoryLimit: memoryLimit)
        return made
    }

    /// Runs `body` (which runs `session` on random inputs); a failure when random inputs had
    /// symbolic axes set to 1 says so and names --shape, since that is the likely cause.
    func explainingDefaultedAxes<T>(of session: InferenceSession, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            let shaped = (try? inputShapes(shapes, inputs: session.inputs.map(\.name)).keys).map(Array.init) ?? []
            let given = Set(inputs.map { $0.split(separator: "=").first.map(String.init) ?? $0 } + shaped)
            let defaulted = session.inputs.filter { !given.contains($0.name) }.compactMap { info -> String? in
                guard case .tensor(_, let dims?)? = info.type?.type else { return nil }
                let symbols = dims.filter { if case .fixed = $0.value { return false } else { return true } }
                guard !symbols.isEmpty else { return nil }
                let example = dims.map { d -> String in
                    if case .fixed(let n) = d.value {
                        return String(n)
                    } else {
                        return d.description == "?" ? "N" : d.description
                    }
                }
                return
                    "'\(info.name)' (\(symbols.map(\.description).joined(separator: ", "))): --shape \(info.name)=\(example.joined(separator: ","))"
            }
            guard !defaulted.isEmpty, !(error is ValidationError) else { throw error }
            throw DefaultedAxesFailure(underlying: error, inputs: defaulted)
        }
    }
}

/// A random input of the model's declared (or the given) shape would not fit the memory limit.
struct RandomInputTooLarge: Error, CustomStringConvertible {
    let name: String
    let shape: [Int]
    let limit: Int

    var description: String {
        "random input '\(name)' of shape \(shape) would not fit the memory limit of \(limit) bytes; "
            + "pass --input \(name)=FILE.npy or a smaller --shape"
    }
}

/// A run on random inputs failed after their symbolic axes were set to 1.
struct DefaultedAxesFailure: Error, CustomStringConvertible {
    let underlying: Error
    /// Per input: its name, symbolic axes and a --shape example.
    let inputs: [String]

    var description: String {
        "\(underlying) (the random inputs set symbolic axes to 1, which may not fit this model; give sizes for "
            + inputs.joined(separator: "; ") + ")"
    }
}
