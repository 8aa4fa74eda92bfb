import FerryIR
import FerryRewrite

/// A change one channel space asks of a constant input of a node.
struct ChannelEdit {
    enum Kind {
        /// Keep the positions of `layout` along `axis` of the tensor.
        case keep(axis: Int, layout: ChannelLayout)
        /// Entry `position` of a Reshape's target shape becomes the kept length of `layout`.
        case shapeEntry(position: Int, layout: ChannelLayout)
    }
    let node: Int
    let slot: Int
    let kind: Kind
}

/// Which node produces which channels, and what must change with them: the result of following
/// every prunable layer's output channels through the graph.
struct ChannelPlan {
    var spaces = ChannelSpaces()
    /// Where each value's channels come from (values not listed carry no removable channels).
    var layouts: [String: ChannelLayout] = [:]
    var edits: [ChannelEdit] = []
    /// Depthwise convolutions whose `group` follows their input's channels.
    var groupEdits: [Int: ChannelLayout] = [:]
    /// Space made by each producing node, and the axis of its weight along its output channels.
    var producerSpace: [Int: Int] = [:]
    var producerWeightAxis: [Int: Int] = [:]
    /// Why a weight-reading node's output channels are not pruned.
    var notProducing: [Int: String] = [:]
}

/// Builds a `ChannelPlan`: creates a channel space at each prunable layer and follows it through
/// the ops whose channel mapping is clear (element-wise ops, normalization, pooling, Concat,
/// reshapes that keep channels in blocks, Transpose) to the layers that read it; anything else
/// blocks it.
struct ChannelDependencies {
    let graph: Graph
    let shapes: [String: [Int]]
    let index: GraphIndex
    var plan = ChannelPlan()

    static let unary: Set<String> = [
        "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu",
        "Softplus", "Softsign", "Clip", "Identity", "Dropout", "Neg", "Abs", "Exp", "Log", "Sqrt",
        "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Erf", "Gelu", "Mish", "ThresholdedRelu",
        "Shrink", "Cast", "Sin", "Cos"
    ]
    static let pools: Set<String> = ["MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"]
    static let sizeKeeping: Set<String> = ["Resize", "Upsample", "Pad"]
    static let joins: Set<String> = ["Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Pow", "PRelu"]
    static let reshapes: Set<String> = ["Flatten", "Reshape", "Squeeze", "Unsqueeze"]
    static let normalizations: Set<String> = ["BatchNormalization", "InstanceNormalization"]
    /// Readers that look at shapes only.
    static let shapeReaders: Set<String> = ["Shape", "Size"]

    init(graph: Graph, shapes: [String: [Int]]) {
        self.graph = graph
        self.shapes = shapes
        index = GraphIndex(graph)
    }

