import FerryIR

/// Runs one resize: the geometry and per-axis tables are computed once per call, then nearest mode
/// gathers every output element in one pass and linear/cubic run one separable pass per resized axis.
enum ResizeExecution {
    /// `x` resized; empty `scales`, `sizes` and `roi` tensors count as absent.
    static func run(_ x: Value, config: ResizeConfig, roi: Value?, scales: Value?, sizes: Value?, _ ctx: ExecutionContext) throws
        -> Value
    {
        func given(_ v: Value?) -> Value? { v.flatMap { $0.count > 0 ? $0 : nil } }
        let axes = try ResizeGeometry.axes(
            shape: x.shape, scales: try given(scales)?.doubles(), sizes: try given(sizes)?.ints(),
            roi: try given(roi)?.doubles(), config: config)
        let shape = axes.map(\.output)
        guard let total = Tensor.elementCount(of: shape) else { throw KernelError.invalid("output shape \(shape) is too large") }
        if total == 0 { return try ctx.allocate(x.type, shape) }
        let tables = try axes.map { try ResizeAxisTable($0, config) }
        // Shrinking axes first, so later passes have less to do.
        let ratio = axes.map { Double($0.output) / Double(max($0.input, 1)) }
        let active = tables.indices.filter { !tables[$0].isIdentity }.sorted { ratio[$0] < ratio[$1] }
        if active.isEmpty {
            let out = try ctx.allocate(x.type, shape)
            out.buffer.baseAddress.copyMemory(from: x.buffer.baseAddress, byteCount: x.count * elementSize(x.type))
            return out
        }
        if config.mode == .nearest {
            let out = try ctx.allocate(x.type, shape)
            let fill = try convert(Value.float([Float(config.extrapolation)], shape: [1]), to: x.type, ctx: ctx)
            let gather = ResizeGather(x: x, out: out, tables: tables, fill: fill, ctx: ctx)
            switch elementSize(x.type) {
            case 1: gather.run(UInt8.self)
            case 2: gather.run(UInt16.self)
            case 4: gather.run(UInt32.self)
            case 8: gather.run(UInt64.self)
            default: throw KernelError.unsupported("element type \(x.type.name)")
            }
            return out
        }
        let wide: ElementType
        switch x.type {
        case .float, .double: wide = x.type
        case .float16, .bfloat16: wide = .float
        case .string: throw KernelError.unsupported("element type \(x.type.name)")
        default: wide = .double
        }
        let xw = try convert(x, to: wide, ctx: ctx)
        let out = try dispatchFloat(
            wide,
            ResizeInterpolation(
                x: xw, shape: shape, tables: tables, order: active,
                fill: config.extrapolation, ctx: ctx))
        return try convert(out, to: x.type, ctx: ctx)
    }
}

/// Nearest resize of elements stored as `T` (any type of that size): each output row's source row
/// is found once from the per-axis indices, then the row is gathered (or copied when its last axis
/// is unchanged, or when the row before it read the same source row).
private struct ResizeGather {
    let x: Value, out: Value, tables: [ResizeAxisTable], fill: Value, ctx: ExecutionContext

    func run<T>(_: T.Type) {
        let inShape = x.shape, outShape = out.shape
        let rank = inShape.count, last = rank - 1
        var stride = [Int](repeating: 1, count: rank)
        for d in stride.indices.reversed().dropFirst() { stride[d] = stride[d + 1] * inShape[d + 1] }
        // Per axis and output coordinate: the source offset, or -1 outside the crop.
        let offsets: [[Int]] = (0..<rank).map { d in
            (0..<outShape[d]).map { o in tables[d].outside[o] ? -1 : tables[d].index[o] * stride[d] }
        }
        let width = outShape[last], copyRows = tables[last].isIdentity
        let rows = out.count / width
        let src = x.pointer(T.self), dst = out.pointer(T.self), value = fill.pointer(T.self)[0]
        offsets[last].withUnsafeBufferPointer { lastOffsets in
            ctx.parallel(rows, itemElements: width) { r in
                var position = [Int](repeating: 0, count: max(last, 0))
                var rest = r.lowerBound
                for d in (0..<last).reversed() {
                    position[d] = rest % outShape[d]
                    rest /= outShape[d]
                }
                // An output row reading the same source row as the one before it (upsampling) is a
                // copy of that row.
                var previous = -1
                for row in r {
                    var base = 0
                    for d in 0..<last {
                        let o = offsets[d][position[d]]
                        if o < 0 {
                            base = -1
                            break
                        }
                        base += o
                    }
                    let target = dst + row * width
                    if base < 0 {
                        target.update(repeating: value, count: width)
                    } else if base == previous {
                        target.update(from: target - width, count: width)
                    } else if copyRows {
                        target.update(from: src + base, count: width)
                    } else {
                        let s = src + base
                        for j in 0..<width {
                            let o = lastOffsets[j]
                            target[j] = o < 0 ? value : s[o]
                        }
                    }
                    previous = base
                    stepIndex(&position, within: outShape, axes: last)
                }
            }
        }
    }
}

