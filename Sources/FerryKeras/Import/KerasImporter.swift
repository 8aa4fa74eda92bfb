import FerryIR

/// Converts a Keras model configuration and its weights into the IR. Layers are converted by the
/// registry of per-family converters; tensors keep the layout that suits the ops around them.
final class KerasImporter {
    let file: String
    let weights: KerasWeightStore
    /// Keras 3 defines hard_sigmoid as relu6(x + 3) / 6; Keras 2 as clip(0.2x + 0.5, 0, 1).
    let keras3: Bool
    let channelsFirstInputs: Bool
    let builder = GraphBuilder()
    let converters: [String: LayerConverter]
    /// One row per layer call, in call order (what `model.summary()` lists).
    private(set) var summary: [KerasLayerSummary] = []

    init(file: String, weights: KerasWeightStore, keras3: Bool, channelsFirstInputs: Bool) {
        self.file = file
        self.weights = weights
        self.keras3 = keras3
        self.channelsFirstInputs = channelsFirstInputs
        var registry: [String: LayerConverter] = [:]
        CoreLayers.register(into: &registry)
        ActivationLayers.register(into: &registry)
        ConvolutionLayers.register(into: &registry)
        PoolingLayers.register(into: &registry)
        NormalizationLayers.register(into: &registry)
        ReshapingLayers.register(into: &registry)
        MergeLayers.register(into: &registry)
        RecurrentLayers.register(into: &registry)
        PreprocessingLayers.register(into: &registry)
        converters = registry
    }

    /// Imports the whole model: a graph with one input per Keras input and one output per Keras output.
    func importModel(_ spec: KerasModelSpec) throws -> Graph {
        let inputs = try modelInputs(spec)
        var graphInputs: [ValueInfo] = []
        var fed: [KTensor] = []
        for (name, shape, type) in inputs {
            builder.reserve(name)
            let rank = shape.count
            let physical = channelsFirstInputs && rank >= 3 ? KTensor.toFirst(rank: rank).map { shape[$0] } : shape
            guard rank >= 1 else { throw KerasError.invalidConfig(file: file, reason: "input '\(name)' has no axes") }
            graphInputs.append(ValueInfo(name: name, type: TypeInfo(.tensor(type, shape: physical.map { dim($0) }))))
            // Keras computes in float32 whatever the input type: cast once at the input.
            let value =
                type == .float
                ? name : builder.op1("Cast", [name], [.int("to", Int(ElementType.float.rawValue))], name: name + "_float")
            fed.append(
                channelsFirstInputs && rank >= 3 ? KTensor(shape: shape, first: value) : KTensor(shape: shape, last: value))
        }
        // Graph outputs keep the Keras output layers' names; reserve them before any node is named.
        let outputNames = (spec.isSequential ? [spec.layers.last?.name ?? "output"] : spec.outputs.map(\.layer)).map {
            builder.unique($0)
        }
        let outs = try run(spec, inputs: fed, path: [])
        var graphOutputs: [ValueInfo] = []
        for (i, t) in outs.enumerated() {
            let value = try keras(t, name: "output")
            let out = i < outputNames.count ? outputNames[i] : builder.unique("output_\(i)")
            builder.op("Identity", [value], name: out + "_identity")
            builder.renameLastOutput(to: out)
            graphOutputs.append(ValueInfo(name: out, type: TypeInfo(.tensor(.float, shape: t.shape.map { dim($0) }))))
        }
        builder.removeUnreadTransposes(keeping: Set(graphOutputs.map(\.name)))
        return Graph(
            name: spec.name, nodes: builder.nodes, initializers: builder.initializers,
            inputs: graphInputs, outputs: graphOutputs)
    }

    private func dim(_ d: Int?) -> Dim { d.map { .fixed(Int64($0)) } ?? .symbol("N") }

