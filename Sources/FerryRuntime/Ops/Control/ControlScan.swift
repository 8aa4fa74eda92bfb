/// Scan (opset 9 on): runs the body once per entry of the scan inputs along their scan axes
/// (forward or reverse per input), threading the state values through and stacking each scan
/// output along its axis (forward or reverse per output).
final class ControlScanKernel: Kernel {
    private let body: ControlSubgraph
    private let states: Int, scanInputs: Int, scanOutputs: Int
    private let inputReversed: [Bool], outputReversed: [Bool]
    private let inputAxes: [Int], outputAxes: [Int]

    init(_ spec: NodeSpec) throws {
        body = try ControlSubgraph(spec, "body", inputTypes: spec.node.inputs.map { spec.valueTypes[$0] })
        scanInputs = try spec.int("num_scan_inputs", -1)
        guard scanInputs >= 1, scanInputs <= spec.inputCount else {
            throw KernelError.invalid("num_scan_inputs \(scanInputs) does not fit the \(spec.inputCount) inputs")
        }
        states = spec.inputCount - scanInputs
        guard body.inputCount == spec.inputCount else {
            throw KernelError.invalid("the body takes \(body.inputCount) inputs, the node gives \(spec.inputCount)")
        }
        scanOutputs = body.outputCount - states
        guard scanOutputs >= 0, spec.outputCount <= body.outputCount else {
            throw KernelError.invalid(
                "the body has \(body.outputCount) outputs for \(states) states and the node's \(spec.outputCount) outputs")
        }
        func list(_ name: String, _ count: Int) throws -> [Int] {
            let v = try spec.ints(name) ?? [Int](repeating: 0, count: count)
            guard v.count == count else { throw KernelError.invalid("'\(name)' has \(v.count) entries, expected \(count)") }
            return v
        }
        inputReversed = try list("scan_input_directions", scanInputs).map { $0 != 0 }
        outputReversed = try list("scan_output_directions", scanOutputs).map { $0 != 0 }
        inputAxes = try list("scan_input_axes", scanInputs)
        outputAxes = try list("scan_output_axes", scanOutputs)
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        var state = try (0..<states).map { try inputs.required($0, "initial state") }
        let xs = try (0..<scanInputs).map { try inputs.required(states + $0, "scan input") }
        let axes = try zip(xs, inputAxes).map { try ControlTensors.axis($1, rank: $0.rank, "scan_input_axes entry") }
        let length = xs[0].shape[axes[0]]
        for (x, a) in zip(xs, axes) where x.shape[a] != length {
            throw KernelError.invalid("scan inputs differ in length: \(length) and \(x.shape[a])")
        }
        var parts = [[Value]](repeating: [], count: scanOutputs)
        for t in 0..<length {
            let slices = try (0..<scanInputs).map { j in
                try ControlTensors.slice(xs[j], axis: axes[j], index: inputReversed[j] ? length - 1 - t : t, ctx)
            }
            let outs = try body.run(state + slices, inputs, ctx)
            state = Array(outs[0..<states])
            for k in 0..<scanOutputs { parts[k].append(outs[states + k]) }
        }
        let stacked = try (0..<scanOutputs).map { k -> Value in
            let declared = body.declaredOutput(states + k)
            return try ControlTensors.stack(
                parts[k], axis: outputAxes[k], length: length, reversed: outputReversed[k],
                fallback: (declared?.type ?? .float, declared?.shape ?? []), ctx)
        }
        return state + stacked
    }
}

/// Scan-8: like later Scans but over a leading batch axis (states [batch, ...], scan inputs
/// [batch, sequence, ...]) with optional per-batch sequence lengths; scan outputs are
/// [batch, sequence, ...], zero past each batch entry's length.
final class ControlScan8Kernel: Kernel {
    private let body: ControlSubgraph
    private let states: Int, scanInputs: Int, scanOutputs: Int
    private let inputReversed: [Bool]

