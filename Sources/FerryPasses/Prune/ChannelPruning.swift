import FerryIR
import FerryRewrite

/// Structured pruning: removes whole output channels (Conv filters, Gemm/MatMul units) chosen by
/// L1 norm, and cuts everything a `ChannelPlan` ties to them.
enum ChannelPruning {
    /// The channels each unblocked space keeps (by root), when it loses any: the sparsity's share
    /// of its channels (at least one channel stays) with the smallest L1 norm summed over the
    /// space's producers; among equal norms the lower channel index goes first.
    static func keptChannels(_ graph: Graph, _ plan: ChannelPlan, sparsity: Double) -> [Int: [Int]] {
        let options = PruneOptions(sparsity: sparsity)
        var kept: [Int: [Int]] = [:]
        let index = GraphIndex(graph)
        for root in plan.spaces.roots where plan.spaces.blocked[root].isEmpty {
            let count = plan.spaces.channels[root]
            let removed = min(count - 1, options.removedCount(of: count))
            guard removed > 0 else { continue }
            var norms = [Double](repeating: 0, count: count)
            for p in plan.spaces.producers[root] {
                let w = graph.initializers[index.initializer[graph.nodes[p].inputs[1]]!]
                for (c, v) in l1Norms(w, axis: plan.producerWeightAxis[p]!).enumerated() { norms[c] += v }
            }
            let order = norms.indices.sorted { (norms[$0], $0) < (norms[$1], $1) }
            kept[root] = order.dropFirst(removed).sorted()
        }
        return kept
    }

    /// Sum of |w| over all axes but `axis`, per index along `axis`.
    static func l1Norms(_ t: Tensor, axis: Int) -> [Double] {
        let values = t.floatValues ?? []
        let n = t.shape[axis], inner = t.shape[(axis + 1)...].reduce(1, *)
        var norms = [Double](repeating: 0, count: n)
        for (i, v) in values.enumerated() { norms[(i / inner) % n] += Double(abs(v)) }
        return norms
    }

    /// Applies the plan with `kept`: cuts weights, biases and per-channel constants, edits Reshape
    /// targets and depthwise groups, and drops declared types of values whose channels changed.
    /// A constant read elsewhere too is copied under a fresh name rather than changed in place.
    static func rewrite(_ model: inout Model, _ plan: ChannelPlan, kept: [Int: [Int]]) {
        var names = NameAllocator(model)
        var graph = model.graph
        let index = GraphIndex(graph)
        let keptOf: (Int) -> [Int]? = { kept[plan.spaces.root($0)] }
        var bySlot: [[Int]: [ChannelEdit]] = [:]
        for e in plan.edits { bySlot[[e.node, e.slot], default: []].append(e) }
        for key in bySlot.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let (node, slot) = (key[0], key[1])
            let name = graph.nodes[node].inputs[slot]
            let position = index.initializer[name]!
            var t = graph.initializers[position]
            for e in bySlot[key]! {
                switch e.kind {
                case .keep(let axis, let layout):
                    let positions = layout.keptPositions(keptOf)
                    if positions.count != t.shape[axis] { t = gather(t, axis: axis, keep: positions) }
                case .shapeEntry(let entry, let layout):
                    var values = t.bytes!.toArray(of: Int64.self)
                    values[entry] = Int64(layout.keptPositions(keptOf).count)
                    t = Tensor(name: t.name, elementType: .int64, shape: t.shape, values: values)
                }
            }
            guard t != graph.initializers[position] else { continue }
            if index.readers(of: name).count == 1 && !index.graphOutputs.contains(name) {
                graph.initializers[position] = t
            } else {
                t.name = names.fresh(name + "_pruned")
                graph.initializers.append(t)
                graph.nodes[node].inputs[slot] = t.name
            }
        }
        for (node, layout) in plan.groupEdits {
            let group = layout.keptPositions(keptOf).count
            graph.nodes[node].attributes.removeAll { $0.name == "group" }
            graph.nodes[node].attributes.append(Attribute("group", .int(Int64(group))))
        }
        let changed = Set(plan.layouts.filter { $0.value.keptPositions(keptOf).count != $0.value.length }.keys)
        graph.valueInfo.removeAll { changed.contains($0.name) }
        model.graph = graph
    }

    /// `t` with only the given indices along `axis`, in that order.
    static func gather(_ t: Tensor, axis: Int, keep: [Int]) -> Tensor {
        let outer = t.shape[..<axis].reduce(1, *), inner = t.shape[(axis + 1)...].reduce(1, *), n = t.shape[axis]
        let size = t.elementType.bitWidth / 8
        var shape = t.shape
        shape[axis] = keep.count
        let block = inner * size
        let bytes = t.bytes!.withUnsafeBytes { src in
            TensorBytes(count: outer * keep.count * block) { dst in
                var o = 0
                for a in 0..<outer {
                    for k in keep {
                        (dst.baseAddress! + o).copyMemory(from: src.baseAddress! + (a * n + k) * block, byteCount: block)
                        o += block
                    }
                }
            }
        }
        return Tensor(name: t.name, elementType: t.elementType, shape: shape, storage: .bytes(bytes))
    }
}
