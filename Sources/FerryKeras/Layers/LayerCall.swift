import FerryIR

/// Converts one call of a Keras layer into IR nodes and returns its outputs.
typealias LayerConverter = (LayerCall) throws -> [KTensor]

/// Everything a converter sees: the layer's config and weights, its inputs, and the importer.
struct LayerCall {
    let importer: KerasImporter
    let spec: KerasLayerSpec
    let inputs: [KTensor]
    let weights: [Tensor]
    /// Keyword arguments of this call.
    var kwargs: [String: Any] = [:]

    var config: LayerConfig { LayerConfig(dict: spec.config) }
    var b: GraphBuilder { importer.builder }
    var name: String { spec.name }
    var x: KTensor { inputs[0] }

    func unsupported(_ option: String) -> KerasError {
        .unsupportedOption(file: importer.file, layer: spec.name, className: spec.className, option: option)
    }

    func weightError(_ reason: String) -> KerasError {
        .weights(file: importer.file, layer: spec.name, reason: reason)
    }

    /// Checks the layer has `count` weights with the given shapes (nil entries are not checked).
    func expectWeights(_ shapes: [[Int]?]) throws {
        guard weights.count == shapes.count else {
            throw weightError("expected \(shapes.count) weights for this configuration, the file has \(weights.count)")
        }
        for (w, s) in zip(weights, shapes) {
            if let s, w.shape != s { throw weightError("weight '\(w.name)' has shape \(w.shape), the configuration needs \(s)") }
            guard w.elementType == .float || w.elementType == .float16 || w.elementType == .double else {
                throw weightError("weight '\(w.name)' is \(w.elementType.name); only floating-point weights are converted")
            }
        }
    }

    /// Weight `i` as float32 values.
    func floats(_ i: Int) -> [Float] { weights[i].float32Values }

    /// The input in Keras layout.
    func keras(_ t: KTensor) throws -> String { try importer.keras(t, name: spec.name) }

    /// The input channels-first.
    func channelsFirst(_ t: KTensor) throws -> String { try importer.channelsFirst(t, name: spec.name) }

    /// The size of axis `i` of the input, which this layer needs known.
    func known(_ t: KTensor, _ i: Int) throws -> Int {
        guard i >= 0, i < t.rank else { throw unsupported("axis \(i) of a rank-\(t.rank) input") }
        guard let d = t.shape[i] else { throw unsupported("an input of unknown size on axis \(i)") }
        return d
    }

    /// A Keras axis (negative counts from the end) checked against `rank`.
    func axis(_ a: Int, rank: Int) throws -> Int {
        let n = a < 0 ? a + rank : a
        guard n >= 0, n < rank else { throw unsupported("axis \(a) of a rank-\(rank) input") }
        return n
    }
}

extension Tensor {
    /// The elements as float32 (float16 and float64 weights are converted).
    var float32Values: [Float] {
        guard let b = bytes else { return [] }
        switch elementType {
        case .float: return b.toArray(of: Float.self)
        case .double: return b.toArray(of: Double.self).map { Float($0) }
        case .float16: return b.toArray(of: UInt16.self).map { Float(Float16(bitPattern: $0)) }
        default: return []
        }
    }

    /// This tensor as float32: itself (sharing its bytes) when it already is.
    var asFloat32: Tensor {
        elementType == .float ? self : Tensor(name: name, elementType: .float, shape: shape, values: float32Values)
    }

    /// A float32 tensor with this one's values moved so that output axis k is input axis perm[k],
    /// written once, straight into the new buffer.
    func permuted(_ perm: [Int]) -> Tensor {
        let source = asFloat32
        let outShape = perm.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let count = Tensor.elementCount(of: shape) ?? 0
        let strides = perm.map { inStrides[$0] }
        let bytes = source.bytes!.withUnsafeBufferPointer(as: Float.self) { src in
            TensorBytes(count: count * 4) { raw in
                let out = raw.bindMemory(to: Float.self)
                var walk = StridedWalk(shape: outShape, strides: strides)
                for o in 0..<count {
                    out[o] = src[walk.offset]
                    walk.advance()
                }
            }
        }
        return Tensor(name: name, elementType: .float, shape: outShape, storage: .bytes(bytes))
    }
}
