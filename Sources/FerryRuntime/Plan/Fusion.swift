import FerryIR

/// Rewrites the planner applies before choosing kernels (fusions the kernels implement).
enum Fusion {
    /// Returns `nodes` rewritten; `constants` gains the tensors new nodes read; values named in
    /// `keep` (graph outputs) are never fused away.
    static func apply(_ nodes: [Node], constants: inout [String: Value], keep: Set<String>) -> [Node] {
        nodes
    }
}
