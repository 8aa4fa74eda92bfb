import FerryIR

extension ShapeOps {
    /// Pad in modes constant, reflect, edge and wrap; pads are an attribute before opset 11, then
    /// inputs (with the constant and, from opset 18, the axes they apply to). Negative pads crop.
    static func registerPad(into r: inout KernelRegistry) {
        r.register("Pad") { spec in
            let mode = try spec.string("mode", "constant")
            guard let padMode = ShapePadMode(rawValue: mode) else {
                throw KernelError.unsupported("Pad mode '\(mode)'")
            }
            if spec.opset < 11 {
                guard let pads = try spec.ints(spec.opset < 2 ? "paddings" : "pads") else {
                    throw KernelError.invalid("attribute 'pads' is missing")
                }
                let value = Double(try spec.float("value", 0))
                return FunctionKernel { inputs, ctx in
                    let x = try inputs.required(0)
                    guard pads.count == 2 * x.rank else { throw KernelError.invalid("pads \(pads) do not fit rank \(x.rank)") }
                    return [try pad(x, pads: pads, mode: padMode, constant: try shapeConstant(value, x.type, ctx: ctx), ctx: ctx)]
                }
            }
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                let given = try shapeIntegers(try inputs.required(1, "pads"), "pads")
                let axes = try inputs.optional(3).map { try shapeIntegers($0, "axes") } ?? Array(0..<x.rank)
                guard given.count == 2 * axes.count else {
                    throw KernelError.invalid("pads \(given) do not fit \(axes.count) axes")
                }
                var pads = [Int](repeating: 0, count: 2 * x.rank)
                var seen = Set<Int>()
                for (i, axis) in axes.enumerated() {
                    let a = try shapeAxis(axis, rank: x.rank)
                    guard seen.insert(a).inserted else { throw KernelError.invalid("axis \(axis) is repeated") }
                    pads[a] = given[i]
                    pads[a + x.rank] = given[i + axes.count]
                }
                var constant: Value?
                if let c = inputs.optional(2), padMode == .constant {
                    guard c.type == x.type, c.count == 1 else {
                        throw KernelError.invalid(
                            "constant_value must be one \(x.type.name), got \(c.type.name) of shape \(c.shape)")
                    }
                    constant = c
                }
                return [try pad(x, pads: pads, mode: padMode, constant: constant, ctx: ctx)]
            }
        }
    }

    /// CenterCropPad (opset 18): each listed axis cropped or zero-padded to its target size,
    /// centred (the odd element goes to the end).
    static func registerCenterCropPad(into r: inout KernelRegistry) {
        r.register("CenterCropPad") { spec in
            let attrAxes = try spec.ints("axes")
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                let target = try shapeIntegers(try inputs.required(1, "shape"), "shape")
                let axes = attrAxes ?? Array(0..<x.rank)
                guard target.count == axes.count, target.allSatisfy({ $0 >= 0 }) else {
                    throw KernelError.invalid("shape \(target) does not fit axes \(axes)")
                }
                var pads = [Int](repeating: 0, count: 2 * x.rank)
                var seen = Set<Int>()
                for (i, axis) in axes.enumerated() {
                    let a = try shapeAxis(axis, rank: x.rank)
                    guard seen.insert(a).inserted else { throw KernelError.invalid("axis \(axis) is repeated") }
                    let grow = target[i] - x.shape[a]
                    pads[a] = grow >= 0 ? grow / 2 : -(-grow / 2)
                    pads[a + x.rank] = grow - pads[a]
                }
                return [try pad(x, pads: pads, mode: .constant, constant: nil, ctx: ctx)]
            }
        }
    }

    /// `x` padded by `pads` (all begins, then all ends); `constant` (zero when nil) fills in constant mode.
    private static func pad(_ x: Value, pads: [Int], mode: ShapePadMode, constant: Value?, ctx: ExecutionContext) throws -> Value
    {
        let rank = x.rank
        var shape = x.shape
        for d in 0..<rank {
            let (grown, o1) = x.shape[d].addingReportingOverflow(pads[d])
            let (size, o2) = grown.addingReportingOverflow(pads[d + rank])
            guard !o1, !o2, size >= 0 else { throw KernelError.invalid("pads \(pads) do not fit shape \(x.shape)") }
            shape[d] = size
        }
        let out = try ctx.allocate(x.type, shape)
        guard out.count > 0 else { return out }
        guard rank > 0 else {
            out.buffer.baseAddress.copyMemory(from: x.buffer.baseAddress, byteCount: elementSize(x.type))
            return out
        }
        // Per axis: the source index of every output index, or -1 where the constant goes, and the
        // range of output indices read straight from the source.
        var maps: [[Int]] = [], inner = (start: 0, count: 0, from: 0)
        for d in 0..<rank {
            let n = x.shape[d], begin = pads[d], end = pads[d + rank]
            let lo = max(-begin, 0), kept = n - lo - max(-end, 0), first = max(begin, 0)
            if kept <= 0 && mode != .constant && shape[d] > 0 {
                throw KernelError.invalid("cannot pad an empty axis in \(mode.rawValue) mode")
            }
            maps.append((0..<shape[d]).map { o in mode.source(o - first, size: kept, start: lo) })
            if d == rank - 1 { inner = kept > 0 ? (first, kept, lo) : (shape[d], 0, 0) }
        }
        let body = ShapePadBody(x: x, out: out, maps: maps, inner: inner, constant: constant, ctx: ctx)
        try shapeWithWidth(of: x.type, body)
        return out
    }
}

