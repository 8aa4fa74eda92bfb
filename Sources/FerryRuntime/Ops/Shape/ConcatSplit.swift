import FerryIR

extension ShapeOps {
    /// Joining and splitting along an axis: Concat and Split.
    static func registerConcatSplit(into r: inout KernelRegistry) {
        r.register("Concat") { spec in
            let axis = spec.opset < 4 ? try spec.int("axis", 1) : try spec.int("axis", Int.min)
            guard axis != Int.min else { throw KernelError.invalid("attribute 'axis' is missing") }
            return FunctionKernel { inputs, ctx in
                let parts = inputs.compactMap { $0 }
                guard let first = parts.first else { throw KernelError.invalid("no inputs") }
                return [try concat(parts, axis: try shapeAxis(axis, rank: first.rank), ctx: ctx)]
            }
        }
        r.register("Split") { spec in
            let axis = try spec.int("axis", 0)
            let outputs = spec.outputCount
            let attrSplit = spec.opset < 13 ? try spec.ints("split") : nil
            let parts = spec.opset >= 18 ? try spec.int("num_outputs", 0) : 0
            if spec.opset >= 18 && spec.has("num_outputs") && parts != outputs {
                throw KernelError.invalid("num_outputs \(parts) differs from the \(outputs) outputs")
            }
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                let a = try shapeAxis(axis, rank: x.rank)
                let dim = x.shape[a]
                var sizes: [Int]
                // An empty split list counts as none.
                if let given = try attrSplit ?? inputs.optional(1).map({ try shapeIntegers($0, "split") }), !given.isEmpty {
                    guard given.count == outputs, given.allSatisfy({ $0 >= 0 }), given.reduce(0, { $0 &+ $1 }) == dim else {
                        throw KernelError.invalid("split \(given) does not divide axis \(a) of size \(dim) into \(outputs) parts")
                    }
                    sizes = given
                } else if parts > 0 {
                    let chunk = (dim + parts - 1) / parts
                    guard dim - chunk * (parts - 1) >= 0 else {
                        throw KernelError.invalid("axis \(a) of size \(dim) cannot be split into \(parts) parts")
                    }
                    sizes = [Int](repeating: chunk, count: parts - 1) + [dim - chunk * (parts - 1)]
                } else {
                    guard outputs > 0, dim % outputs == 0 else {
                        throw KernelError.invalid("axis \(a) of size \(dim) cannot be split evenly into \(outputs) parts")
                    }
                    sizes = [Int](repeating: dim / outputs, count: outputs)
                }
                return try split(x, axis: a, sizes: sizes, ctx: ctx)
            }
        }
    }

    /// The inputs joined along `axis`; every other axis must agree.
    static func concat(_ parts: [Value], axis: Int, ctx: ExecutionContext) throws -> Value {
        let first = parts[0]
        var shape = first.shape
        shape[axis] = 0
        for p in parts {
            guard p.type == first.type else {
                throw KernelError.invalid("input types differ: \(first.type.name) and \(p.type.name)")
            }
            guard p.rank == first.rank,
                p.shape.indices.allSatisfy({ $0 == axis || p.shape[$0] == first.shape[$0] })
            else {
                throw KernelError.invalid("shapes \(first.shape) and \(p.shape) differ off axis \(axis)")
            }
            let (sum, o) = shape[axis].addingReportingOverflow(p.shape[axis])
            guard !o else { throw KernelError.invalid("the joined axis is too long") }
            shape[axis] = sum
        }
        let out = try ctx.allocate(first.type, shape)
        guard out.count > 0 else { return out }
        let es = elementSize(first.type)
        let outer = try shapeCount(shape[..<axis]), inner = try shapeCount(shape[(axis + 1)...])
        let rowBytes = shape[axis] * inner * es
        let pieces = parts.map { (src: UnsafeRawPointer($0.buffer.baseAddress), bytes: $0.shape[axis] * inner * es) }
        let dst = out.buffer.baseAddress
        if outer < 4 * ctx.threads {
            // Few rows (axis 0 or 1 of one image): each input's block is shared by the threads.
            var at = 0
            for p in pieces {
                copyRows(outer, bytes: p.bytes, from: p.src, stride: p.bytes, to: dst + at, stride: rowBytes, ctx: ctx)
                at += p.bytes
            }
            return out
        }
        ctx.parallel(outer, grain: max(1, copyPiece / rowBytes)) { range in
            for o in range {
                var at = dst + o * rowBytes
                for p in pieces where p.bytes > 0 {
                    at.copyMemory(from: p.src + o * p.bytes, byteCount: p.bytes)
                    at += p.bytes
                }
            }
        }
        return out
    }

    /// Bytes a thread copies at least at a time.
    private static let copyPiece = 1 << 16

    /// `rows` rows of `bytes` bytes from `src` (rows `srcStride` bytes apart) to `dst` (rows
    /// `dstStride` apart), on all threads when there is enough to copy: whole rows each when there
    /// are many, else rows cut in pieces of `copyPiece` bytes.
    private static func copyRows(
        _ rows: Int, bytes: Int, from src: UnsafeRawPointer, stride srcStride: Int, to dst: UnsafeMutableRawPointer,
        stride dstStride: Int, ctx: ExecutionContext
    ) {
        guard rows > 0, bytes > 0 else { return }
        let pieces = rows >= 4 * ctx.threads ? 1 : (bytes + copyPiece - 1) / copyPiece
        let size = (bytes + pieces - 1) / pieces
        ctx.parallel(rows * pieces, grain: max(1, copyPiece / size)) { range in
            for i in range {
                let o = i / pieces, at = min(bytes, i % pieces * size), count = min(size, bytes - at)
                if count > 0 { (dst + o * dstStride + at).copyMemory(from: src + o * srcStride + at, byteCount: count) }
            }
        }
    }

    /// `x` cut along `axis` into consecutive pieces of `sizes`.
    private static func split(_ x: Value, axis: Int, sizes: [Int], ctx: ExecutionContext) throws -> [Value?] {
        let shapes = sizes.map { size in x.shape.indices.map { $0 == axis ? size : x.shape[$0] } }
        guard x.count > 0 else { return try shapes.map { try ctx.allocate(x.type, $0) } }
        let es = elementSize(x.type)
        let outer = try shapeCount(x.shape[..<axis]), inner = try shapeCount(x.shape[(axis + 1)...])
        let rowBytes = x.shape[axis] * inner * es
        var results: [Value?] = []
        var start = 0
        for (size, shape) in zip(sizes, shapes) {
            let out = try ctx.allocate(x.type, shape)
            let bytes = size * inner * es, src = UnsafeRawPointer(x.buffer.baseAddress) + start, dst = out.buffer.baseAddress
            copyRows(outer, bytes: bytes, from: src, stride: rowBytes, to: dst, stride: bytes, ctx: ctx)
            start += bytes
            results.append(out)
        }
        return results
    }
}
