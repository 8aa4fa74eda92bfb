extension Tensor {
    /// A tensor of seeded random values, as tools make inputs to run a model on: floats in [0, 1)
    /// (float16 and bfloat16 rounded from them), integers in 0...9 (valid indices of most
    /// embeddings), booleans. Nil for other element types.
    public static func random(_ type: ElementType, shape: [Int], name: String = "", using rng: inout SplitMix64) -> Tensor? {
        guard let n = elementCount(of: shape) else { return nil }
        switch type {
        case .float:
            return Tensor(name: name, elementType: .float, shape: shape, values: (0..<n).map { _ in rng.nextUnitFloat() })
        case .double:
            return Tensor(
                name: name, elementType: .double, shape: shape, values: (0..<n).map { _ in Double(rng.nextUnitFloat()) })
        case .int64:
            return Tensor(name: name, elementType: .int64, shape: shape, values: (0..<n).map { _ in Int64(rng.next() % 10) })
        case .int32:
            return Tensor(name: name, elementType: .int32, shape: shape, values: (0..<n).map { _ in Int32(rng.next() % 10) })
        case .bool:
            return Tensor(name: name, elementType: .bool, shape: shape, values: (0..<n).map { _ in UInt8(rng.next() & 1) })
        case .float16, .bfloat16:
            return Tensor(name: name, half: type, shape: shape, rounding: (0..<n).map { _ in rng.nextUnitFloat() })
        default: return nil
        }
    }
}
