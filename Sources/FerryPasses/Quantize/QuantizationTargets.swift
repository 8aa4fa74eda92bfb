import FerryIR
import FerryRewrite

/// The operators a quantization mode turns into integer ones, and the float activations they read.
struct QuantizationTargets {
    /// A Conv, Gemm or MatMul node to quantize.
    struct Target {
        var node: Int
        /// Its float activation inputs (by input position).
        var activations: [Int]
        /// Input position of its constant weight, if it has one.
        var weight: Int?
        /// Axis of the weight's output channels (the per-channel axis).
        var weightAxis: Int
        /// Input position of its constant bias, if it has one to quantize with the weight.
        var bias: Int?
    }

    var targets: [Target] = []

    /// Every float activation tensor a target reads, in graph order.
    var activationTensors: [String] = []

    init(_ graph: Graph, options: QuantizationOptions, skipping kept: Set<String> = []) {
        let index = GraphIndex(graph)
        func isFloatInitializer(_ name: String, rank: ClosedRange<Int>) -> Bool {
            guard let i = index.initializer[name] else { return false }
            let t = graph.initializers[i]
            return t.elementType == .float && rank.contains(t.shape.count) && t.segment == nil
        }
        let excluded = Set(options.exclude).union(kept)
        var seen = Set<String>()
        for (i, n) in graph.nodes.enumerated() {
            guard !excluded.contains(n.name), !excluded.contains(n.opType) else { continue }
            var target: Target?
            if n.isONNX("Conv"), n.inputs.count >= 2, isFloatInitializer(n.inputs[1], rank: 3...5),
                index.initializer[n.inputs[0]] == nil
            {
                let hasBias = n.inputs.count > 2 && !n.inputs[2].isEmpty
                if hasBias && !isFloatInitializer(n.inputs[2], rank: 1...1) { continue }
                target = Target(node: i, activations: [0], weight: 1, weightAxis: 0, bias: hasBias ? 2 : nil)
            } else if n.isONNX("Gemm"), n.inputs.count >= 2, isFloatInitializer(n.inputs[1], rank: 2...2),
                n.int("transA", 0) == 0,
                n.float("alpha", 1) == 1, index.initializer[n.inputs[0]] == nil
            {
                let hasBias = n.inputs.count > 2 && !n.inputs[2].isEmpty
                let transB = n.int("transB", 0) == 1
                let w = graph.initializers[index.initializer[n.inputs[1]]!]
                let units = transB ? w.shape[0] : w.shape[1]
                var bias: Int?
                if hasBias {
                    guard n.float("beta", 1) == 1, let c = index.initializer[n.inputs[2]],
                        graph.initializers[c].elementType == .float,
                        graph.initializers[c].shape == [units]
                    else { continue }
                    bias = 2
                }
                target = Target(node: i, activations: [0], weight: 1, weightAxis: transB ? 0 : 1, bias: bias)
            } else if n.isONNX("MatMul"), n.inputs.count == 2, index.initializer[n.inputs[0]] == nil {
                if isFloatInitializer(n.inputs[1], rank: 2...2) {
                    target = Target(node: i, activations: [0], weight: 1, weightAxis: 1, bias: nil)
                } else if options.mode == .static, index.initializer[n.inputs[1]] == nil {
                    target = Target(node: i, activations: [0, 1], weight: nil, weightAxis: 0, bias: nil)
                }
            }
            guard let t = target else { continue }
            if options.mode == .weights && t.weight == nil { continue }
            targets.append(t)
            for a in t.activations where seen.insert(n.inputs[a]).inserted { activationTensors.append(n.inputs[a]) }
        }
    }

    /// The activations static quantization quantizes: those the targets read and, in operator form,
    /// each target's output (after an absorbed Relu or Clip), which QLinearConv and its kin write.
    func quantizedTensors(_ graph: Graph, format: QuantizationOptions.Format) -> [String] {
        var tensors = activationTensors
        guard format == .qoperator else { return tensors }
        let index = GraphIndex(graph)
        for t in targets {
            let out = QOperatorConversion.quantizedOutput(of: graph.nodes[t.node], in: graph, index: index).value
            if !tensors.contains(out) { tensors.append(out) }
        }
        return tensors
    }

    /// Names of the targets with no other target before them (reading the inputs through
    /// unquantized ops only) or none after them (feeding the outputs through unquantized ops only).
    func edgeNodes(_ graph: Graph) -> [String] {
        let index = GraphIndex(graph)
        let targetNodes = Set(targets.map(\.node))
        func reaches(_ start: Int, upstream: Bool) -> Bool {
            var seen = Set<Int>(), work = [start]
            while let i = work.popLast() {
                let next: [Int] =
                    upstream
                    ? graph.nodes[i].inputs.compactMap { index.producer[$0] }
                    : graph.nodes[i].outputs.flatMap { index.readers(of: $0) }
                for j in next where seen.insert(j).inserted {
                    if targetNodes.contains(j) { return true }
                    work.append(j)
                }
            }
            return false
        }
        return targets.filter { !reaches($0.node, upstream: true) || !reaches($0.node, upstream: false) }.map {
            graph.nodes[$0.node].name
        }
    }
}
