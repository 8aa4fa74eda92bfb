import FerryIR

/// Gather/scatter-style ops: Gather, GatherElements, GatherND, ScatterElements (and the older
/// Scatter), ScatterND, Compress, NonZero and OneHot. Index inputs are int32 or int64; negative
/// indices count from the end and indices out of range are errors.
enum IndexingOps {
    static func register(into r: inout KernelRegistry) {
        registerGather(into: &r)
        registerScatter(into: &r)
        registerSelect(into: &r)
    }

    /// The elements of index tensor `v`, negative ones counted back from `bound`; an index outside
    /// `-bound..<bound` is an error.
    static func indices(_ v: Value, bound: Int) throws -> [Int] {
        guard v.type == .int64 || v.type == .int32 else {
            throw KernelError.invalid("indices must be int64 or int32, got \(v.type.name)")
        }
        var result = try v.ints()
        for i in result.indices {
            let k = result[i]
            guard k >= -bound, k < bound else {
                throw KernelError.invalid("index \(k) is out of range for a dimension of size \(bound)")
            }
            if k < 0 { result[i] = k + bound }
        }
        return result
    }
}
