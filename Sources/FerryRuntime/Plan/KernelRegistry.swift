import FerryIR

/// Makes a kernel for one node.
typealias KernelBuilder = (NodeSpec) throws -> Kernel

/// The ops the interpreter runs: builders keyed by (domain, op type), each valid from an opset
/// version on. Op families add themselves with `register(into:)`.
struct KernelRegistry {
    private var table: [String: [(since: Int, build: KernelBuilder)]] = [:]

    /// Adds a builder for `op` in `domain` from opset `since` on.
    mutating func register(_ op: String, domain: String = "", since: Int = 1, _ build: @escaping KernelBuilder) {
        let key = KernelRegistry.key(domain, op)
        table[key, default: []].append((since, build))
        table[key]!.sort { $0.since < $1.since }
    }

    /// Adds one builder for several ops.
    mutating func register(_ ops: [String], domain: String = "", since: Int = 1, _ build: @escaping KernelBuilder) {
        for op in ops { register(op, domain: domain, since: since, build) }
    }

    /// The builder for `op` at `opset`, if any version registered applies.
    func builder(domain: String, op: String, opset: Int) -> KernelBuilder? {
        table[KernelRegistry.key(domain, op)]?.last { $0.since <= opset }?.build
    }

    /// Every registered (domain, op), for listing what the interpreter supports.
    var ops: [String] { table.keys.sorted() }

    private static func key(_ domain: String, _ op: String) -> String {
        Domain.canonical(domain) + "::" + op
    }
}
