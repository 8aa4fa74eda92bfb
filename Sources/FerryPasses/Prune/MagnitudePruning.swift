import FerryIR

/// Unstructured pruning: the weights of smallest magnitude become exactly zero.
enum MagnitudePruning {
    /// Zeroes, in each prunable weight (layer scope) or over all of them together (global scope),
    /// exactly `options.removedCount` of the weights with the smallest magnitudes. Among equal
    /// magnitudes the earlier weight (tensor order, then element order) goes first; NaNs are never
    /// chosen before numbers. Returns the initializer indices changed.
    static func apply(_ graph: inout Graph, uses: [WeightUse], options: PruneOptions) -> [Int] {
        let targets = uses.filter { $0.skipReason == nil }.map(\.initializer)
        let groups: [[Int]] = options.scope == .global ? [targets] : targets.map { [$0] }
        for group in groups {
            var values = group.map { graph.initializers[$0].floatValues ?? [] }
            let total = values.reduce(0) { $0 + $1.count }
            zeroSmallest(&values, count: options.removedCount(of: total))
            for (i, v) in zip(group, values) {
                let t = graph.initializers[i]
                graph.initializers[i] = Tensor(name: t.name, floats: v, shape: t.shape)
            }
        }
        return targets
    }

    /// Sets the `count` smallest-magnitude elements of `tensors` (taken as one sequence) to zero.
    static func zeroSmallest(_ tensors: inout [[Float]], count: Int) {
        guard count > 0 else { return }
        func magnitude(_ x: Float) -> Float { x.isNaN ? .infinity : abs(x) }
        var all = tensors.flatMap { $0.map(magnitude) }
        all.sort()
        let threshold = all[count - 1]
        var ties = count - all.prefix(count).filter { $0 < threshold }.count
        for t in tensors.indices {
            for i in tensors[t].indices {
                let m = magnitude(tensors[t][i])
                if m < threshold {
                    tensors[t][i] = 0
                } else if m == threshold && ties > 0 {
                    tensors[t][i] = 0
                    ties -= 1
                }
            }
        }
    }
}
