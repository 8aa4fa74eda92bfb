import FerryIR

/// Model surgery (`ferry edit`): cut out a subgraph, rename values, expose intermediates, change
/// the batch size or any input axis, strip documentation. Declared shapes of intermediate values
/// are dropped afterwards (they may no longer hold); readers infer them again.
public struct ModelEdit: Sendable {
    /// The batch size to set on every input's first axis: a size, or symbolic (`N`).
    public enum Batch: Sendable, Equatable {
        case fixed(Int)
        case dynamic
    }

    /// `extract`: the subgraph computing these outputs from these inputs, with the initializers it reads.
    public var extract: (inputs: [String], outputs: [String])?
    /// Value renames, old -> new (inputs, outputs and intermediate values alike).
    public var renames: [(old: String, new: String)] = []
    public var batch: Batch?
    /// Input axes to set: input name, axis, and a size or a symbol.
    public var dims: [(input: String, axis: Int, dim: Dim)] = []
    /// Intermediate values to make graph outputs.
    public var addOutputs: [String] = []
    public var stripDocs = false
    /// Another model to append, and which of this model's outputs feed which of its inputs.
    public var merge: (other: Model, connect: [(output: String, input: String)])?
    /// The default-domain opset to convert the model to (`OpsetConversion`).
    public var opset: Int64?

    public init() {}

    /// What the edit did, one line per change worth telling (Reshape shapes changed with the batch,
    /// those that could not be).
    public struct Report: Sendable {
        public var notes: [String] = []
    }

