import FerryIR

/// The values a rewrite may treat as fixed, looked up by name: the passes read a model's constant
/// initializers, the planner the values it computed at plan time (through a closure, so rewrites
/// need no interpreter).
public struct Constants {
    private let lookup: (String) -> Tensor?

    /// Constants found by `lookup` (nil for a value not fixed).
    public init(_ lookup: @escaping (String) -> Tensor?) { self.lookup = lookup }

    /// The tensors of `tensors`, by name.
    public init(_ tensors: [String: Tensor]) { self.init { tensors[$0] } }

    /// The fixed value called `name`; nil when it is not fixed (or `name` is empty: an absent input).
    public subscript(name: String) -> Tensor? { name.isEmpty ? nil : lookup(name) }

    /// The value of a fixed float32 tensor of one element.
    public func scalar(_ name: String) -> Float? {
        guard let t = self[name], t.elementType == .float, t.shape.reduce(1, *) == 1, let v = t.floatValues else { return nil }
        return v.first
    }
}
