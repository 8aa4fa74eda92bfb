import FerryIR

/// Options of the conversion of a model's float32 weights and compute to float16 or bfloat16
/// (`ferry convert --dtype`).
public struct HalfPrecisionOptions: Sendable {
    /// `.float16` or `.bfloat16`.
    public var type: ElementType
    /// Keep float32 graph inputs and outputs, converting at the graph's edges.
    public var keepIOTypes = false
    /// Op types and node names left in float32 (with conversions around them).
    public var exclude: [String] = []

    public init(type: ElementType, keepIOTypes: Bool = false, exclude: [String] = []) {
        self.type = type
        self.keepIOTypes = keepIOTypes
        self.exclude = exclude
    }
}

/// What a half-precision conversion did.
public struct HalfPrecisionReport: Sendable {
    /// float32 initializers and constants stored in half precision.
    public var convertedTensors = 0
    /// Tensors holding values beyond float16's range (±65504), clamped to it, with how many.
    public var clamped: [(tensor: String, count: Int)] = []
    /// Nodes computing in float32: excluded, of ops without half-precision inputs, holding
    /// subgraphs, of other domains, or only feeding float32 inputs (Resize's scales...).
    public var keptInFloat32: [String] = []
    /// Casts added between float32 and half-precision parts.
    public var castsAdded = 0
    /// The model was upgraded from opset 11 or 12 to 13, where bfloat16 starts.
    public var upgradedToOpset13 = false
}

/// Converts a model's float32 tensors and computation to float16 or bfloat16: every float32 value
/// becomes a half-precision one, except where an op's input must stay float32 (Resize's `roi` and
/// `scales`, Upsample's `scales`) and in nodes kept in float32, which get Casts on their edges.
/// Casts and constant-making ops that write float32 (`to`, `dtype`, `value`) write the half type;
/// initializers are rounded to nearest even, float16 ones clamped to its range. A node is kept in
/// float32 when excluded, when its op's schema at the model's opset takes no such type
/// (`OpsetHistory.takes`: bfloat16 Conv and pooling need opset 22), when it quantizes, holds subgraphs
/// or belongs to another domain than ONNX's, or when every float32 value it writes only feeds float32
/// inputs (the arithmetic of Resize scales, for instance). With `keepIOTypes`, float32 graph inputs
/// and outputs stay float32. bfloat16 graphs need opset 13 (Cast's first with it): opsets 11 and 12
/// are upgraded first.
public enum HalfPrecisionConversion {
    /// Ops kept in float32 whatever their schema allows: the quantization ops.
    static let float32Ops: Set<String> = [
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul",
        "ConvInteger", "MatMulInteger"
    ]

    /// Input slots that take float32 whatever the op's data type, by op (Resize-10 reads scales at 1).
    static func float32Slots(_ node: Node, opset: Int64) -> Set<Int> {
        switch node.opType {
        case "Resize": return opset < 11 ? [1] : [1, 2]
        case "Upsample": return [1]
        default: return []
        }
    }