    /// Applies the edits in the order listed above (--opset after --merge). Throws `PassError.invalidOption` naming the
    /// option and the value at fault.
    public func apply(to model: inout Model) throws -> Report {
        var report = Report()
        if let extract { try Self.extract(&model, inputs: extract.inputs, outputs: extract.outputs) }
        for (old, new) in renames { try Self.rename(&model.graph, old, new) }
        if let batch { report.notes += try Self.setBatch(&model, batch) }
        for d in dims { try Self.setDim(&model.graph, input: d.input, axis: d.axis, d.dim) }
        if !addOutputs.isEmpty {
            // typed as the model computes them (element type and shape, symbolic sizes kept)
            let inferred = Dictionary(
                try SymbolicShapes.infer(model).values.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for name in addOutputs where !model.graph.outputs.contains(where: { $0.name == name }) {
                guard let v = inferred[name], v.producer != nil else {
                    throw PassError.invalidOption(option: "add-output", reason: "'\(name)' is not a value the graph computes")
                }
                model.graph.outputs.append(ValueInfo(name: name, type: TypeInfo(.tensor(v.elementType, shape: v.dims))))
            }
        }
        if let merge { report.notes += try Self.merge(&model, merge.other, connect: merge.connect) }
        if let opset { report.notes += try Self.convert(&model, to: opset) }
        if stripDocs { Self.stripDocs(&model) }
        // intermediate shapes may be stale now; the outputs keep their element types only when their axes may have changed
        model.graph.valueInfo = []
        return report
    }

    // MARK: the edits

    static func rename(_ g: inout Graph, _ old: String, _ new: String) throws {
        let names = Set(g.inputs.map(\.name) + g.initializers.map(\.name) + g.nodes.flatMap(\.outputs))
        let exists = { (name: String) in names.contains(name) }
        guard exists(old) else { throw PassError.invalidOption(option: "rename", reason: "'\(old)' names no value of the graph") }
        guard !new.isEmpty, !exists(new) else {
            throw PassError.invalidOption(option: "rename", reason: "'\(new)' is empty or names a value already")
        }
        guard !g.capturedValues.contains(old) else {
            throw PassError.invalidOption(option: "rename", reason: "'\(old)' is read inside a subgraph")
        }
        g.replaceReads(of: old, with: new)
        for i in g.nodes.indices { g.nodes[i].outputs = g.nodes[i].outputs.map { $0 == old ? new : $0 } }
        for i in g.inputs.indices where g.inputs[i].name == old { g.inputs[i].name = new }
        for i in g.outputs.indices where g.outputs[i].name == old { g.outputs[i].name = new }
        for i in g.initializers.indices where g.initializers[i].name == old { g.initializers[i].name = new }
    }

    static func setDim(_ g: inout Graph, input: String, axis: Int, _ dim: Dim) throws {
        guard let i = g.inputs.firstIndex(where: { $0.name == input }), g.runtimeInputs.contains(where: { $0.name == input })
        else {
            throw PassError.invalidOption(option: "set-dim", reason: "'\(input)' is not an input of the model")
        }
        guard case .tensor(let type, var dims?)? = g.inputs[i].type?.type, axis >= 0, axis < dims.count else {
            throw PassError.invalidOption(option: "set-dim", reason: "input '\(input)' has no axis \(axis)")
        }
        dims[axis] = dim
        g.inputs[i].type = TypeInfo(.tensor(type, shape: dims))
    }

    /// Sets every input's first axis; a Reshape whose constant shape starts with the old batch size
    /// (and whose input's first axis is that batch) copies its first axis from the input instead
    /// (0); any other Reshape starting with it is left as it is and named in the report.
    static func setBatch(_ model: inout Model, _ batch: Batch) throws -> [String] {
        let old = model.graph.runtimeInputs.compactMap { info -> Int? in
            if case .tensor(_, let dims?)? = info.type?.type { return dims.first?.fixedSize }
            return nil
        }.first
        let probed = old.map { _ in try? ValueShapes.probe(model) } ?? nil
        for info in model.graph.runtimeInputs {
            guard case .tensor(_, let dims?)? = info.type?.type, !dims.isEmpty else { continue }
            try setDim(
                &model.graph, input: info.name, axis: 0, batch == .dynamic ? .symbol("N") : .fixed(Int64(batchSize(batch))))
        }
        // outputs declared with the old batch: their first axis follows
        for i in model.graph.outputs.indices {
            guard case .tensor(let type, var dims?)? = model.graph.outputs[i].type?.type, let first = dims.first,
                first.fixedSize == old
            else { continue }
            dims[0] = batch == .dynamic ? .symbol("N") : .fixed(Int64(batchSize(batch)))
            model.graph.outputs[i].type = TypeInfo(.tensor(type, shape: dims))
        }
        guard let old else { return [] }
        var notes: [String] = []
        let constants = model.constantInitializers
        for (k, n) in model.graph.nodes.enumerated() where n.isONNX("Reshape") && n.inputs.count == 2 {
            guard let shape = constants[n.inputs[1]], shape.elementType == .int64,
                var values = shape.bytes?.toArray(of: Int64.self),
                values.first == Int64(old), (n.int("allowzero") ?? 0) == 0
            else { continue }
            guard let inputShape = probed?[n.inputs[0]], inputShape.first == old else {
                notes.append(
                    "Reshape '\(n.name)': its shape \(values) starts with the old batch size, but its input's first axis is not the batch; left as it is"
                )
                continue
            }
            let before = values
            values[0] = 0 // copy the first axis from the input
            let name = n.inputs[1] + "_batch"
            model.addInitializer(Tensor(name: name, elementType: .int64, shape: shape.shape, values: values))
            model.graph.nodes[k].inputs[1] = name
            notes.append("Reshape '\(n.name)': shape \(before) -> \(values) (0 copies the batch from its input)")
        }
        return notes
    }

    private static func batchSize(_ b: Batch) -> Int {
        if case .fixed(let n) = b { return n }
        return 1
    }

    static func extract(_ model: inout Model, inputs: [String], outputs: [String]) throws {
        let g = model.graph
        let producer = Dictionary(
            g.nodes.enumerated().flatMap { i, n in n.outputs.map { ($0, i) } }, uniquingKeysWith: { a, _ in a })
        let initializers = Set(g.initializers.map(\.name)), graphInputs = Set(g.runtimeInputs.map(\.name))
        for name in inputs + outputs where producer[name] == nil && !graphInputs.contains(name) {
            throw PassError.invalidOption(option: "extract", reason: "'\(name)' is not a value of the graph")
        }
        // walk back from the outputs to the given inputs
        var keep = Set<Int>(), needed = Set<String>(), stack = outputs
        let stops = Set(inputs)
        while let v = stack.popLast() {
            if stops.contains(v) || initializers.contains(v) || v.isEmpty {
                needed.insert(v)
                continue
            }
            guard let p = producer[v] else {
                throw PassError.invalidOption(
                    option: "extract", reason: "'\(v)' is needed but is a graph input not in the list of inputs")
            }
            if keep.insert(p).inserted { stack += g.nodes[p].inputs + g.nodes[p].subgraphs.flatMap { $0.outerScopeReads() } }
        }
        let listing = try SymbolicShapes.infer(model)
        let types = Dictionary(listing.values.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func info(_ name: String) -> ValueInfo {
            if let v = types[name] { return ValueInfo(name: name, type: TypeInfo(.tensor(v.elementType, shape: v.dims))) }
            return g.inputs.first { $0.name == name } ?? ValueInfo(name: name, type: nil)
        }
        model.graph.nodes = g.nodes.enumerated().filter { keep.contains($0.offset) }.map(\.element)
        model.graph.inputs = inputs.map(info)
        model.graph.outputs = outputs.map(info)
        model.graph.initializers = g.initializers.filter { needed.contains($0.name) }
        model.graph.sparseInitializers = g.sparseInitializers.filter { needed.contains($0.name) }
    }

    /// Appends `other`'s graph: each connected input of it reads the named output of `model`;
    /// its values, nodes and initializers whose names `model` uses already get `other`'s graph
    /// name as a prefix. The graph's outputs: `model`'s not connected, then `other`'s.
    static func merge(_ model: inout Model, _ other: Model, connect: [(output: String, input: String)]) throws -> [String] {
        var other = other, notes: [String] = []
        if other.defaultOpset != model.defaultOpset {
            // one opset for the merged graph: the other model is converted to this one's
            do {
                let r = try OpsetConversion(target: model.defaultOpset).apply(to: &other)
                notes.append("the merged model converted from opset \(r.from) to \(r.to)")
            } catch let e as PassError {
                throw PassError.invalidOption(
                    option: "merge",
                    reason: "the models' opsets differ (\(model.defaultOpset) and \(other.defaultOpset)), and \(e)")
            }
        }
        var b = other.graph
        for c in connect {
            guard model.graph.outputs.contains(where: { $0.name == c.output }) else {
                throw PassError.invalidOption(option: "connect", reason: "'\(c.output)' is not an output of the first model")
            }
            guard b.runtimeInputs.contains(where: { $0.name == c.input }) else {
                throw PassError.invalidOption(option: "connect", reason: "'\(c.input)' is not an input of the merged model")
            }
        }
        let taken = Set(
            model.graph.inputs.map(\.name) + model.graph.initializers.map(\.name) + model.graph.nodes.flatMap(\.outputs)
                + model.graph.nodes.map(\.name))
        let prefix = (b.name.isEmpty ? "merged" : b.name) + "/"
        let connected = Dictionary(connect.map { ($0.input, $0.output) }, uniquingKeysWith: { first, _ in first })
        let valuesB = Set(b.inputs.map(\.name) + b.initializers.map(\.name) + b.nodes.flatMap(\.outputs))
        for v in valuesB where connected[v] == nil && taken.contains(v) { try rename(&b, v, prefix + v) }
        for i in b.nodes.indices where taken.contains(b.nodes[i].name) { b.nodes[i].name = prefix + b.nodes[i].name }
        for (input, output) in connected {
            b.replaceReads(of: input, with: output)
            b.inputs.removeAll { $0.name == input }
            b.outputs = b.outputs.map { $0.name == input ? ValueInfo(name: output, type: $0.type) : $0 }
        }
        let usedOutputs = Set(connect.map(\.output))
        model.graph.nodes += b.nodes
        model.graph.initializers += b.initializers
        model.graph.sparseInitializers += b.sparseInitializers
        model.graph.inputs += b.inputs
        model.graph.outputs = model.graph.outputs.filter { !usedOutputs.contains($0.name) } + b.outputs
        model.irVersion = max(model.irVersion ?? 0, other.irVersion ?? 0)
        for o in other.opsetImports
        where !model.opsetImports.contains(where: { Domain.canonical($0.domain) == Domain.canonical(o.domain) }) {
            model.opsetImports.append(o)
        }
        return notes
    }

    /// Converts `model` to `opset`; the notes say what was rewritten.
    static func convert(_ model: inout Model, to opset: Int64) throws -> [String] {
        let r = try OpsetConversion(target: opset).apply(to: &model)
        guard r.from != r.to else { return ["the model is at opset \(opset) already"] }
        let ops = r.rewritten.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let count = ops.reduce(0) { $0 + $1.value }
        var notes = [
            "opset \(r.from) -> \(r.to): \(count) node(s) rewritten"
                + (ops.isEmpty ? "" : " (" + ops.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")")
        ]
        if let ir = r.irVersion { notes.append("IR version \(ir.from) -> \(ir.to)") }
        return notes
    }

    static func stripDocs(_ model: inout Model) {
        model.docString = ""
        model.graph.docString = ""
        for i in model.graph.nodes.indices { model.graph.nodes[i].docString = "" }
        for i in model.graph.initializers.indices { model.graph.initializers[i].docString = "" }
        for i in model.graph.inputs.indices { model.graph.inputs[i].docString = "" }
        for i in model.graph.outputs.indices { model.graph.outputs[i].docString = "" }
    }
}
