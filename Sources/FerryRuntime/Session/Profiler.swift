import FerryIR

/// Time spent per node and per op type over the runs it watched. It records one run at a time:
/// runs made at the same time each need their own profiler.
public final class Profiler {
    /// Total time of one node over the profiled runs.
    public struct NodeTime {
        public let node: String
        public let op: String
        public var nanos: UInt64
        public var calls: Int
    }

    private var index: [String: Int] = [:]
    public private(set) var nodes: [NodeTime] = []

    public init() {}

    func record(node: String, op: String, nanos: UInt64) {
        let key = op + "\u{0}" + node
        if let i = index[key] {
            nodes[i].nanos += nanos
            nodes[i].calls += 1
        } else {
            index[key] = nodes.count
            nodes.append(NodeTime(node: node, op: op, nanos: nanos, calls: 1))
        }
    }

    /// Total nanoseconds and node count per op type, slowest first.
    public var byOpType: [(op: String, nanos: UInt64, nodes: Int)] {
        var totals: [String: (UInt64, Int)] = [:]
        for n in nodes {
            totals[n.op, default: (0, 0)].0 += n.nanos
            totals[n.op, default: (0, 0)].1 += 1
        }
        return totals.map { (op: $0.key, nanos: $0.value.0, nodes: $0.value.1) }.sorted { $0.nanos > $1.nanos }
    }
}
