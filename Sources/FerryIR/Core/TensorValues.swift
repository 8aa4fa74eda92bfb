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

    /// The elements of an int64 or int32 tensor as Int64, read exactly (nil for other types and
    /// segmented tensors).
    public var int64Values: [Int64]? {
        guard segment == nil, let b = bytes else { return nil }
        switch elementType {
        case .int64: return b.toArray(of: Int64.self)
        case .int32: return b.toArray(of: Int32.self).map(Int64.init)
        default: return nil
        }
    }

    /// The elements as Doubles, for float, integer and boolean tensors (nil for other types and
    /// segmented tensors): what tools that compare or summarise values read.
    public var numericValues: [Double]? {
        guard segment == nil, let b = bytes else { return nil }
        switch elementType {
        case .float: return b.toArray(of: Float.self).map(Double.init)
        case .double: return b.toArray(of: Double.self)
        case .int64: return b.toArray(of: Int64.self).map(Double.init)
        case .int32: return b.toArray(of: Int32.self).map(Double.init)
        case .int16: return b.toArray(of: Int16.self).map(Double.init)
        case .uint16: return b.toArray(of: UInt16.self).map(Double.init)
        case .uint32: return b.toArray(of: UInt32.self).map(Double.init)
        case .uint64: return b.toArray(of: UInt64.self).map(Double.init)
        case .uint8, .bool: return b.toArray(of: UInt8.self).map(Double.init)
        case .int8: return b.toArray(of: Int8.self).map(Double.init)
        case .float16, .bfloat16: return halfFloatValues?.map(Double.init)
        default: return nil
        }
    }
}
