import FerryIR

extension IndexingOps {
    /// Ops driven by a mask or by index values: Compress, NonZero and OneHot.
    static func registerSelect(into r: inout KernelRegistry) {
        r.register("Compress") { spec in
            let axis = spec.has("axis") ? try spec.int("axis", 0) : nil
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0), condition = try inputs.required(1, "condition")
                guard condition.rank == 1 else {
                    throw KernelError.invalid("condition must be 1-D, got shape \(condition.shape)")
                }
                let data = axis == nil ? x.reshaped([x.count]) : x
                let a = try shapeAxis(axis ?? 0, rank: data.rank)
                let flags = try condition.doubles()
                var selected: [Int] = []
                for (i, f) in flags.enumerated() where f != 0 {
                    guard i < data.shape[a] else {
                        throw KernelError.invalid("condition selects index \(i) of an axis of size \(data.shape[a])")
                    }
                    selected.append(i)
                }
                return [try take(data, axis: a, indices: selected, shape: [selected.count], ctx: ctx)]
            }
        }
        r.register("NonZero") { _ in
            FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                let flags: [Bool]
                switch x.type {
                case .float16, .bfloat16:
                    let p = x.pointer(UInt16.self)
                    flags = (0..<x.count).map { p[$0] & 0x7fff != 0 }
                default:
                    flags = try dispatchNumeric(x.type, IndexingNonZeroFlags(x: x))
                }
                let hits = flags.indices.filter { flags[$0] }
                let out = try ctx.allocate(.int64, [x.rank, hits.count])
                let p = out.pointer(Int64.self), strides = shapeStrides(x.shape)
                for (j, flat) in hits.enumerated() {
                    var rem = flat
                    for d in 0..<x.rank {
                        p[d * hits.count + j] = Int64(rem / strides[d])
                        rem %= strides[d]
                    }
                }
                return [out]
            }
        }
        r.register("OneHot") { spec in
            let axis = try spec.int("axis", -1)
            return FunctionKernel { inputs, ctx in
                let ind = try inputs.required(0, "indices"), depthValue = try inputs.required(1, "depth"),
                    values = try inputs.required(2, "values")
                let depthReal = try shapeScalar(depthValue, "depth")
                guard depthReal >= 0, depthReal < 1e12 else { throw KernelError.invalid("depth \(depthReal) is out of range") }
                let depth = Int(depthReal)
                guard values.count == 2 else {
                    throw KernelError.invalid("values must hold [off, on], got shape \(values.shape)")
                }
                let a = try shapeAxis(axis, rank: ind.rank + 1)
                let out = try ctx.allocate(values.type, Array(ind.shape[..<a]) + [depth] + ind.shape[a...])
                let es = elementSize(values.type), base = out.buffer.baseAddress, v = UnsafeRawPointer(values.buffer.baseAddress)
                shapeFill(base, count: out.count, size: es, element: v)
                let inner = try shapeCount(ind.shape[a...])
                for (p, x) in try ind.doubles().enumerated() {
                    // Indices outside -depth..<depth leave their row all off.
                    guard x.isFinite, x > -Double(depth) - 1, x < Double(depth) else { continue }
                    var k = Int(x)
                    if k < 0 { k += depth }
                    guard k >= 0, k < depth else { continue }
                    let o = ((p / inner) * depth + k) * inner + p % inner
                    (base + o * es).copyMemory(from: v + es, byteCount: es)
                }
                return [out]
            }
        }
    }
}

/// Which elements of a numeric tensor are not zero.
private struct IndexingNonZeroFlags: NumericVisitor {
    let x: Value

    func visit<T: RTNumber>(_: T.Type) throws -> [Bool] {
        let p = x.pointer(T.self)
        return (0..<x.count).map { p[$0] != T.zero }
    }
}
