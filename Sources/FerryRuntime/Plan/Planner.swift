import FerryIR
import FerryRewrite

/// Turns graphs into programs: computes every node whose inputs are all known at plan time,
/// applies the fusions the kernels implement, picks a kernel per remaining node from the registry,
/// and numbers values so each is dropped after its last reader.
struct Planner: SubgraphCompiler {
    /// Opset version per domain ("" is ONNX's default domain).
    let opsets: [String: Int]
    let registry: KernelRegistry
    let threads: Int

    /// A graph passed as its last use gives up its initializers here (sparse ones once densified):
    /// from then on `known` holds the only reference to each, dropped once the kernels reading it
    /// have packed their copies.
    func compile(_ graph: consuming Graph, outerNames: [String], outerTypes: [String: ElementType] = [:]) throws
        -> GraphProgram
    {
        let types = ElementTypeInference.infer(graph, outer: outerTypes)
        let constantPool = BufferPool(reusesBlocks: false)
        let ctx = ExecutionContext(pool: constantPool, threads: threads)
        var problems = PlanProblems()
        var known: [String: Value] = [:]
        for t in graph.initializers {
            do { known[t.name] = try Value(t) } catch let e as KernelError { problems.add("initializer '\(t.name)'", e.reason) }
        }
        for s in graph.sparseInitializers {
            do { known[s.name] = try densify(s) } catch let e as KernelError {
                problems.add("sparse initializer '\(s.name)'", e.reason)
            }
        }
        let inputs = graph.runtimeInputs
        for i in inputs { known[i.name] = nil }
        graph.initializers = []
        graph.sparseInitializers = []
        var available = Set(inputs.map(\.name)).union(outerNames).union(known.keys)
        // Inputs whose declared shape is fully fixed: Shape nodes reading them fold at plan time.
        let fixedShapes = Foldability.fixedShapes(of: inputs)

        // Plan-time evaluation of nodes whose inputs are all known. DequantizeLinear of constants
        // (quantized weights) waits: QDQ fusion uses the quantized values, so the float ones are
        // computed only for the readers left after it.
        var remaining: [Node] = []
        var deferred: [String: (node: Node, label: String)] = [:]
        func fold(_ node: Node, _ label: String) throws {
            for name in node.inputs + node.subgraphs.flatMap({ $0.outerScopeReads() }) { try materialize(name) }
            do {
                let kernel = try makeKernel(
                    node, label: label, constants: node.inputs.map { known[$0] }, implicit: [], types: types)
                let results = try kernel.run(node.inputs.map { $0.isEmpty ? nil : known[$0] }, ctx)
                for (k, out) in node.outputs.enumerated() where !out.isEmpty {
                    guard k < results.count, let r = results[k] else { throw KernelError.invalid("output \(k) was not produced") }
                    known[out] = r
                }
            } catch let e as PlanProblem {
                problems.add(e.subject, e.reason)
            } catch let e as KernelError {
                problems.add("node \(label)", e.reason)
            }
        }
        func materialize(_ name: String) throws {
            guard known[name] == nil, let d = deferred.removeValue(forKey: name) else { return }
            try fold(d.node, d.label)
        }
        for index in try graph.topologicalOrder() {
            let node = graph.nodes[index]
            let label = node.label(index: index)
            var ready = true
            for name in node.inputs where !name.isEmpty && !available.contains(name) {
                problems.add("node \(label)", "input '\(name)' is not computed by any node")
                ready = false
            }
            for out in node.outputs where !out.isEmpty { available.insert(out) }
            guard ready else { continue }
            if let input = node.inputs.first, let fixed = fixedShapes[input], let dims = Foldability.shape(node, of: fixed.shape)
            {
                known[node.outputs[0]] = Value.int64(dims)
                continue
            }
            let foldable =
                Foldability.isDeterministic(node)
                && node.inputs.allSatisfy { $0.isEmpty || known[$0] != nil || deferred[$0] != nil }
            guard foldable else {
                remaining.append(node)
                continue
            }
            if node.opType == "DequantizeLinear", node.domain.isEmpty, node.outputs.count == 1, !node.outputs[0].isEmpty {
                deferred[node.outputs[0]] = (node, label)
            } else {
                try fold(node, label)
            }
        }
        guard problems.isEmpty else { throw RuntimeError.unsupported(problems.lines) }

        let outputNames = Set(graph.outputs.map(\.name))
        // Spelled-out hard swish becomes one node first, so a quantized conv before it can take it
        // into its output pass too.
        let opset = Int64(opsets[Domain.onnx] ?? 1)
        remaining = ActivationPatterns.rewrite(remaining, constants: Fusion.constants(known), keeping: outputNames)
        remaining = QDQFusion.apply(
            remaining, constants: known, folded: deferred.mapValues(\.node), opset: opset, keep: outputNames)
        remaining = fuseLookupTables(remaining, known: &known, keep: outputNames, ctx: ctx)
        for name in remaining.flatMap({ $0.inputs + $0.subgraphs.flatMap { $0.outerScopeReads() } }) + graph.outputs.map(\.name) {
            try materialize(name)
        }
        guard problems.isEmpty else { throw RuntimeError.unsupported(problems.lines) }
        remaining = Fusion.apply(remaining, known: &known, opset: opset, keep: outputNames)

        // Kernels for the nodes left to run.
        var slotOf: [String: Int] = [:]
        func slot(_ name: String) -> Int {
            if let s = slotOf[name] { return s }
            slotOf[name] = slotOf.count
            return slotOf.count - 1
        }
        let inputSlots = inputs.map { slot($0.name) }
        let outerSlots = outerNames.map { slot($0) }
        var built: [(kernel: Kernel, inputs: [Int], outputs: [Int], node: String, op: String)] = []
        var pendingReaders: [String: Int] = [:]
        for node in remaining {
            for name in node.inputs + node.subgraphs.flatMap({ $0.outerScopeReads() }) { pendingReaders[name, default: 0] += 1 }
        }
        for (index, node) in remaining.enumerated() {
            let label = node.label(index: index), step = node.name.isEmpty ? "#\(index)" : node.name
            var seen = Set(node.inputs)
            let implicit = node.subgraphs.flatMap { $0.outerScopeReads() }.filter { seen.insert($0).inserted }
            let names = node.inputs + implicit
            do {
                let kernel = try makeKernel(
                    node, label: label, constants: names.map { known[$0] }, implicit: implicit, types: types)
                let packed = kernel.prepackedInputs
                let inputSlots = names.enumerated().map { i, name in
                    name.isEmpty || (packed.contains(i) && known[name] != nil) ? -1 : slot(name)
                }
                built.append((kernel, inputSlots, node.outputs.map { $0.isEmpty ? -1 : slot($0) }, step, node.opType))
                // A constant every reader has packed into its own form is released as soon as the
                // last of them is planned.
                for name in names { pendingReaders[name, default: 1] -= 1 }
                for i in packed where i < names.count {
                    let name = names[i]
                    if pendingReaders[name] == 0 && slotOf[name] == nil && !outputNames.contains(name) { known[name] = nil }
                }
            } catch let e as PlanProblem {
                problems.add(e.subject, e.reason)
            } catch let e as KernelError {
                problems.add("node \(label)", e.reason)
            } catch let e as RuntimeError {
                problems.add("node \(label)", "subgraph: \(e)")
            }
        }
        guard problems.isEmpty else { throw RuntimeError.unsupported(problems.lines) }
        for o in graph.outputs where !available.contains(o.name) {
            throw RuntimeError.invalidModel(reason: "graph output '\(o.name)' is not computed by any node")
        }
        let outputSlots = graph.outputs.map { slot($0.name) }

        // Liveness: each slot is dropped after its last reader, unless it is a graph output.
        var lastUse: [Int: Int] = [:]
        for (i, b) in built.enumerated() {
            for s in b.inputs where s >= 0 { lastUse[s] = i }
            for s in b.outputs where s >= 0 && lastUse[s] == nil { lastUse[s] = i }
        }
        let pinned = Set(outputSlots)
        var releaseAt = [[Int]](repeating: [], count: built.count)
        for (s, i) in lastUse where !pinned.contains(s) { releaseAt[i].append(s) }
        let steps = built.enumerated().map { i, b in
            GraphProgram.Step(
                kernel: b.kernel, inputs: b.inputs, outputs: b.outputs, release: releaseAt[i].sorted(), node: b.node, op: b.op)
        }
        let constants = slotOf.compactMap { name, s in known[name].map { (slot: s, value: $0) } }
        return GraphProgram(
            slotCount: slotOf.count, steps: steps, constants: constants, inputSlots: inputSlots, inputs: inputs,
            outerSlots: outerSlots, outputSlots: outputSlots, outputs: graph.outputs,
            outputTypes: graph.outputs.map { types[$0.name] }, constantPool: constantPool)
    }

