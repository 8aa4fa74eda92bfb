import FerryIR

/// An Einsum operand while the equation is evaluated: a dense value and one distinct label per axis.
struct EinsumOperand {
    var value: Value
    var labels: [Int]
}

/// Einsum: diagonals first, then operands contracted pairwise from the left (each pair as a batched
/// matrix product, labels no longer needed summed out beforehand), then the output's axis order.
final class EinsumKernel: Kernel {
    private let equation: String

    init(_ spec: NodeSpec) throws {
        equation = try spec.string("equation", "")
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let values = try (0..<inputs.count).map { try inputs.required($0) }
        guard let type = values.first?.type else { throw KernelError.invalid("Einsum needs at least one input") }
        guard values.allSatisfy({ $0.type == type }) else {
            throw KernelError.invalid("input types differ: \(values.map(\.type.name).joined(separator: ", "))")
        }
        if type == .float16 || type == .bfloat16 {
            let r = try evaluate(try values.map { try convert($0, to: .float, ctx: ctx) }, ctx)
            return [try convert(r, to: type, ctx: ctx)]
        }
        return [try evaluate(values, ctx)]
    }

    private func evaluate(_ values: [Value], _ ctx: ExecutionContext) throws -> Value {
        let eq = try EinsumEquation(equation, ranks: values.map(\.rank))
        var sizes: [Int: Int] = [:]
        for (v, labels) in zip(values, eq.inputs) {
            for (d, l) in labels.enumerated() {
                let s = v.shape[d]
                if let known = sizes[l], known != s {
                    guard known == 1 || s == 1 else {
                        throw KernelError.invalid("label sizes differ: \(known) and \(s) in '\(equation)'")
                    }
                    sizes[l] = max(known, s)
                } else {
                    sizes[l] = s
                }
            }
        }
        var operands = try zip(values, eq.inputs).map { try diagonal(EinsumOperand(value: $0, labels: $1), ctx) }
        let wanted = Set(eq.output)
        while operands.count > 1 {
            let keep = operands.dropFirst(2).reduce(wanted) { $0.union($1.labels) }
            let a = try sumOut(operands[0], keeping: keep.union(operands[1].labels), ctx)
            let b = try sumOut(operands[1], keeping: keep.union(operands[0].labels), ctx)
            operands = [try EinsumContraction.contract(a, b, keep: keep, sizes: sizes, ctx: ctx)] + operands.dropFirst(2)
        }
        let result = try sumOut(operands[0], keeping: wanted, ctx)
        var perm: [Int] = []
        for l in eq.output {
            guard let p = result.labels.firstIndex(of: l) else { throw KernelError.invalid("output label \(l) was lost") }
            perm.append(p)
        }
        var out = result.value
        if perm != Array(0..<perm.count) || values.contains(where: { $0.buffer === out.buffer }) {
            out = try ReduceLayout.permute(out, perm, ctx: ctx)
        }
        return out
    }

    /// The operand with every repeated label reduced to its diagonal.
    private func diagonal(_ op: EinsumOperand, _ ctx: ExecutionContext) throws -> EinsumOperand {
        guard Set(op.labels).count != op.labels.count else { return op }
        let strides = ReduceLayout.contiguousStrides(op.value.shape)
        var labels: [Int] = [], shape: [Int] = [], steps: [Int] = []
        for (d, l) in op.labels.enumerated() {
            if let k = labels.firstIndex(of: l) {
                guard shape[k] == op.value.shape[d] else {
                    throw KernelError.invalid("a repeated label spans dimensions of sizes \(shape[k]) and \(op.value.shape[d])")
                }
                steps[k] += strides[d]
            } else {
                labels.append(l)
                shape.append(op.value.shape[d])
                steps.append(strides[d])
            }
        }
        return EinsumOperand(value: try ReduceLayout.gather(op.value, shape: shape, strides: steps, ctx: ctx), labels: labels)
    }

    /// The operand summed over every label not in `keeping`.
    private func sumOut(_ op: EinsumOperand, keeping: Set<Int>, _ ctx: ExecutionContext) throws -> EinsumOperand {
        let axes = op.labels.indices.filter { !keeping.contains(op.labels[$0]) }
        guard !axes.isEmpty else { return op }
        let geometry = ReduceGeometry(shape: op.value.shape, axes: axes, keepdims: false)
        return EinsumOperand(
            value: try ReduceKernel.reduce(.sum, op.value, geometry, ctx),
            labels: op.labels.filter { keeping.contains($0) })
    }
}
