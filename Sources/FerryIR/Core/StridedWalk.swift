/// A row-major walk over the indices of a shape (the last axis fastest) that keeps `offset`, the sum
/// of index[d] * strides[d], in step: the loop of every strided copy (a transpose read in output
/// order, the kept axes of a reduction).
@frozen public struct StridedWalk {
    @usableFromInline var index: [Int]
    @usableFromInline let shape: [Int], strides: [Int]
    @usableFromInline var current: Int

    /// Starts at position `start` of `shape` in row-major order.
    public init(shape: [Int], strides: [Int], start: Int = 0) {
        self.shape = shape
        self.strides = strides
        index = [Int](repeating: 0, count: shape.count)
        var rest = start, offset = 0
        for d in shape.indices.reversed() where shape[d] > 0 {
            index[d] = rest % shape[d]
            rest /= shape[d]
            offset += index[d] * strides[d]
        }
        current = offset
    }

    /// The offset of the current index.
    @inlinable public var offset: Int { current }

    /// Moves to the next index; after the last one, back to all zeros.
    @inlinable public mutating func advance() {
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            current += strides[d]
            if index[d] < shape[d] { return }
            current -= strides[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
}
