extension Tensor {
    /// A float32 tensor holding `values`.
    public init(name: String, floats values: [Float], shape: [Int]) {
        self.init(name: name, elementType: .float, shape: shape, values: values)
    }

    /// The elements as Float, for float32 tensors (nil for other types and segmented tensors).
    public var floatValues: [Float]? {
        guard elementType == .float, segment == nil, let b = bytes else { return nil }
        return b.toArray(of: Float.self)
    }
}
