import FerryIR

/// Compiles subgraphs (If branches, Loop bodies) with the settings of the enclosing model.
protocol SubgraphCompiler {
    /// A program for `graph`, which may read `outerNames` from the enclosing graphs; `outerTypes`
    /// holds the element types known for the enclosing graphs' values.
    func compile(_ graph: consuming Graph, outerNames: [String], outerTypes: [String: ElementType]) throws -> GraphProgram
}

/// A graph made ready to run: kernels in execution order over numbered value slots, constants
/// computed, and for every step the slots whose last reader it is (freed right after it runs).
final class GraphProgram {
    struct Step {
        let kernel: Kernel
        let inputs: [Int]
        let outputs: [Int]
        /// Slots to drop after this step (their last reader).
        let release: [Int]
        let node: String
        let op: String
    }

    let slotCount: Int
    let steps: [Step]
    let constants: [(slot: Int, value: Value)]
    let inputSlots: [Int]
    let inputs: [ValueInfo]
    let outerSlots: [Int]
    let outputSlots: [Int]
    let outputs: [ValueInfo]
    /// Each output's element type: declared, or inferred from the graph (nil when unknown).
    let outputTypes: [ElementType?]
    /// The pool that holds constants computed at plan time.
    let constantPool: BufferPool

    init(
        slotCount: Int, steps: [Step], constants: [(slot: Int, value: Value)], inputSlots: [Int], inputs: [ValueInfo],
        outerSlots: [Int], outputSlots: [Int], outputs: [ValueInfo], outputTypes: [ElementType?], constantPool: BufferPool
    ) {
        self.slotCount = slotCount
        self.steps = steps
        self.constants = constants
        self.inputSlots = inputSlots
        self.inputs = inputs
        self.outerSlots = outerSlots
        self.outputSlots = outputSlots
        self.outputs = outputs
        self.outputTypes = outputTypes
        self.constantPool = constantPool
    }

    /// Runs the program on `inputs` (in `inputs` order) with `outer` values (in `outerNames` order).
    func execute(inputs feeds: [Value], outer: [Value], ctx: ExecutionContext, profiler: Profiler? = nil) throws -> [Value] {
        var slots = [Value?](repeating: nil, count: slotCount)
        for (slot, value) in constants { slots[slot] = value }
        for (i, slot) in inputSlots.enumerated() { slots[slot] = feeds[i] }
        for (i, slot) in outerSlots.enumerated() { slots[slot] = outer[i] }
        for step in steps {
            let args = step.inputs.map { $0 >= 0 ? slots[$0] : nil }
            let start = profiler == nil ? 0 : monotonicNanos()
            let results: [Value?]
            do {
                try ctx.checkDeadline()
                results = try step.kernel.run(args, ctx)
            } catch let e as KernelError {
                throw RuntimeError.nodeFailed(node: step.node, op: step.op, reason: e.reason)
            } catch RuntimeError.nodeFailed(let inner, let innerOp, let reason) {
                // A subgraph's node failed: name the node running the subgraph first.
                throw RuntimeError.nodeFailed(
                    node: step.node, op: step.op, reason: "in its subgraph, node '\(inner)' (\(innerOp)): \(reason)")
            }
            if let profiler { profiler.record(node: step.node, op: step.op, nanos: monotonicNanos() - start) }
            for (k, slot) in step.outputs.enumerated() where slot >= 0 {
                guard k < results.count, let r = results[k] else {
                    throw RuntimeError.nodeFailed(node: step.node, op: step.op, reason: "output \(k) was not produced")
                }
                slots[slot] = r
            }
            for slot in step.release { slots[slot] = nil }
        }
        return try outputSlots.enumerated().map { i, slot in
            guard let v = slots[slot] else {
                throw RuntimeError.invalidModel(reason: "output '\(outputs[i].name)' was not computed")
            }
            return v
        }
    }
}
