/// If: runs the then or else branch, chosen by the one-element condition. A condition known at plan
/// time compiles only the branch it selects.
final class ControlIfKernel: Kernel {
    private let thenBranch: ControlSubgraph?
    private let elseBranch: ControlSubgraph?

    init(_ spec: NodeSpec) throws {
        let known = try spec.constant(0).map { try ControlTensors.truth($0, "cond") }
        thenBranch = known == false ? nil : try ControlSubgraph(spec, "then_branch")
        elseBranch = known == true ? nil : try ControlSubgraph(spec, "else_branch")
        for branch in [thenBranch, elseBranch].compactMap({ $0 }) {
            guard branch.inputCount == 0 else { throw KernelError.invalid("If branches take no inputs") }
            guard branch.outputCount == spec.outputCount else {
                throw KernelError.invalid("a branch has \(branch.outputCount) outputs, the node \(spec.outputCount)")
            }
        }
        if let a = thenBranch, let b = elseBranch {
            for i in 0..<a.outputCount {
                if let x = a.program.outputTypes[i], let y = b.program.outputTypes[i], x != y {
                    throw KernelError.invalid(
                        "output \(i) is \(x.name) in then_branch ('\(a.program.outputs[i].name)') but \(y.name) in else_branch ('\(b.program.outputs[i].name)')"
                    )
                }
            }
        }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let cond = try ControlTensors.truth(try inputs.required(0, "cond"), "cond")
        guard let branch = cond ? thenBranch : elseBranch else {
            throw KernelError.invalid("cond differs from its plan-time value")
        }
        return try branch.run([], inputs, ctx)
    }
}
