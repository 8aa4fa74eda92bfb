import FerryIR
import FerryRewrite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Cross-layer equalization (Nagel et al., "Data-Free Quantization", 2019): for a convolution whose
/// output goes, through nothing or a Relu, only to another convolution, output channel i of the
/// first is divided by s_i and input channel i of the second multiplied by it, with s_i =
/// sqrt(r1_i / r2_i) from the channels' largest weight magnitudes, so both end with the range
/// sqrt(r1_i * r2_i). Relu(x / s) = Relu(x) / s for s > 0, so the float model computes the same
/// function; per-tensor and depthwise weights, whose channels' ranges differ widely, quantize with
/// less error. Repeated over the model, chains of such pairs settle.
struct CrossLayerEqualization {
    /// One pair: the first convolution, the second, and whether the second is depthwise.
    private struct Pair { let first: Int, second: Int, depthwise: Bool }

    /// Equalizes every pair `rounds` times; returns how many pairs there are, and by how much each
    /// channel of the first convolutions' outputs was divided (by output name).
    static func run(on graph: inout Graph, rounds: Int = 4) -> (pairs: Int, divisors: [String: [Float]]) {
        let pairs = findPairs(graph)
        var divisors: [String: [Float]] = [:]
        for _ in 0..<rounds {
            for p in pairs {
                let scales = equalize(p, in: &graph)
                let name = graph.nodes[p.first].outputs[0]
                divisors[name] = zip(divisors[name] ?? scales.map { _ in 1 }, scales).map { $0 * $1 }
            }
        }
        return (pairs.count, divisors)
    }

    /// Conv -> (Relu) -> Conv with float initializer weights read by that node only, the first with
    /// group 1 or depthwise, the second's input channels matching the first's output channels.
    private static func findPairs(_ graph: Graph) -> [Pair] {
        let index = GraphIndex(graph)
        func weights(_ n: Node) -> Tensor? {
            guard n.isONNX("Conv"), n.inputs.count >= 2, let i = index.initializer[n.inputs[1]], index.isPrivate(n.inputs[1])
            else { return nil }
            let w = graph.initializers[i]
            guard w.elementType == .float, w.shape.count >= 3, w.floatValues != nil else { return nil }
            if n.inputs.count > 2 && !n.inputs[2].isEmpty {
                guard let b = index.initializer[n.inputs[2]], index.isPrivate(n.inputs[2]),
                    graph.initializers[b].floatValues?.count == w.shape[0]
                else { return nil }
            }
            return w
        }
        var pairs: [Pair] = []
        for (i, a) in graph.nodes.enumerated() {
            guard let w1 = weights(a), a.outputs.count == 1, index.isPrivate(a.outputs[0]) else { continue }
            let c = w1.shape[0], g1 = a.int("group", 1)
            guard g1 == 1 || (g1 == c && w1.shape[1] == 1) else { continue }
            // the value the second convolution reads: the first's output or its Relu's
            var link = a.outputs[0], next = index.readers(of: link)[0]
            if graph.nodes[next].isONNX("Relu") {
                link = graph.nodes[next].outputs[0]
                guard index.isPrivate(link) else { continue }
                next = index.readers(of: link)[0]
            }
            let b = graph.nodes[next]
            guard let w2 = weights(b), b.inputs[0] == link else { continue }
            let g2 = b.int("group", 1)
            if g2 == 1 && w2.shape[1] == c {
                pairs.append(Pair(first: i, second: next, depthwise: false))
            } else if g2 == c && w2.shape[0] == c && w2.shape[1] == 1 {
                pairs.append(Pair(first: i, second: next, depthwise: true))
            }
        }
        return pairs
    }

    /// One round on one pair: the scales from the current weights, applied to both weights and the
    /// first bias; returns them (all 1 when the weights cannot be read).
    private static func equalize(_ p: Pair, in graph: inout Graph) -> [Float] {
        let a = graph.nodes[p.first], b = graph.nodes[p.second]
        guard let i1 = graph.initializers.firstIndex(where: { $0.name == a.inputs[1] }),
            let i2 = graph.initializers.firstIndex(where: { $0.name == b.inputs[1] }),
            var w1 = graph.initializers[i1].floatValues, var w2 = graph.initializers[i2].floatValues
        else { return [] }
        let s1 = graph.initializers[i1].shape, s2 = graph.initializers[i2].shape
        let c = s1[0], per1 = w1.count / c
        // In the second weight, input channel i is row i (depthwise) or column block i of every row.
        let rows2 = p.depthwise ? 1 : s2[0], block = s2.dropFirst(2).reduce(1, *), per2row = w2.count / s2[0]
        func inputChannel2(_ i: Int, _ body: (Int) -> Void) {
            if p.depthwise {
                for k in 0..<per2row { body(i * per2row + k) }
            } else {
                for o in 0..<rows2 { for k in 0..<block { body(o * per2row + i * block + k) } }
            }
        }
        var scales = [Float](repeating: 1, count: c)
        for i in 0..<c {
            var r1: Float = 0, r2: Float = 0
            for k in 0..<per1 { r1 = max(r1, abs(w1[i * per1 + k])) }
            inputChannel2(i) { r2 = max(r2, abs(w2[$0])) }
            guard r1 > 0, r2 > 0, r1.isFinite, r2.isFinite else { continue }
            scales[i] = sqrtf(r1 / r2)
        }
        for i in 0..<c where scales[i] != 1 {
            for k in 0..<per1 { w1[i * per1 + k] /= scales[i] }
            inputChannel2(i) { w2[$0] *= scales[i] }
        }
        graph.initializers[i1] = Tensor(name: a.inputs[1], floats: w1, shape: s1)
        graph.initializers[i2] = Tensor(name: b.inputs[1], floats: w2, shape: s2)
        if a.inputs.count > 2 && !a.inputs[2].isEmpty, let ib = graph.initializers.firstIndex(where: { $0.name == a.inputs[2] }),
            var bias = graph.initializers[ib].floatValues
        {
            for i in 0..<c { bias[i] /= scales[i] }
            graph.initializers[ib] = Tensor(name: a.inputs[2], floats: bias, shape: graph.initializers[ib].shape)
        }
        return scales
    }
}