/// How Pad fills outside the input.
private enum ShapePadMode: String {
    case constant, reflect, edge, wrap

    /// The source index for position `r` relative to the kept part (`size` elements from `start`),
    /// or -1 for the constant.
    func source(_ r: Int, size: Int, start: Int) -> Int {
        if r >= 0 && r < size { return start + r }
        switch self {
        case .constant: return -1
        case .edge: return r < 0 ? start : start + size - 1
        case .wrap: return start + ((r % size) + size) % size
        case .reflect:
            guard size > 1 else { return start }
            let period = 2 * (size - 1)
            let t = ((r % period) + period) % period
            return start + (t < size ? t : period - t)
        }
    }
}

/// The Pad copy for one element width: each output row (all axes but the last) is the constant or
/// a source row, whose middle is copied in bulk and whose padded ends are read through the map.
private struct ShapePadBody: ShapeWidthVisitor {
    let x: Value, out: Value
    let maps: [[Int]]
    let inner: (start: Int, count: Int, from: Int)
    let constant: Value?
    let ctx: ExecutionContext

    func visit<T>(_: T.Type) throws {
        let s = x.pointer(T.self), d = out.pointer(T.self)
        let rank = x.rank, n = out.shape[rank - 1]
        let zero = [UInt8](repeating: 0, count: MemoryLayout<T>.stride)
        let c: T = constant.map { $0.pointer(T.self)[0] } ?? zero.withUnsafeBytes { $0.load(as: T.self) }
        let outerDims = Array(out.shape.dropLast()), srcStrides = shapeStrides(x.shape)
        let rows = out.count / n
        let maps = self.maps, inner = self.inner
        let innerMap = maps[rank - 1]
        ctx.parallel(rows, itemElements: n) { range in
            var idx = [Int](repeating: 0, count: rank - 1)
            var rem = range.lowerBound
            for k in (0..<(rank - 1)).reversed() {
                idx[k] = rem % outerDims[k]
                rem /= outerDims[k]
            }
            for row in range {
                let o = d + row * n
                var src = 0, inside = true
                for k in 0..<(rank - 1) {
                    let m = maps[k][idx[k]]
                    if m < 0 {
                        inside = false
                        break
                    }
                    src += m * srcStrides[k]
                }
                if inside {
                    for i in 0..<inner.start {
                        let m = innerMap[i]
                        o[i] = m < 0 ? c : s[src + m]
                    }
                    UnsafeMutableRawPointer(o + inner.start).copyMemory(
                        from: s + src + inner.from, byteCount: inner.count * MemoryLayout<T>.stride)
                    for i in (inner.start + inner.count)..<n {
                        let m = innerMap[i]
                        o[i] = m < 0 ? c : s[src + m]
                    }
                } else {
                    o.update(repeating: c, count: n)
                }
                stepIndex(&idx, within: outerDims, axes: rank - 1)
            }
        }
    }
}
