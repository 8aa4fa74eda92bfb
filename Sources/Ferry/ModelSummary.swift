import FerryIR
import FerryKeras

/// What `ferry inspect` reports about a model: declared interface, operators and parameters.
public struct ModelSummary: Encodable {
    /// A declared graph input or output.
    public struct Value: Encodable {
        public var name: String
        /// The whole declared type as text: `float32[N,3,224,224]`.
        public var type: String
        /// The element type and the axes, for tools reading JSON; nil when not declared.
        public var dtype: String?
        public var shape: [ShapeAxis]?

        init(_ info: ValueInfo) {
            name = info.name
            type = info.type?.description ?? "?"
            if case .tensor(let t, let dims)? = info.type?.type {
                dtype = t.name
                shape = dims?.map(ShapeAxis.init)
            }
        }
    }
    /// One axis of a shape: a size, a symbol's name, or unknown (JSON: a number, a string, null).
    public enum ShapeAxis: Encodable, Sendable {
        case size(Int64)
        case symbol(String)
        case unknown

        public init(_ d: Dim) {
            switch d.value {
            case .fixed(let n): self = .size(n)
            case .symbol(let s): self = .symbol(s)
            case .unknown: self = .unknown
            }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .size(let n): try c.encode(n)
            case .symbol(let s): try c.encode(s)
            case .unknown: try c.encodeNil()
            }
        }

        /// `224`, `N`, `?`.
        public var text: String {
            switch self {
            case .size(let n): return String(n)
            case .symbol(let s): return s
            case .unknown: return "?"
            }
        }
    }
    /// Number of nodes with one op type.
    public struct OpCount: Encodable {
        public var op: String
        public var count: Int
    }
    /// Parameters of one element type.
    public struct ParameterGroup: Encodable {
        public var dtype: String
        public var count: Int
        public var bytes: Int
    }
    /// One stored tensor (initializer or Constant value).
    public struct TensorRow: Encodable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var bytes: Int
        public var source: String
    }

    public var file: String
    public var format: String
    public var irVersion: Int64?
    public var opsets: [String: Int64]
    public var producer: String
    public var graphName: String
    public var inputs: [Value]
    public var outputs: [Value]
    public var nodeCount: Int
    public var ops: [OpCount]
    public var parameterCount: Int
    public var parameterBytes: Int
    public var parametersByDtype: [ParameterGroup]
    public var tensors: [TensorRow]?
    /// The model's metadata (ONNX metadata_props, safetensors and HDF5 attributes, a PyTorch
    /// checkpoint's non-tensor entries), in file order.
    public var metadata: [MetadataEntry]
    /// For Keras files, the layers as `model.summary()` lists them.
    public var kerasLayers: [KerasLayerSummary]?
    /// External data files the model names but that are not there (its structure is still shown).
    public var missingFiles: [String]

    /// One metadata key and its value.
    public struct MetadataEntry: Codable, Sendable {
        public var key: String
        public var value: String
    }

    /// Summarises `loaded`; `includeTensors` fills `tensors`.
    public init(_ loaded: LoadedModel, file: String, includeTensors: Bool) {
        let model = loaded.model
        self.file = file
        missingFiles = loaded.missingFiles
        format = loaded.format.rawValue
        irVersion = model.irVersion
        opsets = Dictionary(
            model.opsetImports.map { ($0.domain.isEmpty ? "ai.onnx" : $0.domain, $0.version) }, uniquingKeysWith: { a, _ in a })
        producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        graphName = model.graph.name
        metadata = model.metadata.map { MetadataEntry(key: $0.key, value: $0.value) }
        inputs = model.graph.runtimeInputs.map(Value.init)
        outputs = model.graph.outputs.map(Value.init)

        var histogram: [String: Int] = [:]
        var rows: [TensorRow] = []
        func visit(_ g: Graph, prefix: String) {
            for t in g.initializers {
                rows.append(
                    TensorRow(
                        name: t.name, dtype: t.elementType.name, shape: t.shape, bytes: t.byteCount,
                        source: prefix + "initializer"))
            }
            for s in g.sparseInitializers {
                rows.append(
                    TensorRow(
                        name: s.name, dtype: s.values.elementType.name, shape: s.shape,
                        bytes: s.values.byteCount + s.indices.byteCount, source: prefix + "sparse initializer"))
            }
            for n in g.nodes {
                let op = n.qualifiedOpType
                histogram[op, default: 0] += 1
                if n.isONNX("Constant"), case .tensor(let t)? = n.attribute("value") {
                    rows.append(
                        TensorRow(
                            name: n.outputs.first ?? t.name, dtype: t.elementType.name, shape: t.shape,
                            bytes: t.byteCount, source: prefix + "Constant"))
                }
                for sub in n.subgraphs { visit(sub, prefix: prefix + "subgraph ") }
            }
        }
        visit(model.graph, prefix: "")
        nodeCount = histogram.values.reduce(0, +)
        ops = histogram.map { OpCount(op: $0.key, count: $0.value) }.sorted { ($0.count, $1.op) > ($1.count, $0.op) }

        var groups: [String: ParameterGroup] = [:]
        // Sums saturate: a file may declare shapes (sparse tensors, segments) far larger than its data.
        func add(_ a: Int, _ b: Int) -> Int {
            let (sum, overflow) = a.addingReportingOverflow(b)
            return overflow ? Int.max : sum
        }
        for r in rows {
            var group = groups[r.dtype] ?? ParameterGroup(dtype: r.dtype, count: 0, bytes: 0)
            group.count = add(group.count, Tensor.elementCount(of: r.shape) ?? Int.max)
            group.bytes = add(group.bytes, r.bytes)
            groups[r.dtype] = group
        }
        parametersByDtype = groups.values.sorted { $0.bytes > $1.bytes || ($0.bytes == $1.bytes && $0.dtype < $1.dtype) }
        parameterCount = parametersByDtype.reduce(0) { add($0, $1.count) }
        parameterBytes = parametersByDtype.reduce(0) { add($0, $1.bytes) }
        tensors = includeTensors ? rows : nil
        kerasLayers = loaded.kerasLayers
    }
}
