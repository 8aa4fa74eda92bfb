import CKernels
import FerryIR
import FerryRewrite

/// The op that stands for elementwise work on one 8-bit value (DequantizeLinear -> elementwise ops
/// -> QuantizeLinear, see Planner.fuseLookupTables): input 0 the quantized values, input 1 the table
/// of the 256 results (indexed by the input's byte).
enum ByteLookup {
    /// The planner-internal domain of the op (never written to files).
    static let domain = "ferry"
    /// The op type.
    static let op = "ByteLookup"
    /// Attribute set when a constant of the replaced op had rank 1: a scalar input then broadcasts
    /// to shape [1], as the op would have.
    static let atLeastRankOne = "ferry.at_least_rank_1"

    /// Adds the lookup kernel.
    static func register(into r: inout KernelRegistry) {
        r.register(op, domain: domain) { spec in
            let widen = try spec.int(atLeastRankOne, 0) != 0
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0, "x"), table = try inputs.required(1, "table")
                guard QuantizedType.isByte(x.type), QuantizedType.isByte(table.type), table.count == 256 else {
                    throw KernelError.invalid("a lookup needs 8-bit values and a table of 256 8-bit values")
                }
                let y = try ctx.allocate(table.type, widen && x.rank == 0 ? [1] : x.shape)
                let s = x.pointer(UInt8.self), d = y.pointer(UInt8.self), t = table.pointer(UInt8.self)
                ctx.parallel(x.count, grain: elementGrain) { r in
                    ferry_byte_lookup(s + r.lowerBound, r.count, t, d + r.lowerBound)
                }
                return [y]
            }
        }
    }
}