    /// Follows the channels of the prunable layers among `uses` through the whole graph.
    static func plan(_ graph: Graph, shapes: [String: [Int]], uses: [WeightUse]) throws -> ChannelPlan {
        var d = ChannelDependencies(graph: graph, shapes: shapes)
        let usesByNode = Dictionary(uses.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        for i in try graph.topologicalOrder() {
            let n = graph.nodes[i]
            for name in n.subgraphs.flatMap({ $0.outerScopeReads() }) {
                if let l = d.plan.layouts[name] { d.block(l, "read inside a subgraph of \(d.label(i))") }
            }
            let slots = n.inputs.indices.filter { !n.inputs[$0].isEmpty && d.plan.layouts[n.inputs[$0]] != nil }
            if !slots.isEmpty { d.follow(i, n, slots) }
            if let use = usesByNode[i] { d.makeSpace(i, n, use) }
        }
        for out in graph.outputs {
            if let l = d.plan.layouts[out.name] { d.block(l, "reaches the graph output '\(out.name)'") }
        }
        return d.plan
    }

    func label(_ i: Int) -> String {
        let n = graph.nodes[i]
        return n.name.isEmpty ? "\(n.opType) #\(i)" : "\(n.opType) '\(n.name)'"
    }

    mutating func block(_ l: ChannelLayout, _ reason: String) {
        for s in l.spaces { plan.spaces.block(s, reason) }
    }

    mutating func blockInputs(_ n: Node, _ slots: [Int], _ reason: String) {
        for s in slots { block(plan.layouts[n.inputs[s]]!, reason) }
    }

    /// An initializer whose bytes can be cut (not a segment, whole bytes per element).
    func editable(_ name: String) -> Tensor? {
        guard let i = index.initializer[name] else { return nil }
        let t = graph.initializers[i]
        guard t.segment == nil, t.bytes != nil, t.elementType.bitWidth >= 8 else { return nil }
        return t
    }

    mutating func keep(_ i: Int, _ slot: Int, axis: Int, _ l: ChannelLayout) {
        plan.edits.append(ChannelEdit(node: i, slot: slot, kind: .keep(axis: axis, layout: l)))
    }

    // MARK: producers

    /// Gives node `i`'s output a new channel space when its weight is prunable and its output
    /// channels can be told apart; otherwise records why not.
    mutating func makeSpace(_ i: Int, _ n: Node, _ use: WeightUse) {
        if let reason = use.skipReason {
            plan.notProducing[i] = reason
            return
        }
        let w = graph.initializers[use.initializer]
        guard use.slot == 1, let out = n.outputs.first else {
            plan.notProducing[i] = "the weight is its first input"
            return
        }
        guard index.readers(of: w.name).count == 1 else {
            plan.notProducing[i] = "its weight is shared with other nodes"
            return
        }
        var channels: Int, weightAxis: Int, outAxis: Int
        switch n.opType {
        case "Conv", "ConvTranspose":
            guard n.int("group", 1) == 1 else {
                plan.notProducing[i] =
                    plan.groupEdits[i] != nil ? "depthwise: follows its input's channels" : "grouped convolution"
                return
            }
            weightAxis = n.opType == "Conv" ? 0 : 1
            guard w.shape.count >= 3 else {
                plan.notProducing[i] = "weight of rank \(w.shape.count)"
                return
            }
            channels = w.shape[weightAxis]
            outAxis = 1
        case "Gemm":
            guard w.shape.count == 2 else {
                plan.notProducing[i] = "weight of rank \(w.shape.count)"
                return
            }
            weightAxis = n.int("transB", 0) == 0 ? 1 : 0
            channels = w.shape[weightAxis]
            outAxis = 1
        default:
            guard w.shape.count == 2, let rank = shapes[out]?.count, rank >= 1 else {
                plan.notProducing[i] = "weight of rank \(w.shape.count)"
                return
            }
            weightAxis = 1
            channels = w.shape[1]
            outAxis = rank - 1
        }
        guard channels >= 2 else {
            plan.notProducing[i] = "a single output channel"
            return
        }
        var biasAxis: Int?
        if n.opType != "MatMul", n.inputs.count > 2, !n.inputs[2].isEmpty {
            guard let b = editable(n.inputs[2]), let last = b.shape.last else {
                plan.notProducing[i] = "its bias is not a constant"
                return
            }
            guard last == channels || last == 1 else {
                plan.notProducing[i] = "its bias has shape \(b.shape)"
                return
            }
            if last == channels { biasAxis = b.shape.count - 1 }
        }
        let space = plan.spaces.make(channels: channels, producer: i)
        let layout = ChannelLayout(axis: outAxis, segments: [ChannelSegment(space: space, channels: channels, repeats: 1)])
        plan.producerSpace[i] = space
        plan.producerWeightAxis[i] = weightAxis
        keep(i, 1, axis: weightAxis, layout)
        if let biasAxis { keep(i, 2, axis: biasAxis, layout) }
        plan.layouts[out] = layout
    }
}
