import FerryIR

/// A compiled subgraph (If branch, Loop or Scan body) with, for every value it reads from enclosing
/// graphs, where the node's kernel finds that value among its inputs.
struct ControlSubgraph {
    let program: GraphProgram
    /// Per outer value the program reads: its index in the node's input list (own inputs, then
    /// the implicit inputs the planner appends).
    private let outerPositions: [Int]

    /// Compiles the graph attribute `name` of the node; `inputTypes` types the subgraph's inputs
    /// that declare none (the values the node passes in).
    init(_ spec: NodeSpec, _ name: String, inputTypes: [ElementType?] = []) throws {
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
        program = try compiler.compile(
            graph, outerNames: reads, outerTypes: ElementTypeInference.seeding(graph, spec.valueTypes, inputTypes))
        // Values declared without a type (PyTorch's branch outputs) are tensors whose type the body
        // decides; sequences, maps and optionals are not supported.
        for info in program.inputs + program.outputs {
            switch info.type?.type {
            case .tensor?, .unspecified?, nil: continue
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

    /// The element type of output `i` (declared, or inferred from the body) and its declared shape
    /// when fully known; used for scan outputs of zero iterations.
    func declaredOutput(_ i: Int) -> (type: ElementType, shape: [Int]?)? {
        guard let type = program.outputTypes[i] else { return nil }
        guard case .tensor(_, let dims?)? = program.outputs[i].type?.type else { return (type, nil) }
        return (type, dims.fixedSizes)
    }
}
