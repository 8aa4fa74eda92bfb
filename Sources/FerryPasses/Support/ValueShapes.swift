import FerryIR
import FerryRuntime

/// The shapes values take when a model runs on its declared input shapes.
public enum ValueShapes {
    /// Runs `model` once on zero-filled inputs of the shapes `given`, or else of their declared
    /// shapes (symbolic, unknown or negative sizes taken as 1), and returns the shape of every main-graph input, node output and
    /// initializer. Throws `PassError.unsupported` naming the input without a declared shape or
    /// the reason the interpreter gave.
    public static func probe(_ model: Model, given: [String: [Int]] = [:]) throws -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for t in model.graph.initializers { shapes[t.name] = t.shape }
        for s in model.graph.sparseInitializers { shapes[s.name] = s.shape }
        for (name, value) in try run(model, given: given, size: { _, _ in nil }) { shapes[name] = value.shape }
        return shapes
    }

    /// Every main-graph input and node output of one run on zero-filled inputs: `given` shapes,
    /// else the declared ones with each axis that is not fixed at the size `size(input, axis)`
    /// gives it (nil: 1).
    static func run(_ model: Model, given: [String: [Int]], size: (_ input: String, _ axis: Int) -> Int?) throws
        -> [String: Tensor]
    {
        var feeds: [String: Tensor] = [:]
        for name in given.keys where !model.graph.runtimeInputs.contains(where: { $0.name == name }) {
            throw PassError.invalidOption(option: "shape", reason: "'\(name)' is not an input of the model")
        }
        for input in model.graph.runtimeInputs {
            guard case .tensor(let type, let dims?)? = input.type?.type else {
                throw PassError.unsupported(
                    subject: "input '\(input.name)'", reason: "has no declared tensor shape to run the model on")
            }
            let shape = given[input.name] ?? dims.enumerated().map { axis, d in d.fixedSize ?? size(input.name, axis) ?? 1 }
            guard let count = Tensor.elementCount(of: shape), let bytes = type.byteCount(elements: count), type != .string else {
                throw PassError.unsupported(
                    subject: "input '\(input.name)'", reason: "cannot make a zero \(type.name) tensor of shape \(shape)")
            }
            feeds[input.name] = Tensor(
                name: input.name, elementType: type, shape: shape, storage: .bytes(TensorBytes(zeroed: bytes)))
        }
        do {
            return try InferenceSession.everyValue(of: model, feeds: feeds)
        } catch {
            let shapes = model.graph.runtimeInputs.compactMap { i in feeds[i.name].map { "\(i.name) \($0.shape)" } }
            throw PassError.unsupported(
                subject: "model", reason: "cannot run it on inputs of shapes \(shapes.joined(separator: ", ")): \(error)")
        }
    }
}
