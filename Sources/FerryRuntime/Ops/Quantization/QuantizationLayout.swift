import FerryIR

/// How QuantizeLinear and DequantizeLinear pair a tensor's elements with its scales and zero points:
/// per tensor (one scale), per axis (a 1-D scale along `axis`) or blocked (scales of the input's
/// rank, one per `blockSize` elements along `axis`). The tensor is walked as runs of `inner`
/// contiguous elements; a run's parameters start at `parameter(outer:axis:)` and step by
/// `innerStride`.
struct QuantizationLayout {
    let outer: Int
    let axisLength: Int
    let inner: Int
    private let block: Int
    private let outerStride: Int
    private let axisStride: Int
    /// Parameter step between consecutive elements of a run (0: the run shares one parameter).
    let innerStride: Int

    /// One scale and zero point for the whole of an input of `shape`.
    static func perTensor(_ shape: [Int]) throws -> QuantizationLayout {
        try QuantizationLayout(shape: shape, parameterShape: [], axis: 0, blockSize: 0, opset: 10)
    }

    /// The layout for input `shape` and parameters of `parameterShape` (ONNX rules for the opset).
    init(shape: [Int], parameterShape: [Int], axis: Int, blockSize: Int, opset: Int) throws {
        let parameters = parameterShape.reduce(1, *)
        let count = shape.reduce(1, *)
        if parameters == 1 && (blockSize == 0 || parameterShape.count <= 1) {
            outer = 1
            axisLength = 1
            inner = count
            block = 1
            outerStride = 0
            axisStride = 0
            innerStride = 0
            return
        }
        guard opset >= 13 else {
            throw KernelError.invalid("opset \(opset) takes one scale and zero point, got shape \(parameterShape)")
        }
        let a = try shapeAxis(axis, rank: shape.count)
        outer = shape[..<a].reduce(1, *)
        axisLength = shape[a]
        inner = shape[(a + 1)...].reduce(1, *)
        if blockSize == 0 {
            guard parameterShape == [axisLength] else {
                throw KernelError.invalid("per-axis scale of shape \(parameterShape) does not match axis \(a) of \(shape)")
            }
            block = 1
            outerStride = 0
            axisStride = 1
            innerStride = 0
        } else {
            guard blockSize > 0 else { throw KernelError.invalid("block_size must be positive, got \(blockSize)") }
            var expected = shape
            expected[a] = (axisLength + blockSize - 1) / blockSize
            guard parameterShape == expected else {
                throw KernelError.invalid(
                    "blocked scale of shape \(parameterShape) does not match \(shape) with block_size \(blockSize) on axis \(a)")
            }
            block = blockSize
            outerStride = expected[a] * inner
            axisStride = inner
            innerStride = 1
        }
    }

    /// Number of runs.
    var runs: Int { outer * axisLength }

    /// Index of the first parameter of run `r`.
    @inline(__always) func parameter(run r: Int) -> Int {
        (r / axisLength) * outerStride + ((r % axisLength) / block) * axisStride
    }

    /// Calls `body(start, end, parameter)` for each part [start, end) of the elements `range` that lies
    /// in one run, with the index of element `start`'s parameter (the next elements' step by
    /// `innerStride`).
    @inline(__always) func forEachStretch(of range: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        var i = range.lowerBound
        while i < range.upperBound {
            let run = i / inner, end = min(range.upperBound, (run + 1) * inner)
            body(i, end, parameter(run: run) + (i - run * inner) * innerStride)
            i = end
        }
    }

    /// Calls `body(element, scale)` for every element, on `ctx`'s threads (the float8/float6/float4
    /// loops, which take no zero point).
    func forEachElement(scales: [Float], _ ctx: ExecutionContext, _ body: (Int, Float) -> Void) {
        let step = innerStride
        scales.withUnsafeBufferPointer { sp in
            ctx.parallel(runs * inner, grain: elementGrain) { r in
                forEachStretch(of: r) { i, end, p in
                    for j in i..<end { body(j, sp[p + (j - i) * step]) }
                }
            }
        }
    }
}

/// The attributes that place QuantizeLinear's and DequantizeLinear's parameters over their input
/// (`axis`, `block_size`, the opset), read once at plan time.
struct QuantizationAxis {
    let axis: Int
    let blockSize: Int
    let opset: Int

    init(_ spec: NodeSpec) throws {
        axis = try spec.int("axis", 1)
        blockSize = try spec.int("block_size", 0)
        opset = spec.opset
    }

    /// The layout, scales and zero points (0 when there are none) for input `x` with scale `s` and
    /// zero point `z`, which must have the scale's shape; `prefix` names them in errors (y_scale, ...).
    func parameters(of x: Value, scale s: Value, zeroPoint z: Value?, prefix: String) throws
        -> (layout: QuantizationLayout, scales: [Float], zeros: [Int32])
    {
        if let z {
            guard z.shape == s.shape || z.count == 1 && s.count == 1 else {
                throw KernelError.invalid("\(prefix)_zero_point \(z.shape) and \(prefix)_scale \(s.shape) differ in shape")
            }
        }
        let layout = try self.layout(x.shape, parameters: s.shape)
        let scales = try s.scaleValues()
        return (layout, scales, try z?.zeroPointValues() ?? [Int32](repeating: 0, count: scales.count))
    }

    /// The layout for an input of `shape` and parameters of `parameterShape`.
    func layout(_ shape: [Int], parameters parameterShape: [Int]) throws -> QuantizationLayout {
        try QuantizationLayout(shape: shape, parameterShape: parameterShape, axis: axis, blockSize: blockSize, opset: opset)
    }
}

extension NodeSpec {
    /// The `output_dtype` attribute (opset 21): nil when absent or 0, else one of `allowed`;
    /// `refusing` makes the error for another type.
    func outputType(allowed: Set<ElementType>, refusing: (ElementType) -> Error) throws -> ElementType? {
        let code = try int("output_dtype", 0)
        guard code != 0 else { return nil }
        guard let type = ElementType(rawValue: Int32(clamping: code)) else {
            throw KernelError.invalid("output_dtype \(code) is not a tensor type")
        }
        guard allowed.contains(type) else { throw refusing(type) }
        return type
    }
}
