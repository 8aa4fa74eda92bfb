import FerryIR

/// The op that stands for DequantizeLinear -> elementwise op -> QuantizeLinear on 8-bit values: input
/// 0 the quantized values, input 1 the table of the 256 results (indexed by the input's byte).
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
                ctx.parallel(x.count, grain: elementGrain) { r in for i in r { d[i] = t[Int(s[i])] } }
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
        "Ceil", "Round", "Sin", "Cos", "ThresholdedRelu", "Gelu", "Mish", "Sign",
    ]

    /// A per-tensor 8-bit DequantizeLinear, one such op and a per-tensor 8-bit QuantizeLinear, all
    /// with constant parameters, become one lookup in a table of the 256 possible inputs. The table
    /// is made at plan time by the three nodes' own kernels run on every byte, so the lookup gives
    /// exactly what they would. (onnxruntime's quantizer leaves, for example, the Div of a
    /// spelled-out hard swish in float between such a pair.)
    func fuseLookupTables(_ nodes: [Node], known: inout [String: Value], keep: Set<String>, ctx: ExecutionContext) -> [Node] {
        var producer: [String: Int] = [:], readers: [String: Int] = [:], lastReader: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.outputs where !o.isEmpty { producer[o] = i }
            for name in n.inputs + n.subgraphs.flatMap({ $0.outerScopeReads() }) where !name.isEmpty {
                readers[name, default: 0] += 1
                lastReader[name] = i
            }
        }
        func scalar(_ name: String) -> Value? {
            guard !name.isEmpty, let v = known[name], v.count == 1, v.rank <= 1 else { return nil }
            return v
        }
        func onnx(_ n: Node, _ op: String) -> Bool { n.opType == op && (n.domain.isEmpty || n.domain == "ai.onnx") }
        var replaced: [Int: Node] = [:], removed = Set<Int>()
        for (i, n) in nodes.enumerated() where onnx(n, n.opType) && Self.tabulable.contains(n.opType) && n.outputs.count == 1 {
            let variable = n.inputs.indices.filter { !n.inputs[$0].isEmpty && known[n.inputs[$0]] == nil }
            guard variable.count == 1, let v = variable.first,
                  n.inputs.indices.allSatisfy({ $0 == v || n.inputs[$0].isEmpty || scalar(n.inputs[$0]) != nil }),
                  let di = producer[n.inputs[v]], !removed.contains(di), onnx(nodes[di], "DequantizeLinear"), nodes[di].inputs.count == 3,
                  let xScale = scalar(nodes[di].inputs[1]), let xZero = scalar(nodes[di].inputs[2]), QuantizedType.isByte(xZero.type),
                  !keep.contains(n.outputs[0]), readers[n.outputs[0]] == 1,
                  let qi = lastReader[n.outputs[0]], onnx(nodes[qi], "QuantizeLinear"), nodes[qi].inputs.first == n.outputs[0],
                  nodes[qi].inputs.count == 3, nodes[qi].attribute("output_dtype") == nil,
                  let yScale = scalar(nodes[qi].inputs[1]), let yZero = scalar(nodes[qi].inputs[2]), QuantizedType.isByte(yZero.type)
            else { continue }
            let dq = nodes[di], q = nodes[qi]
            let table: Value
            do {
                let bytes = Value(type: xZero.type, shape: [256], buffer: TensorBuffer(count: 256) { p in
                    for b in 0..<256 { p.storeBytes(of: UInt8(b), toByteOffset: b, as: UInt8.self) }
                })
                let x = try makeKernel(dq, label: "'\(dq.name)'", constants: [nil, xScale, xZero], implicit: []).run([bytes, xScale, xZero], ctx)[0]
                var opInputs = n.inputs.map { $0.isEmpty ? nil : known[$0] }
                opInputs[v] = x
                var opConstants = opInputs
                opConstants[v] = nil
                let y = try makeKernel(n, label: "'\(n.name)'", constants: opConstants, implicit: []).run(opInputs, ctx)[0]
                guard let y, y.count == 256 else { continue }
                guard let t = try makeKernel(q, label: "'\(q.name)'", constants: [nil, yScale, yZero], implicit: []).run([y, yScale, yZero], ctx)[0],
                      t.count == 256 else { continue }
                table = t
            } catch {
                continue
            }
            let tableName = "\(n.outputs[0])::byte_lookup"
            known[tableName] = table
            var lookup = Node(opType: ByteLookup.op, domain: ByteLookup.domain, name: n.name, inputs: [dq.inputs[0], tableName], outputs: q.outputs)
            if n.inputs.indices.contains(where: { $0 != v && !n.inputs[$0].isEmpty && known[n.inputs[$0]]?.rank == 1 }) {
                lookup.attributes.append(Attribute(ByteLookup.atLeastRankOne, .int(1)))
            }
            replaced[i] = lookup
            removed.insert(qi)
            // the DequantizeLinear goes with its last reader
            readers[n.inputs[v], default: 1] -= 1
            if readers[n.inputs[v]] == 0 && !keep.contains(n.inputs[v]) { removed.insert(di) }
        }
        return nodes.enumerated().compactMap { removed.contains($0.offset) ? nil : (replaced[$0.offset] ?? $0.element) }
    }
}