extension Planner {
    /// Ops applied to each element of one value (any other input a scalar constant).
    static let tabulable: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "HardSigmoid", "HardSwish", "Sigmoid", "Tanh", "Relu", "LeakyRelu",
        "Clip", "Elu", "Selu", "Celu", "Softplus", "Softsign", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Erf", "Floor",
        "Ceil", "Round", "Sin", "Cos", "ThresholdedRelu", "Gelu", "Mish", "Sign"
    ]

    /// Elementwise work that depends on one 8-bit tensor only becomes lookups in tables of its 256
    /// possible values. Starting from an 8-bit value read by a per-tensor DequantizeLinear (or a
    /// QLinearAdd/QLinearMul), the nodes whose every input is computed from it alone or is a scalar
    /// constant (tabulable ops, per-tensor QuantizeLinear/DequantizeLinear, QLinearAdd/QLinearMul)
    /// form one function of its bytes; each 8-bit value of that function read elsewhere becomes a
    /// lookup, and the nodes left unread go. The tables are made at plan time by the nodes' own
    /// kernels run on every byte, so a lookup gives exactly what the nodes would. This takes a
    /// QuantizeLinear -> DequantizeLinear -> Div -> QuantizeLinear in one step, and a hard swish that
    /// onnxruntime's quantizer spells out as a QLinearAdd of a constant, a QLinearMul of the value by
    /// that, and a Div, all in one table.
    func fuseLookupTables(_ nodes: [Node], known: inout [String: Value], keep: Set<String>, ctx: ExecutionContext) -> [Node] {
        func scalar(_ name: String) -> Value? {
            guard let v = known[name], v.count == 1, v.rank <= 1 else { return nil }
            return v
        }
        let constants = known
        /// The inputs a node computes from (the others must be scalar constants or absent), and the
        /// type of its quantized input when that may start a function: nil when the node is not one.
        func variableInputs(_ n: Node) -> (inputs: [Int], byteInput: Int?, byteType: ElementType?)? {
            guard n.outputs.count == 1, !n.outputs[0].isEmpty else { return nil }
            let variable = n.inputs.indices.filter { !n.inputs[$0].isEmpty && constants[n.inputs[$0]] == nil }
            guard !variable.isEmpty,
                n.inputs.indices.allSatisfy({ variable.contains($0) || n.inputs[$0].isEmpty || scalar(n.inputs[$0]) != nil })
            else { return nil }
            if n.isONNX("DequantizeLinear") || n.isONNX("QuantizeLinear") {
                guard variable == [0], n.inputs.count == 3, n.attribute("output_dtype") == nil, n.attribute("block_size") == nil,
                    scalar(n.inputs[1])?.type == .float, let z = scalar(n.inputs[2]), QuantizedType.isByte(z.type)
                else { return nil }
                return (variable, n.opType == "DequantizeLinear" ? 0 : nil, z.type)
            }
            if n.domain == Domain.microsoft && (n.opType == "QLinearAdd" || n.opType == "QLinearMul") {
                guard n.inputs.count >= 8, variable.allSatisfy({ $0 == 0 || $0 == 3 }), let z = scalar(n.inputs[2]),
                    QuantizedType.isByte(z.type)
                else { return nil }
                return (variable, variable[0], z.type)
            }
            guard n.isONNX(n.opType), Self.tabulable.contains(n.opType), n.subgraphs.isEmpty else { return nil }
            return (variable, nil, nil)
        }

        // Forward, in program order: each node computed from one 8-bit root joins the root's function.
        var rootOf: [String: String] = [:], rootType: [String: ElementType] = [:]
        var member: [Int: String] = [:]
        for (i, n) in nodes.enumerated() {
            guard let (inputs, byteInput, byteType) = variableInputs(n) else { continue }
            var roots = Set<String>()
            for k in inputs {
                if let r = rootOf[n.inputs[k]] {
                    roots.insert(r)
                } else if let b = byteInput, k == b || (n.domain == Domain.microsoft && (k == 0 || k == 3)), let t = byteType {
                    // an 8-bit value from outside: a new root (QLinearAdd/Mul operands share one type)
                    roots.insert(n.inputs[k])
                    if rootType[n.inputs[k]] == nil { rootType[n.inputs[k]] = t }
                } else {
                    roots.insert("")
                }
            }
            guard roots.count == 1, let r = roots.first, !r.isEmpty, rootType[r] != nil else { continue }
            member[i] = r
            rootOf[n.outputs[0]] = r
        }
        guard !member.isEmpty else { return nodes }

        let index = GraphIndex(nodes: nodes, keeping: keep)
        // A DequantizeLinear read only outside the function stays as it is: its 8-bit input leaves instead.
        for (i, r) in member where nodes[i].isONNX("DequantizeLinear") {
            if !index.readers(of: nodes[i].outputs[0]).contains(where: { member[$0] == r }) { member[i] = nil }
        }

        var replaced: [Int: Node] = [:]
        for root in Set(member.values).sorted() {
            let group = member.keys.filter { member[$0] == root }.sorted()
            // 8-bit values of the function read outside it (or kept): each becomes a lookup
            let exits = group.filter { i in
                let n = nodes[i], out = n.outputs[0]
                let bytes = !n.isONNX("DequantizeLinear") && (n.isONNX("QuantizeLinear") || n.domain == Domain.microsoft)
                return bytes && (keep.contains(out) || index.readers(of: out).contains { member[$0] != root })
            }
            guard !exits.isEmpty, let type = rootType[root] else { continue }
            var values: [String: Value] = [
                root: Value(
                    type: type, shape: [256],
                    buffer: TensorBuffer(count: 256) { p in
                        for b in 0..<256 { p.storeBytes(of: UInt8(b), toByteOffset: b, as: UInt8.self) }
                    })
            ]
            var widen = false
            do {
                for i in group {
                    let n = nodes[i]
                    let inputs = n.inputs.map { $0.isEmpty ? nil : (values[$0] ?? known[$0]) }
                    let fixed = n.inputs.map { $0.isEmpty || values[$0] != nil ? nil : known[$0] }
                    // a rank-1 operand of an elementwise op makes a rank-0 input's result rank 1
                    widen = widen || (Self.tabulable.contains(n.opType) && n.isONNX(n.opType) && fixed.contains { $0?.rank == 1 })
                    guard
                        let y = try makeKernel(n, label: n.label(index: 0), constants: fixed, implicit: []).run(inputs, ctx).first
                            ?? nil,
                        y.count == 256
                    else { throw KernelError.invalid("not elementwise") }
                    values[n.outputs[0]] = y
                }
            } catch {
                continue
            }
            for i in exits {
                let n = nodes[i], tableName = "\(n.outputs[0])::byte_lookup"
                known[tableName] = values[n.outputs[0]]
                var lookup = Node(
                    opType: ByteLookup.op, domain: ByteLookup.domain, name: n.name, inputs: [root, tableName], outputs: n.outputs)
                if widen { lookup.attributes.append(Attribute(ByteLookup.atLeastRankOne, .int(1))) }
                replaced[i] = lookup
            }
        }
        guard !replaced.isEmpty else { return nodes }

        // Members no longer read (and not kept) go, last first so their inputs' readers drop too.
        var result = nodes.enumerated().map { replaced[$0.offset] ?? $0.element }
        var count: [String: Int] = [:]
        for n in result {
            for name in n.inputs + n.subgraphs.flatMap({ $0.outerScopeReads() }) where !name.isEmpty {
                count[name, default: 0] += 1
            }
        }
        var removed = Set<Int>()
        for i in result.indices.reversed() where member[i] != nil && replaced[i] == nil {
            guard result[i].outputs.allSatisfy({ $0.isEmpty || (count[$0, default: 0] == 0 && !keep.contains($0)) }) else {
                continue
            }
            removed.insert(i)
            for name in result[i].inputs where !name.isEmpty { count[name, default: 0] -= 1 }
        }
        result = result.enumerated().compactMap { removed.contains($0.offset) ? nil : $0.element }
        return result
    }
}