    /// The kernel the registry builds for `node` at the graph's opset, with the inputs known at
    /// plan time and the element types known in the graph; a node no builder takes is a plan
    /// problem. `label` names the node in messages (`Node.label`).
    func makeKernel(_ node: Node, label: String, constants: [Value?], implicit: [String], types: [String: ElementType] = [:])
        throws -> Kernel
    {
        let domain = Domain.canonical(node.domain)
        let opset = opsets[domain] ?? 1
        guard let build = registry.builder(domain: domain, op: node.opType, opset: opset) else {
            throw PlanProblem(subject: "node \(label)", reason: "op \(node.qualifiedOpType) (opset \(opset)) is not supported")
        }
        let spec = NodeSpec(
            node: node, opset: opset, constants: constants, subgraphCompiler: self, implicitInputs: implicit,
            valueTypes: node.subgraphs.isEmpty ? [:] : types)
        return try build(spec)
    }

    /// A sparse initializer as a dense value (values scattered into zeros).
    private func densify(_ s: SparseTensor) throws -> Value {
        let values = try Value(s.values)
        let indices = try Value(s.indices).ints()
        guard let total = Tensor.elementCount(of: s.shape) else { throw KernelError.invalid("invalid shape \(s.shape)") }
        let size = elementSize(values.type)
        let out = Value(type: values.type, shape: s.shape, buffer: TensorBuffer(zeroed: total * size))
        let nnz = values.count
        let rank = s.shape.count
        for i in 0..<nnz {
            var flat = 0
            if indices.count == nnz {
                flat = indices[i]
            } else if indices.count == nnz * rank {
                for d in 0..<rank { flat = flat * s.shape[d] + indices[i * rank + d] }
            } else {
                throw KernelError.invalid("indices do not match the \(nnz) values")
            }
            guard flat >= 0, flat < total else { throw KernelError.invalid("index \(flat) is outside the \(total) elements") }
            (out.buffer.baseAddress + flat * size).copyMemory(from: values.buffer.baseAddress + i * size, byteCount: size)
        }
        return out
    }
}

/// A planning problem: what is at fault (a node, an initializer) and why.
struct PlanProblem: Error {
    let subject: String
    let reason: String
}

/// Problems found while planning, reported together: nodes failing for the same reason are listed
/// once with that reason.
struct PlanProblems {
    private var order: [String] = []
    private var subjects: [String: [String]] = [:]

    var isEmpty: Bool { order.isEmpty }

    mutating func add(_ subject: String, _ reason: String) {
        if subjects[reason] == nil { order.append(reason) }
        subjects[reason, default: []].append(subject)
    }

    /// One line per distinct reason, naming up to three of the nodes it applies to.
    var lines: [String] {
        order.map { reason in
            let s = subjects[reason]!
            if s.count == 1 { return "\(s[0]): \(reason)" }
            let named = s.prefix(3).joined(separator: ", ") + (s.count > 3 ? " and \(s.count - 3) more" : "")
            return "\(reason) (\(s.count) nodes: \(named))"
        }
    }
}
