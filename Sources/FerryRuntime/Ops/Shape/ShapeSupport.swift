import FerryIR

/// Code that runs for one element width: data movement cares only about an element's size.
protocol ShapeWidthVisitor {
    associatedtype Result
    func visit<T>(_ type: T.Type) throws -> Result
}

/// Calls `v` with an unsigned integer (or vector) type as wide as one element of `type`.
func shapeWithWidth<V: ShapeWidthVisitor>(of type: ElementType, _ v: V) throws -> V.Result {
    switch elementSize(type) {
    case 1: return try v.visit(UInt8.self)
    case 2: return try v.visit(UInt16.self)
    case 4: return try v.visit(UInt32.self)
    case 8: return try v.visit(UInt64.self)
    case 16: return try v.visit(SIMD2<UInt64>.self)
    default: throw KernelError.unsupported("element type \(type.name)")
    }
}

/// `axis` in `-rank..<rank` made non-negative.
func shapeAxis(_ axis: Int, rank: Int, _ what: String = "axis") throws -> Int {
    guard axis >= -rank, axis < rank else { throw KernelError.invalid("\(what) \(axis) is out of range for rank \(rank)") }
    return axis < 0 ? axis + rank : axis
}

/// Element strides of a dense row-major tensor of `shape`.
func shapeStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    for d in shape.indices.reversed() {
        strides[d] = step
        step = step &* shape[d]
    }
    return strides
}

/// The product of `dims` (an element count), or an error when one is negative or it overflows.
func shapeCount<C: Collection>(_ dims: C) throws -> Int where C.Element == Int {
    var n = 1
    for d in dims {
        let (p, o) = n.multipliedReportingOverflow(by: d)
        guard d >= 0, !o else { throw KernelError.invalid("invalid shape \(Array(dims))") }
        n = p
    }
    return n
}

/// The integers of a 1-D (or scalar) integer input.
func shapeIntegers(_ v: Value, _ what: String) throws -> [Int] {
    guard v.rank <= 1 else { throw KernelError.invalid("\(what) must be 1-D, got shape \(v.shape)") }
    guard v.type == .int64 || v.type == .int32 else {
        throw KernelError.invalid("\(what) must be int64 or int32, got \(v.type.name)")
    }
    return try v.ints()
}

/// The single element of `v`, which must hold exactly one.
func shapeScalar(_ v: Value, _ what: String) throws -> Double {
    guard v.count == 1 else { throw KernelError.invalid("\(what) must hold one element, got shape \(v.shape)") }
    return try v.doubles()[0]
}

/// Fills `count` elements of `size` bytes at `dst` with the element at `element`, by doubling copies.
func shapeFill(_ dst: UnsafeMutableRawPointer, count: Int, size: Int, element: UnsafeRawPointer) {
    guard count > 0 else { return }
    dst.copyMemory(from: element, byteCount: size)
    var done = 1
    while done < count {
        let n = min(done, count - done)
        (dst + done * size).copyMemory(from: dst, byteCount: n * size)
        done += n
    }
}

/// A single-element value of `type` holding `x` (ONNX Cast semantics).
func shapeConstant(_ x: Double, _ type: ElementType, ctx: ExecutionContext) throws -> Value {
    try convert(Value(type: .double, shape: [], buffer: [x].withUnsafeBytes { TensorBuffer(copying: $0) }), to: type, ctx: ctx)
}

/// Calls `body(row, a, b)` for each flat index `row` in `range` of the index space `dims`, with
/// `a` and `b` the offsets Σ index_k · stridesA[k] and Σ index_k · stridesB[k]; the index is
/// advanced like an odometer, so only the first row costs divisions.
@inline(__always)
func shapeForEach(
    _ dims: [Int], _ stridesA: [Int], _ stridesB: [Int], _ range: Range<Int>,
    _ body: (_ row: Int, _ a: Int, _ b: Int) -> Void
) {
    let m = dims.count
    guard !range.isEmpty else { return }
    guard m > 0 else {
        for r in range { body(r, 0, 0) }
        return
    }
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * m) { buf in
        let idx = buf.baseAddress!, d = idx + m, sa = idx + 2 * m
        var rem = range.lowerBound, a = 0, b = 0
        for k in (0..<m).reversed() {
            d[k] = dims[k]
            sa[k] = stridesA[k]
            idx[k] = rem % dims[k]
            rem /= dims[k]
            a += idx[k] * stridesA[k]
            b += idx[k] * stridesB[k]
        }
        stridesB.withUnsafeBufferPointer { sb in
            for r in range {
                body(r, a, b)
                var k = m - 1
                idx[k] += 1
                a += sa[k]
                b += sb[k]
                while idx[k] == d[k] && k > 0 {
                    a -= sa[k] * d[k]
                    b -= sb[k] * d[k]
                    idx[k] = 0
                    k -= 1
                    idx[k] += 1
                    a += sa[k]
                    b += sb[k]
                }
            }
        }
    }
}

/// a · b, or an error when the product overflows.
func shapeMultiply(_ a: Int, _ b: Int) throws -> Int {
    let (p, o) = a.multipliedReportingOverflow(by: b)
    guard !o else { throw KernelError.invalid("size \(a) x \(b) overflows") }
    return p
}