/// Linear or cubic resize in float32/float64: one pass per resized axis (in `order`), each output
/// element a weighted sum of its taps along that axis; rows are blended whole when the axis is not
/// the last.
private struct ResizeInterpolation: FloatVisitor {
    let x: Value, shape: [Int], tables: [ResizeAxisTable], order: [Int], fill: Double, ctx: ExecutionContext

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func visit<T: RTFloat>(_: T.Type) throws -> Value {
        var current = x
        for d in order {
            var next = current.shape
            next[d] = shape[d]
            let dst = try ctx.allocate(x.type, next)
            let outer = current.shape[..<d].reduce(1, *), inner = current.shape[(d + 1)...].reduce(1, *)
            pass(
                T.self, from: current, to: dst, outer: outer, inner: inner, table: tables[d], length: current.shape[d],
                outLen: shape[d])
            current = dst
        }
        return current
    }

    private func pass<T: RTFloat>(
        _: T.Type, from source: Value, to target: Value, outer: Int, inner: Int,
        table: ResizeAxisTable, length: Int, outLen: Int
    ) {
        let taps = table.taps
        guard outer > 0, outLen > 0, inner > 0 else { return }
        let weights = table.weight.map { T($0) }, value = T(fill)
        let cropped = table.outside.contains(true)
        let src = source.pointer(T.self), dst = target.pointer(T.self)
        table.index.withUnsafeBufferPointer { ip in
            weights.withUnsafeBufferPointer { wp in
                table.outside.withUnsafeBufferPointer { op in
                    guard let index = ip.baseAddress, let weight = wp.baseAddress, let outside = op.baseAddress else { return }
                    if inner == 1 {
                        // The last axis: each output row gathers its taps from one input row.
                        ctx.parallel(outer, itemElements: outLen * taps) { r in
                            for row in r {
                                let s = src + row * length, d = dst + row * outLen
                                if taps == 2 && !cropped {
                                    for o in 0..<outLen {
                                        let j = 2 * o
                                        d[o] = weight[j] * s[index[j]] + weight[j + 1] * s[index[j + 1]]
                                    }
                                    continue
                                }
                                for o in 0..<outLen {
                                    if outside[o] {
                                        d[o] = value
                                        continue
                                    }
                                    let ix = index + o * taps, w = weight + o * taps
                                    var acc = w[0] * s[ix[0]]
                                    for t in 1..<taps { acc += w[t] * s[ix[t]] }
                                    d[o] = acc
                                }
                            }
                        }
                        return
                    }
                    // An outer axis: each output row is a weighted sum of whole input rows.
                    ctx.parallel(outer * outLen, itemElements: inner * taps) { r in
                        var row = r.lowerBound / outLen, o = r.lowerBound % outLen
                        for _ in r {
                            let d = dst + (row * outLen + o) * inner
                            if outside[o] {
                                d.update(repeating: value, count: inner)
                            } else {
                                let s = src + row * length * inner
                                let ix = index + o * taps, w = weight + o * taps
                                if taps == 2 {
                                    let a = s + ix[0] * inner, b = s + ix[1] * inner, w0 = w[0], w1 = w[1]
                                    for i in 0..<inner { d[i] = w0 * a[i] + w1 * b[i] }
                                } else {
                                    let a = s + ix[0] * inner, w0 = w[0]
                                    for i in 0..<inner { d[i] = w0 * a[i] }
                                    for t in 1..<taps {
                                        let b = s + ix[t] * inner, wt = w[t]
                                        for i in 0..<inner { d[i] += wt * b[i] }
                                    }
                                }
                            }
                            o += 1
                            if o == outLen {
                                o = 0
                                row += 1
                            }
                        }
                    }
                }
            }
        }
    }
}
