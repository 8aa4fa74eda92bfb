import FerryIR

/// Tensor helpers the control-flow kernels share: condition scalars and slicing or stacking along
/// an axis (by element size, so any element type).
enum ControlTensors {
    /// A one-element condition (bool or numeric) as a Swift Bool.
    static func truth(_ v: Value, _ what: String) throws -> Bool {
        guard v.count == 1 else { throw KernelError.invalid("\(what) must hold one element, got shape \(v.shape)") }
        return try v.doubles()[0] != 0
    }

    /// A one-element integer tensor as an Int.
    static func integer(_ v: Value, _ what: String) throws -> Int {
        guard v.count == 1 else { throw KernelError.invalid("\(what) must hold one element, got shape \(v.shape)") }
        return try v.ints()[0]
    }

    /// A fresh bool scalar.
    static func bool(_ b: Bool) -> Value {
        Value(type: .bool, shape: [], buffer: [UInt8(b ? 1 : 0)].withUnsafeBytes { TensorBuffer(copying: $0) })
    }

    /// `axis` normalised into 0..<rank (negative counts from the end).
    static func axis(_ a: Int, rank: Int, _ what: String) throws -> Int {
        guard a >= -rank, a < rank else { throw KernelError.invalid("\(what) \(a) is out of range for rank \(rank)") }
        return a < 0 ? a + rank : a
    }

    /// Entry `index` of `v` along `axis`, that axis removed (a new buffer).
    static func slice(_ v: Value, axis: Int, index: Int, _ ctx: ExecutionContext) throws -> Value {
        let n = v.shape[axis]
        guard index >= 0, index < n else {
            throw KernelError.invalid("index \(index) is outside axis \(axis) of shape \(v.shape)")
        }
        var shape = v.shape
        shape.remove(at: axis)
        let out = try ctx.allocate(v.type, shape)
        let outer = v.shape[..<axis].reduce(1, *)
        let inner = v.shape[(axis + 1)...].reduce(1, *) * elementSize(v.type)
        for o in 0..<outer {
            (out.buffer.baseAddress + o * inner).copyMemory(
                from: v.buffer.baseAddress + (o * n + index) * inner, byteCount: inner)
        }
        return out
    }

    /// Stacks `parts` (one type and shape) along a new axis `axis` of length `length` (at least
    /// `parts.count`; the positions past the parts are zero). Part k goes to position k, or to
    /// parts.count - 1 - k when `reversed`. With no parts the result has `fallback`'s type and shape.
    static func stack(
        _ parts: [Value], axis: Int, length: Int, reversed: Bool = false,
        fallback: (type: ElementType, shape: [Int]), _ ctx: ExecutionContext
    ) throws -> Value {
        let type = parts.first?.type ?? fallback.type, part = parts.first?.shape ?? fallback.shape
        for p in parts where p.type != type || p.shape != part {
            throw KernelError.invalid("stacked values differ: \(type.name) \(part) and \(p.type.name) \(p.shape)")
        }
        let a = try self.axis(axis, rank: part.count + 1, "axis")
        var shape = part
        shape.insert(length, at: a)
        let out = length > parts.count ? try ctx.zeros(type, shape) : try ctx.allocate(type, shape)
        let outer = part[..<a].reduce(1, *)
        let inner = part[a...].reduce(1, *) * elementSize(type)
        for (k, p) in parts.enumerated() {
            let position = reversed ? parts.count - 1 - k : k
            for o in 0..<outer {
                (out.buffer.baseAddress + (o * length + position) * inner).copyMemory(
                    from: p.buffer.baseAddress + o * inner, byteCount: inner)
            }
        }
        return out
    }
}
