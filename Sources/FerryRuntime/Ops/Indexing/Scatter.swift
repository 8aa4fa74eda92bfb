import FerryIR

extension IndexingOps {
    /// ScatterElements (and Scatter, its name before opset 11) and ScatterND, with reductions
    /// none, add and mul (opset 16) and max and min (opset 18).
    static func registerScatter(into r: inout KernelRegistry) {
        r.register(["ScatterElements", "Scatter"]) { spec in
            let axis = try spec.int("axis", 0)
            let reduction = try IndexingReduction.parse(spec)
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0), ind = try inputs.required(1, "indices"),
                    updates = try inputs.required(2, "updates")
                let a = try shapeAxis(axis, rank: x.rank)
                guard ind.rank == x.rank, updates.shape == ind.shape,
                    (0..<x.rank).allSatisfy({ $0 == a || ind.shape[$0] <= x.shape[$0] })
                else {
                    throw KernelError.invalid(
                        "indices \(ind.shape) and updates \(updates.shape) do not fit data of shape \(x.shape)")
                }
                let idx = try indices(ind, bound: x.shape[a])
                var strides = shapeStrides(x.shape)
                let axisStride = strides[a]
                strides[a] = 0
                var offsets = [Int](repeating: 0, count: idx.count)
                shapeForEach(ind.shape, strides, strides, 0..<idx.count) { row, base, _ in
                    offsets[row] = base + idx[row] * axisStride
                }
                return [try scatter(x, updates, offsets: offsets, block: 1, reduction: reduction, ctx: ctx)]
            }
        }
        r.register("ScatterND") { spec in
            let reduction = try IndexingReduction.parse(spec)
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0), ind = try inputs.required(1, "indices"),
                    updates = try inputs.required(2, "updates")
                let (offsets, slice) = try ndOffsets(x.shape, ind, batchDims: 0)
                let expected = Array(ind.shape.dropLast()) + x.shape[ind.shape[ind.rank - 1]...]
                guard updates.shape == expected else {
                    throw KernelError.invalid("updates have shape \(updates.shape), expected \(expected)")
                }
                return [try scatter(x, updates, offsets: offsets, block: slice, reduction: reduction, ctx: ctx)]
            }
        }
    }

    /// A copy of `x` with block u of `updates` combined into it at element offset `offsets[u]`.
    private static func scatter(
        _ x: Value, _ updates: Value, offsets: [Int], block: Int, reduction: IndexingReduction,
        ctx: ExecutionContext
    ) throws -> Value {
        guard updates.type == x.type else {
            throw KernelError.invalid("updates are \(updates.type.name), data is \(x.type.name)")
        }
        if reduction != .none && (x.type == .float16 || x.type == .bfloat16) {
            let wide = try scatter(
                try convert(x, to: .float, ctx: ctx), try convert(updates, to: .float, ctx: ctx),
                offsets: offsets, block: block, reduction: reduction, ctx: ctx)
            return try convert(wide, to: x.type, ctx: ctx)
        }
        let out = try ctx.allocate(x.type, x.shape)
        out.buffer.baseAddress.copyMemory(from: x.buffer.baseAddress, byteCount: x.count * elementSize(x.type))
        if reduction == .none {
            try shapeWithWidth(
                of: x.type, IndexingBlockCopy(src: updates, dst: out, offsets: offsets, block: block, scatter: true, ctx: ctx))
        } else {
            // bool adds as logical or
            let r = x.type == .bool && reduction == .add ? .max : reduction
            try dispatchNumeric(x.type, IndexingReduce(out: out, updates: updates, offsets: offsets, block: block, reduction: r))
        }
        return out
    }
}

/// How scattered updates combine with the data.
private enum IndexingReduction: String {
    case none, add, mul, max, min

    static func parse(_ spec: NodeSpec) throws -> IndexingReduction {
        let name = try spec.string("reduction", "none")
        guard let r = IndexingReduction(rawValue: name), spec.opset >= 18 || (r != .max && r != .min) else {
            throw KernelError.invalid("reduction '\(name)' is not defined at opset \(spec.opset)")
        }
        return r
    }
}

/// Scatter with a reduction, for one numeric type.
private struct IndexingReduce: NumericVisitor {
    let out: Value, updates: Value
    let offsets: [Int]
    let block: Int
    let reduction: IndexingReduction

    func visit<T: RTNumber>(_: T.Type) throws {
        let d = out.pointer(T.self), s = updates.pointer(T.self), n = block
        for (u, o) in offsets.enumerated() {
            for i in 0..<n {
                let a = d[o + i], b = s[u * n + i]
                switch reduction {
                case .add: d[o + i] = T.add(a, b)
                case .mul: d[o + i] = T.mul(a, b)
                case .max: d[o + i] = b > a ? b : a
                case .min: d[o + i] = b < a ? b : a
                case .none: d[o + i] = b
                }
            }
        }
    }
}
