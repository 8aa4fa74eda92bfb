import FerryIR

/// A compiled subgraph (If branch, Loop or Scan body) with, for every value it reads from enclosing
/// graphs, where the node's kernel finds that value among its inputs.
struct ControlSubgraph {
    let program: GraphProgram
    /// Per outer value the program reads: its index in the node's input list (own inputs, then
    /// the implicit inputs the planner appends).
    private let outerPositions: [Int]

    /// Compiles the graph attribute `name` of the node.
    init(_ spec: NodeSpec, _ name: String) throws {
        guard let graph = try spec.graph(name) else { throw KernelError.invalid("graph attribute '\(name)' is missing") }
        guard let compiler = spec.subgraphCompiler else { throw KernelError.unsupported("subgraphs outside a planned model") }
        let reads = graph.outerScopeReads()
        outerPositions = try reads.map { read in
            if let k = spec.node.inputs.firstIndex(of: read) { return k }
            guard let k = spec.implicitInputs.firstIndex(of: read) else {
                throw KernelError.invalid("'\(name)' reads '\(read)', which no enclosing graph defines")
            }
            return spec.inputCount + k
        }
        program = try compiler.compile(graph, outerNames: reads)
        for info in program.inputs + program.outputs {
            switch info.type?.type {
            case .tensor?, nil: continue
            case let t?: throw KernelError.unsupported("'\(name)' value '\(info.name)' of type \(TypeInfo(t)) (only tensors)")
            }
        }
    }

    var inputCount: Int { program.inputs.count }
    var outputCount: Int { program.outputs.count }

    /// Runs the subgraph on `feeds` (its inputs in order), taking outer values from the node's inputs.
    func run(_ feeds: [Value], _ nodeInputs: [Value?], _ ctx: ExecutionContext) throws -> [Value] {
        let outer = try outerPositions.map { try nodeInputs.required($0, "value read by a subgraph") }
        return try program.execute(inputs: feeds, outer: outer, ctx: ctx)
    }

    /// The declared element type and shape of output `i` when fully known (for empty scan outputs).
    func declaredOutput(_ i: Int) -> (type: ElementType, shape: [Int]?)? {
        guard case .tensor(let type, let dims)? = program.outputs[i].type?.type, type != .undefined else { return nil }
        let shape = dims.flatMap { d -> [Int]? in
            let fixed = d.compactMap { dim -> Int? in
                if case .fixed(let n) = dim.value, n >= 0 { return Int(n) }
                return nil
            }
            return fixed.count == d.count ? fixed : nil
        }
        return (type, shape)
    }
}
