import Ferry
import FerryIR
import FerryKeras
import FerryPasses
import FerryRuntime

/// Damage to a valid model's structure, the kind a hostile file that still parses carries:
/// attributes zeroed, negative or huge, lists emptied or lengthened, kinds flipped; node inputs
/// dropped; declared dims of 2^31, zero or negative, ranks changed; ops swapped; initializers
/// replaced by others of another shape; Loop trip counts of 2^62.
enum StructureMutation {
    static let ops = [
        "Relu", "Conv", "ConvTranspose", "MatMul", "Gemm", "Reshape", "Transpose", "Concat", "Add", "Mul", "Softmax",
        "ReduceMax", "ReduceMean", "Flatten", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization",
        "Gather", "Slice", "Split", "Expand", "Tile", "Pad", "Resize", "LSTM", "GRU", "Identity", "Shape",
        "ConstantOfShape", "Range", "TopK", "Where", "Cast", "Squeeze", "Unsqueeze", "LayerNormalization", "Einsum",
        "DepthToSpace", "Loop", "If", "Scan", "QuantizeLinear", "DequantizeLinear", "QLinearConv", "MatMulInteger"
    ]
    static let integers: [Int64] = [0, -1, -2, 1 << 31, Int64.max, Int64.min, 1 << 62, 7]

    /// Applies one to three mutations; returns what they were.
    static func apply(_ model: inout Model, _ random: inout SplitMix64) -> [String] {
        var done: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            if let what = mutateOnce(&model.graph, &random) { done.append(what) }
        }
        return done
    }

    private static func mutateOnce(_ g: inout Graph, _ random: inout SplitMix64) -> String? {
        switch Int.random(in: 0..<6, using: &random) {
        case 0:
            guard let n = g.nodes.indices.filter({ !g.nodes[$0].attributes.isEmpty }).randomElement(using: &random) else {
                return nil
            }
            let a = Int.random(in: 0..<g.nodes[n].attributes.count, using: &random)
            g.nodes[n].attributes[a].value = damaged(g.nodes[n].attributes[a].value, &random)
            return "attribute \(g.nodes[n].attributes[a].name) of \(g.nodes[n].opType)"
        case 1:
            guard let n = g.nodes.indices.randomElement(using: &random), !g.nodes[n].inputs.isEmpty else { return nil }
            if Bool.random(using: &random) {
                g.nodes[n].inputs.removeLast(Int.random(in: 1...g.nodes[n].inputs.count, using: &random))
            } else {
                g.nodes[n].inputs[Int.random(in: 0..<g.nodes[n].inputs.count, using: &random)] = ""
            }
            return "inputs of \(g.nodes[n].opType)"
        case 2:
            guard let i = g.inputs.indices.randomElement(using: &random), case .tensor(let t, let dims?)? = g.inputs[i].type?.type
            else { return nil }
            var shape = dims
            if shape.isEmpty || Bool.random(using: &random) {
                if Bool.random(using: &random) || shape.isEmpty { shape.append(.fixed(1)) } else { shape.removeLast() }
            } else {
                shape[Int.random(in: 0..<shape.count, using: &random)] = .fixed(
                    [1 << 31, 0, -1, 1 << 40].randomElement(using: &random)!)
            }
            g.inputs[i].type = TypeInfo(.tensor(t, shape: shape))
            return "dims of input \(g.inputs[i].name)"
        case 3:
            guard let n = g.nodes.indices.randomElement(using: &random) else { return nil }
            g.nodes[n].opType = ops.randomElement(using: &random)!
            return "op swapped to \(g.nodes[n].opType)"
        case 4:
            guard let i = g.initializers.indices.randomElement(using: &random) else { return nil }
            let old = g.initializers[i]
            var shape = old.shape.isEmpty ? [1] : old.shape
            shape[Int.random(in: 0..<shape.count, using: &random)] = Int.random(in: 0...3, using: &random)
            if Bool.random(using: &random) { shape.append(2) }
            let type: ElementType = [.float, .int64, .int32, .uint8].randomElement(using: &random)!
            let bytes = type.byteCount(elements: shape.reduce(1, *)) ?? 0
            g.initializers[i] = Tensor(
                name: old.name, elementType: type, shape: shape, storage: .bytes(TensorBytes(zeroed: bytes)))
            return "initializer \(old.name) reshaped"
        default:
            guard let n = g.nodes.indices.randomElement(using: &random) else { return nil }
            let trip = "fuzz_trip_\(g.initializers.count)"
            g.initializers.append(Tensor(name: trip, elementType: .int64, shape: [], values: [Int64(1) << 62]))
            if g.nodes[n].opType == "Loop", !g.nodes[n].inputs.isEmpty {
                g.nodes[n].inputs[0] = trip
                return "Loop trip count 2^62"
            }
            g.nodes[n].inputs.append(trip)
            return "an extra input on \(g.nodes[n].opType)"
        }
    }

    private static func damaged(_ value: AttributeValue, _ random: inout SplitMix64) -> AttributeValue {
        switch value {
        case .int:
            return Bool.random(using: &random) ? .int(integers.randomElement(using: &random)!) : .float(.nan)
        case .ints(let list):
            switch Int.random(in: 0..<4, using: &random) {
            case 0: return .ints([])
            case 1: return .ints(list + [integers.randomElement(using: &random)!])
            case 2: return .ints(list.map { _ in integers.randomElement(using: &random)! })
            default: return .int(integers.randomElement(using: &random)!)
            }
        case .float:
            return .float([Float.nan, .infinity, -1, 0, 1e30].randomElement(using: &random)!)
        case .floats(let list):
            return Bool.random(using: &random) ? .floats([]) : .floats(list.map { _ in .nan })
        case .string:
            return Bool.random(using: &random) ? .string([]) : .ints([1 << 31])
        default:
            return .ints([integers.randomElement(using: &random)!])
        }
    }
}

/// What `ferry` does with a model it has read: validation, the optimize passes, export to a Keras
/// .h5, planning and one run on zero inputs (under time and memory limits). Errors are expected.
func exercise(_ model: Model, scratch: String) {
    func attempt(_ body: () throws -> Void) { try? body() }
    attempt { try ModelValidator.validate(model) }
    attempt {
        var optimized = model
        _ = try Optimizer().optimize(&optimized)
    }
    attempt { try KerasFile.writeLegacy(model, to: scratch + ".h5", replace: true) }
    attempt {
        let session = try InferenceSession(
            model: model, options: SessionOptions(threads: 1, timeoutSeconds: 2, maxMemoryBytes: 256 << 20))
        var feeds: [String: Tensor] = [:]
        for input in session.inputs {
            guard case .tensor(let type, let dims)? = input.type?.type, type != .string, type != .undefined else { return }
            let shape = (dims ?? []).map { d -> Int in
                if case .fixed(let n) = d.value { return Int(clamping: n) }
                return 1
            }
            guard shape.allSatisfy({ $0 >= 0 && $0 <= 4096 }), let count = Tensor.elementCount(of: shape), count <= 1 << 20,
                let bytes = type.byteCount(elements: count)
            else { return }
            feeds[input.name] = Tensor(
                name: input.name, elementType: type, shape: shape, storage: .bytes(TensorBytes(zeroed: bytes)))
        }
        _ = try session.run(feeds)
    }
}
