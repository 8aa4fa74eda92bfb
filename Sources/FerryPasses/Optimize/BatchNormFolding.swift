import FerryIR
import FerryRewrite

/// Folds a per-channel affine map (an inference-mode BatchNormalization; after Conv and
/// ConvTranspose also a Mul or an Add by a per-channel constant, how Keras batch norms arrive) into
/// the weights and bias of the node before it: Conv, ConvTranspose, Gemm, or MatMul with a constant
/// 2-D weight and a 2-D input (the bias then becomes one Add). Only when the value between them has
/// no other reader and is not a graph output, and weights, bias and parameters are fixed float32
/// constants; new weights get new names (the old ones may be shared) and unread ones go later.
public struct BatchNormFolding: OptimizationPass {
    public init() {}

    public var name: String { "fold-batch-norm" }

    public func apply(to model: inout Model) throws -> Int {
        let constants = Constants(model.constantInitializers)
        let index = GraphIndex(model.graph)
        var names = NameAllocator(model)
        var touched = Set<Int>(), removed = Set<Int>()
        var added: [(after: Int, node: Node)] = []
        var created: [Tensor] = []
        for j in model.graph.nodes.indices {
            let consumer = model.graph.nodes[j]
            guard consumer.outputs.first?.isEmpty == false,
                let x = consumer.inputs.first(where: { index.producer[$0] != nil && index.isPrivate($0) }),
                let p = index.producer[x], !touched.contains(p), !removed.contains(p), !touched.contains(j),
                model.graph.nodes[p].outputs.count == 1
            else { continue }
            let producer = model.graph.nodes[p]
            var fold = AffineFold(
                producer: producer, constants: constants,
                inputRank: producer.inputs.first.flatMap { AffineFold.rank(of: $0, in: model.graph) })
            guard let m = fold.channels,
                let affine = ChannelAffine(consumer, input: x, channels: m, rank: fold.convolutionRank, constants: constants),
                fold.apply(affine, output: consumer.outputs[0], name: { names.fresh(consumer.outputs[0] + "_" + $0) })
            else { continue }
            model.graph.nodes[p] = fold.producer
            created += fold.created
            if let extra = fold.biasNode { added.append((p, extra)) }
            touched.insert(p)
            removed.insert(j)
        }
        guard !removed.isEmpty else { return 0 }
        var nodes: [Node] = []
        for (i, n) in model.graph.nodes.enumerated() where !removed.contains(i) {
            nodes.append(n)
            nodes += added.filter { $0.after == i }.map(\.node)
        }
        model.graph.nodes = nodes
        for t in created { model.addInitializer(t) }
        return removed.count
    }
}