    /// The declared inputs of a model (name, Keras shape, element type): InputLayers, or a
    /// Sequential's first layer's input shape.
    private func modelInputs(_ spec: KerasModelSpec) throws -> [(String, [Int?], ElementType)] {
        func declared(_ layer: KerasLayerSpec, name: String) throws -> (String, [Int?], ElementType) {
            let c = LayerConfig(dict: layer.config)
            guard let shape = c.shape("batch_shape") ?? c.shape("batch_input_shape") else {
                throw KerasError.invalidConfig(file: file, reason: "input '\(name)' declares no shape")
            }
            guard shape.allSatisfy({ $0 == nil || (0...(1 << 31)).contains($0!) }) else {
                throw KerasError.invalidConfig(
                    file: file, reason: "input '\(name)' has shape \(shape.map { $0.map(String.init) ?? "None" })")
            }
            let dtype =
                c.string("dtype") ?? ((layer.config["dtype"] as? [String: Any])?["config"] as? [String: Any])?["name"] as? String
            let types: [String: ElementType] = [
                "float32": .float, "float64": .double, "float16": .float16,
                "int32": .int32, "int64": .int64, "uint8": .uint8, "bool": .bool
            ]
            return (name, shape, dtype.flatMap { types[$0] } ?? .float)
        }
        if spec.isSequential {
            guard let first = spec.layers.first else {
                throw KerasError.invalidConfig(file: file, reason: "empty Sequential model")
            }
            return [try declared(first, name: first.className == "InputLayer" ? first.name : "input")]
        }
        return try spec.inputs.map { ref in
            guard let layer = spec.layers.first(where: { $0.name == ref.layer }) else {
                throw KerasError.invalidConfig(file: file, reason: "input layer '\(ref.layer)' is not among the layers")
            }
            return try declared(layer, name: ref.layer)
        }
    }

    /// Runs a (possibly nested) model on `inputs`; returns its outputs. `path` locates its weights.
    func run(_ spec: KerasModelSpec, inputs: [KTensor], path: [String]) throws -> [KTensor] {
        if spec.isSequential {
            var x = inputs
            for layer in spec.layers where layer.className != "InputLayer" {
                x = try apply(layer, to: x, path: path)
            }
            return x
        }
        // Functional: evaluate calls once all their inputs exist (config order is usually already topological).
        let offsets = callOffsets(spec)
        func resolve(_ ref: KerasTensorRef) throws -> KerasTensorRef {
            guard let layer = spec.layers.first(where: { $0.name == ref.layer }) else { return ref }
            if layer.className == "InputLayer" { return KerasTensorRef(layer: ref.layer, node: 0, tensor: 0) }
            let call = ref.node - (offsets[layer.name] ?? 0)
            guard call >= 0, call < layer.calls.count else {
                throw KerasError.invalidGraph(
                    file: file,
                    reason:
                        "a tensor of layer '\(layer.name)' comes from its call \(ref.node), but the layer is called \(layer.calls.count) times"
                )
            }
            return KerasTensorRef(layer: ref.layer, node: call, tensor: ref.tensor)
        }
        var values: [KerasTensorRef: KTensor] = [:]
        for (ref, t) in zip(spec.inputs, inputs) { values[KerasTensorRef(layer: ref.layer, node: 0, tensor: 0)] = t }
        var pending: [(KerasLayerSpec, Int)] = spec.layers.flatMap { l in l.calls.indices.map { (l, $0) } }
        while !pending.isEmpty {
            var progressed = false
            var rest: [(KerasLayerSpec, Int)] = []
            for (layer, call) in pending {
                let args = try layer.calls[call].map { values[try resolve($0)] }
                guard args.allSatisfy({ $0 != nil }) else {
                    rest.append((layer, call))
                    continue
                }
                let outs = try apply(
                    layer, to: args.map { $0! }, path: path, kwargs: call < layer.callKwargs.count ? layer.callKwargs[call] : [:])
                for (k, t) in outs.enumerated() { values[KerasTensorRef(layer: layer.name, node: call, tensor: k)] = t }
                progressed = true
            }
            guard progressed else {
                let names = rest.prefix(3).map { "'\($0.0.name)'" }.joined(separator: ", ")
                throw KerasError.invalidGraph(file: file, reason: "layers \(names) read tensors that no layer produces")
            }
            pending = rest
        }
        return try spec.outputs.map { ref in
            guard let t = values[try resolve(ref)] else {
                throw KerasError.invalidGraph(file: file, reason: "output '\(ref.layer)' is not produced by any layer")
            }
            return t
        }
    }

