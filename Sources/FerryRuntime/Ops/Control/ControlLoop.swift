/// Loop: runs the body while the trip count M (when given) is not reached and the condition (when
/// given) holds, threading the loop-carried values through and stacking each scan output along a
/// new first axis.
final class ControlLoopKernel: Kernel {
    private let body: ControlSubgraph
    /// Loop-carried values (node inputs after M and cond).
    private let carried: Int
    /// Scan outputs of the body (after its condition and carried values).
    private let scans: Int

    init(_ spec: NodeSpec) throws {
        body = try ControlSubgraph(
            spec, "body", inputTypes: [.int64, .bool] + spec.node.inputs.dropFirst(2).map { spec.valueTypes[$0] })
        carried = spec.inputCount - 2
        guard carried >= 0 else { throw KernelError.invalid("Loop takes M, cond and the carried values") }
        guard body.inputCount == carried + 2 else {
            throw KernelError.invalid(
                "the body takes \(body.inputCount) inputs, expected \(carried + 2) (iteration, cond, carried values)")
        }
        scans = body.outputCount - 1 - carried
        guard scans >= 0 else {
            throw KernelError.invalid(
                "the body has \(body.outputCount) outputs, expected at least \(carried + 1) (cond, carried values)")
        }
        guard spec.outputCount <= carried + scans else {
            throw KernelError.invalid("the node has \(spec.outputCount) outputs, the body gives \(carried + scans)")
        }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let tripLimit = try inputs.optional(0).map { try ControlTensors.integer($0, "M") }
        let condGiven = inputs.optional(1)
        var cond = try condGiven.map { try ControlTensors.truth($0, "cond") } ?? true
        var state = try (0..<carried).map { try inputs.required(2 + $0, "loop-carried value") }
        var parts = [[Value]](repeating: [], count: scans)
        var i = 0
        while cond, tripLimit.map({ i < $0 }) ?? true {
            try ctx.checkDeadline()
            // The iteration number comes from the pool: a body that passes it out as a scan output
            // then grows the pool's live bytes, which its limit bounds.
            let iteration = try ctx.allocate(.int64, [])
            iteration.buffer.baseAddress.storeBytes(of: Int64(i), as: Int64.self)
            let outs = try body.run([iteration, ControlTensors.bool(cond)] + state, inputs, ctx)
            if condGiven != nil { cond = try ControlTensors.truth(outs[0], "the body's condition") }
            state = Array(outs[1..<1 + carried])
            for k in 0..<scans { parts[k].append(outs[1 + carried + k]) }
            i += 1
        }
        let stacked = try (0..<scans).map { k -> Value in
            let declared = body.declaredOutput(1 + carried + k)
            return try ControlTensors.stack(
                parts[k], axis: 0, length: parts[k].count,
                fallback: (declared?.type ?? .float, declared?.shape ?? []), ctx)
        }
        return state + stacked
    }
}