    init(_ spec: NodeSpec) throws {
        body = try ControlSubgraph(spec, "body", inputTypes: spec.node.inputs.dropFirst().map { spec.valueTypes[$0] })
        scanInputs = try spec.int("num_scan_inputs", -1)
        states = spec.inputCount - 1 - scanInputs
        guard scanInputs >= 1, states >= 0 else {
            throw KernelError.invalid("num_scan_inputs \(scanInputs) does not fit the \(spec.inputCount) inputs")
        }
        guard body.inputCount == states + scanInputs else {
            throw KernelError.invalid("the body takes \(body.inputCount) inputs, expected \(states + scanInputs)")
        }
        scanOutputs = body.outputCount - states
        guard scanOutputs >= 0, spec.outputCount <= body.outputCount else {
            throw KernelError.invalid(
                "the body has \(body.outputCount) outputs for \(states) states and the node's \(spec.outputCount) outputs")
        }
        let directions = try spec.ints("directions") ?? [Int](repeating: 0, count: scanInputs)
        guard directions.count == scanInputs else {
            throw KernelError.invalid("'directions' has \(directions.count) entries, expected \(scanInputs)")
        }
        inputReversed = directions.map { $0 != 0 }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let initial = try (0..<states).map { try inputs.required(1 + $0, "initial state") }
        let xs = try (0..<scanInputs).map { try inputs.required(1 + states + $0, "scan input") }
        guard xs.allSatisfy({ $0.rank >= 2 }), initial.allSatisfy({ $0.rank >= 1 }) else {
            throw KernelError.invalid("states need a batch axis and scan inputs batch and sequence axes")
        }
        let batch = xs[0].shape[0], length = xs[0].shape[1]
        for v in initial + xs where v.shape[0] != batch {
            throw KernelError.invalid("batch sizes differ: \(batch) and \(v.shape[0])")
        }
        for x in xs where x.shape[1] != length {
            throw KernelError.invalid("scan inputs differ in length: \(length) and \(x.shape[1])")
        }
        var lengths = [Int](repeating: length, count: batch)
        if let lens = inputs.optional(0) {
            lengths = try lens.ints()
            guard lengths.count == batch, lengths.allSatisfy({ $0 >= 0 && $0 <= length }) else {
                throw KernelError.invalid("sequence_lens must hold \(batch) lengths in 0...\(length)")
            }
        }
        var finals = [[Value]](repeating: [], count: states)
        var outputs = [[Value]](repeating: [], count: scanOutputs)
        for b in 0..<batch {
            var state = try initial.map { try ControlTensors.slice($0, axis: 0, index: b, ctx) }
            let rows = try xs.map { try ControlTensors.slice($0, axis: 0, index: b, ctx) }
            var parts = [[Value]](repeating: [], count: scanOutputs)
            for t in 0..<lengths[b] {
                let slices = try (0..<scanInputs).map { j in
                    try ControlTensors.slice(rows[j], axis: 0, index: inputReversed[j] ? lengths[b] - 1 - t : t, ctx)
                }
                let outs = try body.run(state + slices, inputs, ctx)
                state = Array(outs[0..<states])
                for k in 0..<scanOutputs { parts[k].append(outs[states + k]) }
            }
            for k in 0..<states { finals[k].append(state[k]) }
            for k in 0..<scanOutputs {
                let declared = body.declaredOutput(states + k)
                outputs[k].append(
                    try ControlTensors.stack(
                        parts[k], axis: 0, length: length,
                        fallback: (declared?.type ?? .float, declared?.shape ?? []), ctx))
            }
        }
        let stackedStates = try (0..<states).map { k in
            try ControlTensors.stack(
                finals[k], axis: 0, length: batch, fallback: (initial[k].type, Array(initial[k].shape.dropFirst())), ctx)
        }
        let stackedOutputs = try (0..<scanOutputs).map { k -> Value in
            let declared = body.declaredOutput(states + k)
            return try ControlTensors.stack(
                outputs[k], axis: 0, length: batch,
                fallback: (declared?.type ?? .float, [length] + (declared?.shape ?? [])), ctx)
        }
        return stackedStates + stackedOutputs
    }
}
