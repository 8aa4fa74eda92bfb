extension Graph {
    /// Node indices in an order where every node comes after the nodes it reads from (including
    /// values its subgraphs read from this graph). Among valid orders it picks the one closest to
    /// the stored order, so an already sorted graph keeps its order. Throws `IRError.cycle`.
    public func topologicalOrder() throws -> [Int] {
        var producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            for out in n.outputs where !out.isEmpty { producer[out] = i }
        }
        var dependents = [[Int]](repeating: [], count: nodes.count)
        var pending = [Int](repeating: 0, count: nodes.count)
        for (i, n) in nodes.enumerated() {
            var sources = Set<Int>()
            for name in n.inputs + n.subgraphs.flatMap({ $0.outerScopeReads() }) {
                if let p = producer[name] { sources.insert(p) }
            }
            for s in sources.sorted() {
                dependents[s].append(i)
                pending[i] += 1
            }
        }
        var ready = MinHeap(nodes.indices.filter { pending[$0] == 0 })
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.pop() {
            order.append(i)
            for d in dependents[i] {
                pending[d] -= 1
                if pending[d] == 0 { ready.push(d) }
            }
        }
        if order.count != nodes.count {
            let cycle = findCycle(stuck: Set(nodes.indices.filter { pending[$0] > 0 }), producer: producer)
            throw IRError.cycle(nodes: cycle.map { nodes[$0].label(index: $0) }, graph: name.isEmpty ? "(unnamed)" : name)
        }
        return order
    }

    /// Among nodes left unsorted (each waits on another unsorted node), walks back along inputs
    /// until a node repeats, and returns the nodes of that cycle in graph order.
    private func findCycle(stuck: Set<Int>, producer: [String: Int]) -> [Int] {
        var path: [Int] = []
        var position: [Int: Int] = [:]
        var current = stuck.min()!
        while position[current] == nil {
            position[current] = path.count
            path.append(current)
            let reads = nodes[current].inputs + nodes[current].subgraphs.flatMap { $0.outerScopeReads() }
            current = reads.compactMap { producer[$0] }.first { stuck.contains($0) }!
        }
        return path[position[current]!...].sorted()
    }

    /// Names this graph (or graphs nested in it) reads but does not define: values it captures
    /// from enclosing graphs.
    public func outerScopeReads() -> [String] {
        let own = ModelValidator.definedNames(of: self)
        var reads: [String] = []
        var seen = Set<String>()
        for n in nodes {
            for name in n.inputs + n.subgraphs.flatMap({ $0.outerScopeReads() })
            where !name.isEmpty && !own.contains(name) && seen.insert(name).inserted {
                reads.append(name)
            }
        }
        for out in outputs where !own.contains(out.name) && seen.insert(out.name).inserted {
            reads.append(out.name)
        }
        return reads
    }
}

/// A binary min-heap of Ints.
struct MinHeap {
    private var items: [Int]

    init(_ values: [Int]) {
        items = values.sorted()
    }

    mutating func push(_ v: Int) {
        items.append(v)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[parent] > items[i] else { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l] < items[m] { m = l }
                if r < items.count && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