    /// Ops whose `dtype` attribute names their output type.
    static let dtypeOps: Set<String> = ["EyeLike", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike"]

    public static func convert(_ model: Model, _ options: HalfPrecisionOptions) throws -> (Model, HalfPrecisionReport) {
        guard options.type == .float16 || options.type == .bfloat16 else {
            throw PassError.invalidOption(option: "dtype", reason: "\(options.type.name) is not float16 or bfloat16")
        }
        try model.graph.checkExclusions(options.exclude)
        var model = model
        var upgraded = false
        if options.type == .bfloat16 && !model.graph.nodes.isEmpty && model.defaultOpset < 13 {
            // Cast (and most ops) take bfloat16 from opset 13.
            try OpsetConversion(target: 13).apply(to: &model)
            upgraded = true
        }
        var conversion = Conversion(model: model, options: options)
        conversion.report.upgradedToOpset13 = upgraded
        try conversion.run()
        return (conversion.model, conversion.report)
    }

    /// The state of one conversion of the main graph.
    private struct Conversion {
        var model: Model
        let options: HalfPrecisionOptions
        var report = HalfPrecisionReport()
        var names: NameAllocator
        let opset: Int64
        let types: [String: ElementType]
        /// The (node, input slot) pairs that read each float32 value.
        let readers: [String: [(node: Int, slot: Int)]]
        let graphOutputs: Set<String>

        init(model: Model, options: HalfPrecisionOptions) {
            self.model = model
            self.options = options
            names = NameAllocator(model)
            opset = model.defaultOpset
            let types = ElementTypeInference.infer(model.graph)
            self.types = types
            var readers: [String: [(node: Int, slot: Int)]] = [:]
            for (i, n) in model.graph.nodes.enumerated() {
                for (k, name) in n.inputs.enumerated() where !name.isEmpty && types[name] == .float {
                    readers[name, default: []].append((i, k))
                }
            }
            self.readers = readers
            graphOutputs = Set(model.graph.outputs.map(\.name))
        }

        var half: ElementType { options.type }

        func isFloat(_ name: String) -> Bool { !name.isEmpty && types[name] == .float }

        /// The nodes kept in float32 (indices): the ones that must be, and the ones whose float32
        /// values only feed float32 inputs (or such nodes), found by growing that set to a fixed point.
        /// An excluded node's inputs do not spread float32 upstream: they get Casts.
        func keptNodes() -> Set<Int> {
            let g = model.graph, excluded = Set(options.exclude)
            var forced = Set<Int>()
            for (i, n) in g.nodes.enumerated()
            where excluded.contains(n.name) || excluded.contains(n.opType) || float32Ops.contains(n.opType)
                || !n.isDefaultDomain || !n.subgraphs.isEmpty || !takesHalf(n.opType)
            {
                forced.insert(i)
            }
            var feeders = Set<Int>(), changed = true
            while changed {
                changed = false
                for (i, n) in g.nodes.enumerated() where !forced.contains(i) && !feeders.contains(i) {
                    let written = n.outputs.filter(isFloat)
                    guard !written.isEmpty,
                        written.allSatisfy({ name in
                            !graphOutputs.contains(name) && !(readers[name] ?? []).isEmpty
                                && readers[name]!.allSatisfy { wantsFloat32($0.node, $0.slot, feeders) }
                        })
                    else { continue }
                    feeders.insert(i)
                    changed = true
                }
            }
            return forced.union(feeders)
        }

        /// True when the op's schema at the model's opset lets it take the half type.
        func takesHalf(_ op: String) -> Bool { OpsetHistory.takes(op, half, at: opset) }

        func wantsFloat32(_ node: Int, _ slot: Int, _ kept: Set<Int>) -> Bool {
            kept.contains(node) || float32Slots(model.graph.nodes[node], opset: opset).contains(slot)
        }

        mutating func run() throws {
            let g = model.graph, kept = keptNodes()
            let captured = g.capturedValues.filter(isFloat)
            // Where each float32 value lives after the conversion: in float32 (written by a kept
            // node, read only as float32, or a kept graph input) or in the half type.
            var staysFloat32 = Set<String>()
            for (i, n) in g.nodes.enumerated() where kept.contains(i) { staysFloat32.formUnion(n.outputs.filter(isFloat)) }
            for t in g.initializers where t.elementType == .float {
                let r = readers[t.name] ?? []
                if !r.isEmpty && r.allSatisfy({ wantsFloat32($0.node, $0.slot, kept) }) && !graphOutputs.contains(t.name) {
                    staysFloat32.insert(t.name)
                }
            }
            staysFloat32.formUnion(captured)
            let overridable = model.overridableInitializers
            for v in g.inputs where isFloat(v.name) && (options.keepIOTypes || overridable.contains(v.name)) {
                staysFloat32.insert(v.name)
            }
            for v in g.inputs where captured.contains(v.name) && !staysFloat32.contains(v.name) {
                throw PassError.unsupported(
                    subject: "input '\(v.name)'", reason: "a subgraph reads it from outside; add --keep-io-types")
            }
            for name in captured
            where g.nodes.firstIndex(where: { $0.outputs.contains(name) }).map({ !kept.contains($0) }) ?? false {
                throw PassError.unsupported(
                    subject: "value '\(name)'",
                    reason: "a subgraph reads it from outside; --exclude the node that writes it")
            }

            var casts: [String: String] = [:] // "value>type" -> the cast's output
            var nodes: [Node] = []
            for (i, node) in g.nodes.enumerated() {
                var n = node
                for (k, name) in n.inputs.enumerated() where isFloat(name) {
                    let wanted: ElementType = wantsFloat32(i, k, kept) ? .float : half
                    let have: ElementType = staysFloat32.contains(name) ? .float : half
                    if wanted != have { n.inputs[k] = cast(name, to: wanted, &casts, &nodes) }
                }
                if kept.contains(i) {
                    report.keptInFloat32.append(node.name.isEmpty ? "#\(i) (\(node.opType))" : node.name)
                } else {
                    n.attributes = n.attributes.map { halfAttribute($0, of: n) }
                    // ConstantOfShape's default value is a float32 zero.
                    if n.opType == "ConstantOfShape", n.outputs.contains(where: isFloat),
                        !n.attributes.contains(where: { $0.name == "value" })
                    {
                        n.attributes.append(
                            Attribute("value", .tensor(Tensor(elementType: half, shape: [1], values: [UInt16(0)]))))
                    }
                }
                nodes.append(n)
            }
            // Graph outputs keep their names: one written in the other type is renamed and cast.
            var declaredOutputs = g.outputs
            for (j, v) in g.outputs.enumerated() where isFloat(v.name) {
                let wanted: ElementType = options.keepIOTypes ? .float : (staysFloat32.contains(v.name) ? .float : half)
                let have: ElementType = staysFloat32.contains(v.name) ? .float : half
                declaredOutputs[j] = v.withElementType(wanted)
                guard wanted != have else { continue }
                let inner = names.fresh(v.name + "/" + have.name)
                for m in nodes.indices {
                    nodes[m].outputs = nodes[m].outputs.map { $0 == v.name ? inner : $0 }
                    nodes[m].inputs = nodes[m].inputs.map { $0 == v.name ? inner : $0 }
                }
                nodes.append(castNode(inner, v.name, wanted))
            }
            model.graph.nodes = nodes
            model.graph.outputs = declaredOutputs
            model.graph.inputs = g.inputs.map {
                isFloat($0.name) && !staysFloat32.contains($0.name) ? $0.withElementType(half) : $0
            }
            model.graph.valueInfo = g.valueInfo.map {
                isFloat($0.name) && !staysFloat32.contains($0.name) ? $0.withElementType(half) : $0
            }
            model.graph.initializers = g.initializers.map { t in
                t.elementType == .float && !staysFloat32.contains(t.name) ? halfTensor(t) : t
            }
        }

        /// The name of `value` converted to `type`, adding the Cast before the node being built.
        mutating func cast(_ value: String, to type: ElementType, _ casts: inout [String: String], _ nodes: inout [Node])
            -> String
        {
            let key = value + ">" + type.name
            if let existing = casts[key] { return existing }
            let out = names.fresh(value + "/" + type.name)
            nodes.append(castNode(value, out, type))
            casts[key] = out
            return out
        }

        mutating func castNode(_ input: String, _ output: String, _ type: ElementType) -> Node {
            report.castsAdded += 1
            return Node(
                opType: "Cast", name: names.fresh(output + "/cast"), inputs: [input], outputs: [output],
                attributes: [Attribute("to", .int(Int64(type.rawValue)))])
        }

        /// `a` with float32 output types and values made half precision, for a converted node.
        mutating func halfAttribute(_ a: Attribute, of node: Node) -> Attribute {
            switch a.value {
            case .int(Int64(ElementType.float.rawValue))
            where a.name == "to" && node.opType == "Cast" || a.name == "dtype" && dtypeOps.contains(node.opType):
                return Attribute(a.name, .int(Int64(half.rawValue)), docString: a.docString)
            case .tensor(let t) where t.elementType == .float && (node.opType == "Constant" || node.opType == "ConstantOfShape"):
                return Attribute(a.name, .tensor(halfTensor(t)), docString: a.docString)
            case .float(let f) where node.opType == "Constant" && a.name == "value_float":
                return Attribute("value", .tensor(halfTensor(Tensor(elementType: .float, shape: [], values: [f]))))
            case .floats(let f) where node.opType == "Constant" && a.name == "value_floats":
                return Attribute("value", .tensor(halfTensor(Tensor(elementType: .float, shape: [f.count], values: f))))
            default:
                return a
            }
        }

        /// A float32 tensor rounded to the half type (to nearest even; float16 clamped to ±65504).
        mutating func halfTensor(_ t: Tensor) -> Tensor {
            guard let values = t.floatValues else { return t }
            report.convertedTensors += 1
            var clamped = 0
            let bits: [UInt16] = values.map { v in
                guard half == .float16 else { return v.bfloat16Bits }
                if v.isFinite && abs(v) > 65504 {
                    clamped += 1
                    return Float(v < 0 ? -65504 : 65504).halfBits
                }
                return v.halfBits
            }
            if clamped > 0 { report.clamped.append((t.name, clamped)) }
            var out = t
            out.elementType = half
            out.storage = .bytes(TensorBytes(copying: bits))
            return out
        }
    }
}
