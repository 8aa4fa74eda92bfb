import FerryIR

/// The Reduce* ops.
enum ReduceKind {
    case sum, mean, max, min, prod, l1, l2, logSum, logSumExp, sumSquare
}

/// A Reduce* node: attributes parsed at plan time, axes read from the input when the opset has it.
final class ReduceKernel: Kernel {
    private let kind: ReduceKind
    private let keepdims: Bool
    private let noopWithEmptyAxes: Bool
    /// Axes from the attribute (older opsets); nil when absent or taken from input 1.
    private let attributeAxes: [Int]?
    private let axesFromInput: Bool

    init(_ kind: ReduceKind, _ spec: NodeSpec, axesInputSince: Int) throws {
        self.kind = kind
        keepdims = try spec.int("keepdims", 1) != 0
        noopWithEmptyAxes = try spec.int("noop_with_empty_axes", 0) != 0
        axesFromInput = spec.opset >= axesInputSince
        attributeAxes = axesFromInput ? nil : try spec.ints("axes")
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let x = try inputs.required(0)
        var axes = attributeAxes ?? []
        if axesFromInput, let a = inputs.optional(1) { axes = try a.ints() }
        if axes.isEmpty {
            axes = noopWithEmptyAxes ? [] : Array(0..<x.rank)
        }
        let geometry = ReduceGeometry(shape: x.shape, axes: try ReduceGeometry.normalize(axes, rank: x.rank), keepdims: keepdims)
        return [try ReduceKernel.reduce(kind, x, geometry, ctx)]
    }

    /// `x` reduced as `geometry` says, in x's element type.
    static func reduce(_ kind: ReduceKind, _ x: Value, _ geometry: ReduceGeometry, _ ctx: ExecutionContext) throws -> Value {
        if x.type == .float16 || x.type == .bfloat16 {
            let r = try reduce(kind, try convert(x, to: .float, ctx: ctx), geometry, ctx)
            return try convert(r, to: x.type, ctx: ctx)
        }
        let out = try ctx.allocate(x.type, geometry.outputShape)
        guard out.count > 0 else { return out }
        var src = x
        if let shape = geometry.gatherShape, let strides = geometry.gatherStrides, geometry.reduced > 0 {
            src = try ReduceLayout.gather(x, shape: shape, strides: strides, ctx: ctx)
        }
        let integer: Set<ElementType> = [.int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64]
        let exact: Set<ReduceKind> = [.sum, .mean, .prod, .l1, .sumSquare]
        if integer.contains(x.type) && exact.contains(kind) {
            try ReduceIntegerRun(kind: kind, src: src, out: out, geometry: geometry, ctx: ctx).dispatch()
        } else {
            try dispatchNumeric(x.type, ReduceNumericRun(kind: kind, src: src, out: out, geometry: geometry, ctx: ctx))
        }
        return out
    }
}

/// Runs a reduction whose rule works for every numeric type (Double accumulation, or max/min).
private struct ReduceNumericRun: NumericVisitor {
    let kind: ReduceKind, src: Value, out: Value, geometry: ReduceGeometry, ctx: ExecutionContext

    func visit<T: RTNumber>(_: T.Type) throws {
        let s = UnsafePointer(src.pointer(T.self)), d = out.pointer(T.self)
        let g = geometry
        func go<R: ReduceRule>(_ rule: R) where R.Element == T {
            ReduceDriver.run(rule, s, d, outer: g.outer, reduced: g.reduced, inner: g.inner, ctx: ctx)
        }
        switch kind {
        case .max: go(ReduceMaxRule<T>())
        case .min: go(ReduceMinRule<T>())
        case .sum: go(ReduceDoubleSumRule<T, ReduceIdentityMap>(finishing: .identity))
        case .mean: go(ReduceDoubleSumRule<T, ReduceIdentityMap>(finishing: .mean))
        case .l1: go(ReduceDoubleSumRule<T, ReduceAbsMap>(finishing: .identity))
        case .l2: go(ReduceDoubleSumRule<T, ReduceSquareMap>(finishing: .sqrt))
        case .sumSquare: go(ReduceDoubleSumRule<T, ReduceSquareMap>(finishing: .identity))
        case .logSum: go(ReduceDoubleSumRule<T, ReduceIdentityMap>(finishing: .logarithm))
        case .prod: go(ReduceDoubleProdRule<T>())
        case .logSumExp:
            // Two passes: each output's maximum, then the shifted sum of exponentials.
            let n = out.count
            let peak = UnsafeMutablePointer<T>.allocate(capacity: n)
            let shift = UnsafeMutablePointer<Double>.allocate(capacity: n)
            defer {
                peak.deallocate()
                shift.deallocate()
            }
            ReduceDriver.run(ReduceMaxRule<T>(), s, peak, outer: g.outer, reduced: g.reduced, inner: g.inner, ctx: ctx)
            for i in 0..<n {
                let m = peak[i].double
                shift[i] = m.isFinite ? m : 0
            }
            go(ReduceExpSumRule<T>(shift: shift))
        }
    }
}

/// Runs an exact integer reduction (sum, mean, product, L1, sum of squares) in wrapping Int64.
private struct ReduceIntegerRun {
    let kind: ReduceKind, src: Value, out: Value, geometry: ReduceGeometry, ctx: ExecutionContext

    func dispatch() throws {
        switch src.type {
        case .int64: visit(Int64.self)
        case .int32: visit(Int32.self)
        case .int16: visit(Int16.self)
        case .int8: visit(Int8.self)
        case .uint64: visit(UInt64.self)
        case .uint32: visit(UInt32.self)
        case .uint16: visit(UInt16.self)
        case .uint8: visit(UInt8.self)
        default: throw KernelError.unsupported("element type \(src.type.name)")
        }
    }

    private func visit<T: RTInteger>(_: T.Type) {
        let s = UnsafePointer(src.pointer(T.self)), d = out.pointer(T.self)
        let g = geometry
        func go<R: ReduceRule>(_ rule: R) where R.Element == T {
            ReduceDriver.run(rule, s, d, outer: g.outer, reduced: g.reduced, inner: g.inner, ctx: ctx)
        }
        switch kind {
        case .mean: go(ReduceIntegerSumRule<T, ReduceIntegerIdentityMap>(mean: true))
        case .l1: go(ReduceIntegerSumRule<T, ReduceIntegerAbsMap>(mean: false))
        case .sumSquare: go(ReduceIntegerSumRule<T, ReduceIntegerSquareMap>(mean: false))
        case .prod: go(ReduceIntegerProdRule<T>())
        default: go(ReduceIntegerSumRule<T, ReduceIntegerIdentityMap>(mean: false))
        }
    }
}
