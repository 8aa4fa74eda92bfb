import FerryIR
import FerryRewrite

/// `ferry prune`'s pass: magnitude (unstructured) or channel (structured) pruning of a model's
/// Conv, ConvTranspose, Gemm and MatMul weights.
public enum Pruning {
    /// Prunes `model` in place and reports what changed. Values computed from constants only
    /// (Constant nodes, constant subgraphs) are first stored as initializers so their weights can
    /// be pruned. Channel pruning needs the model to run on its declared input shapes (to know
    /// every value's shape) and checks that the pruned model still runs.
    public static func prune(_ model: inout Model, options: PruneOptions) throws -> PruneReport {
        try options.validate()
        try model.graph.checkExclusions(options.exclude)
        var notes: [String] = []
        Progress.report("pruning", done: 0, total: 4)
        do {
            let folded = try ConstantFolding.materialize(&model)
            if folded > 0 { notes.append("\(folded) values computed from constants alone were stored as initializers") }
        } catch {
            notes.append("constants left as computed: \(error)")
        }
        Progress.report("pruning", done: 1, total: 4)
        let shapesBefore: [String: [Int]]?
        do {
            shapesBefore = try ValueShapes.probe(model, given: options.inputShapes)
        } catch {
            if options.method == .channels { throw error }
            notes.append("multiply-adds not counted: \(error)")
            shapesBefore = nil
        }
        Progress.report("pruning", done: 2, total: 4)
        let before = ModelCost(model.graph, shapes: shapesBefore)
        let uses = PrunableWeights.find(model.graph, options: options)
        let original = model.graph
        var report = PruneReport(
            method: options.method.rawValue, scope: options.method == .magnitude ? options.scope.rawValue : nil,
            sparsity: options.sparsity, minElements: options.minElements, exclude: options.exclude,
            before: before, after: before, notes: notes)
        switch options.method {
        case .magnitude:
            let pruned = MagnitudePruning.apply(&model.graph, uses: uses, options: options)
            report.layers = layers(uses, original, model.graph) { use in
                let zeros = model.graph.initializers[use.initializer].floatValues.map { v in
                    Double(v.filter { $0 == 0 }.count) / Double(max(v.count, 1))
                }
                return (use.skipReason == nil, use.skipReason, zeros, nil, nil)
            }
            let values = pruned.flatMap { model.graph.initializers[$0].floatValues ?? [] }
            report.prunedWeightsZerosFraction =
                values.isEmpty ? nil : Double(values.filter { $0 == 0 }.count) / Double(values.count)
        case .channels:
            let plan = try ChannelDependencies.plan(model.graph, shapes: shapesBefore!, uses: uses)
            let kept = ChannelPruning.keptChannels(model.graph, plan, sparsity: options.sparsity)
            ChannelPruning.rewrite(&model, plan, kept: kept)
            report.layers = layers(uses, original, model.graph) { use in
                guard let space = plan.producerSpace[use.node] else {
                    return (false, plan.notProducing[use.node] ?? use.skipReason, nil, nil, nil)
                }
                let root = plan.spaces.root(space)
                let channels = plan.spaces.channels[root]
                let blocked = plan.spaces.blocked[root]
                return (
                    kept[root] != nil, blocked.isEmpty ? nil : reasonText(blocked), nil, channels, kept[root]?.count ?? channels
                )
            }
            report.groups = groups(plan, kept, original)
        }
        GraphCleanup.declareInitializerInputs(&model.graph, irVersion: model.irVersion)
        Progress.report("pruning", done: 3, total: 4)
        do {
            report.after = ModelCost(
                model.graph, shapes: shapesBefore == nil ? nil : try ValueShapes.probe(model, given: options.inputShapes))
        } catch {
            throw PassError.unsupported(subject: "pruned model", reason: "does not run any more: \(error)")
        }
        Progress.report("pruning", done: 4, total: 4)
        return report
    }

    /// The first three reasons, and how many more there are.
    private static func reasonText(_ reasons: [String]) -> String {
        reasons.prefix(3).joined(separator: "; ") + (reasons.count > 3 ? "; and \(reasons.count - 3) more" : "")
    }

    /// One report line per weight use; `describe` gives (pruned, reason, zeros, channels, kept).
    private static func layers(
        _ uses: [WeightUse], _ before: Graph, _ after: Graph,
        _ describe: (WeightUse) -> (Bool, String?, Double?, Int?, Int?)
    ) -> [PruneReport.Layer] {
        let index = GraphIndex(after)
        return uses.map { use in
            let n = after.nodes[use.node]
            let weight = n.inputs[use.slot]
            let shapeAfter = index.initializer[weight].map { after.initializers[$0].shape } ?? []
            var (pruned, reason, zeros, channels, kept) = describe(use)
            let shapeBefore = before.initializers[use.initializer].shape
            if !pruned && shapeBefore != shapeAfter {
                pruned = true
                reason =
                    reason.map { $0.hasPrefix("depthwise") ? $0 : "input channels cut; output channels kept: \($0)" }
                    ?? "input channels cut"
            }
            return PruneReport.Layer(
                node: n.name.isEmpty ? "#\(use.node)" : n.name, op: n.opType, weight: weight,
                shapeBefore: shapeBefore, shapeAfter: shapeAfter, zerosFraction: zeros,
                channelsBefore: channels, channelsKept: kept, pruned: pruned, reason: reason)
        }
    }

    /// The channel spaces that element-wise ops join with other values (residual Adds,
    /// squeeze-excite Muls, ...).
    private static func groups(_ plan: ChannelPlan, _ kept: [Int: [Int]], _ graph: Graph) -> [PruneReport.ChannelGroup] {
        plan.spaces.roots.filter { plan.spaces.joined[$0] }.map { root in
            let blocked = plan.spaces.blocked[root]
            let channels = plan.spaces.channels[root]
            return PruneReport.ChannelGroup(
                layers: plan.spaces.producers[root].sorted().map {
                    graph.nodes[$0].name.isEmpty ? "#\($0)" : graph.nodes[$0].name
                },
                channels: channels, kept: kept[root]?.count ?? channels, pruned: kept[root] != nil,
                reason: blocked.isEmpty ? (kept[root] == nil ? "nothing to remove at this sparsity" : nil) : reasonText(blocked))
        }
    }
}