    /// How the configuration numbers each nested model's calls. Keras 2 and tf.keras count a
    /// nested model's own construction as its node 0 when it starts from an InputLayer, so the
    /// calls are nodes 1...n; Keras 3 numbers the calls from 0. The references decide where they
    /// can (a node n is only possible from 1, a node 0 only from 0); otherwise the dialect does.
    private func callOffsets(_ spec: KerasModelSpec) -> [String: Int] {
        var referenced: [String: Set<Int>] = [:]
        for ref in spec.layers.flatMap({ $0.calls.joined() }) + spec.outputs {
            referenced[ref.layer, default: []].insert(ref.node)
        }
        var offsets: [String: Int] = [:]
        for layer in spec.layers where layer.isModel {
            let nodes = referenced[layer.name] ?? []
            if nodes.contains(layer.calls.count) {
                offsets[layer.name] = 1
            } else if nodes.contains(0) {
                offsets[layer.name] = 0
            } else {
                let firstLayer = (layer.config["layers"] as? [[String: Any]])?.first?["class_name"] as? String
                offsets[layer.name] = !keras3 && (layer.className != "Sequential" || firstLayer == "InputLayer") ? 1 : 0
            }
        }
        return offsets
    }

    /// Converts one call of one layer.
    private func apply(_ layer: KerasLayerSpec, to inputs: [KTensor], path: [String], kwargs: [String: Any] = [:]) throws
        -> [KTensor]
    {
        if layer.isModel {
            let nested = try KerasModelSpec(json: ["class_name": layer.className, "config": layer.config])
            return try run(nested, inputs: inputs, path: path + [layer.name])
        }
        guard let convert = converters[layer.converterKey] else {
            throw KerasError.unsupportedLayer(file: file, layer: layer.name, className: layer.className)
        }
        guard !inputs.isEmpty || layer.className == "InputLayer" else {
            throw KerasError.invalidGraph(file: file, reason: "layer '\(layer.name)' is called on no tensors")
        }
        var call = LayerCall(importer: self, spec: layer, inputs: inputs, weights: try weights.weights(for: path + [layer.name]))
        call.kwargs = kwargs
        let outputs = try convert(call)
        // a shared layer (called more than once) is one layer with one set of weights, as Keras's summary counts it
        let name = (path + [layer.name]).joined(separator: "/")
        if !summary.contains(where: { $0.name == name }) {
            summary.append(
                KerasLayerSummary(
                    name: name, className: layer.className, outputShapes: outputs.map(\.shape),
                    parameters: call.weights.reduce(0) { $0 + (Tensor.elementCount(of: $1.shape) ?? 0) }))
        }
        return outputs
    }

    // MARK: layouts

    /// The tensor in Keras (channels-last) layout.
    func keras(_ t: KTensor, name: String) throws -> String {
        if let v = t.last { return v }
        if let f = t.first {
            let v = builder.transpose(f, KTensor.toLast(rank: t.rank), name: name + "_to_nhwc")
            t.last = v
            return v
        }
        if let tm = t.timeMajor {
            let v = builder.transpose(tm, [1, 0, 2], name: name + "_batch_major")
            t.last = v
            return v
        }
        if let (inner, steps) = t.folded {
            let rest = t.shape.dropFirst(2).map { $0 ?? -1 }
            let v = builder.op1(
                "Reshape", [try keras(inner, name: name), builder.int64s(name + "_unfold", [-1, steps] + rest)],
                name: name + "_unfold")
            t.last = v
            return v
        }
        if let flat = t.flatPermuted {
            // Bring the columns back to Keras order: Keras feature i is column order[i].
            let v = builder.op1(
                "Gather", [flat.name, builder.int64s(name + "_order", flat.order)], [.int("axis", 1)], name: name + "_reorder")
            t.last = v
            return v
        }
        throw KerasError.invalidGraph(file: file, reason: "internal: tensor without a value")
    }

    /// A rank-3 tensor time-major (time, batch, features).
    func timeMajor(_ t: KTensor, name: String) throws -> String {
        if let v = t.timeMajor { return v }
        let v = builder.transpose(try keras(t, name: name), [1, 0, 2], name: name + "_time_major")
        t.timeMajor = v
        return v
    }

    /// The tensor channels-first (N, C, spatial...); rank 1 and 2 tensors have only one layout.
    func channelsFirst(_ t: KTensor, name: String) throws -> String {
        if t.rank < 3 { return try keras(t, name: name) }
        if let v = t.first { return v }
        let v = builder.transpose(try keras(t, name: name), KTensor.toFirst(rank: t.rank), name: name + "_to_nchw")
        t.first = v
        return v
    }
}
