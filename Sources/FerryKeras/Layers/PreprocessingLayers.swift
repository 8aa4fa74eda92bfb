import FerryIR
import Foundation

/// The preprocessing and utility layers keras.applications models use: Rescaling, Normalization,
/// LayerScale, StochasticDepth (the identity at inference), CustomScaleLayer (InceptionResNetV2's
/// residual scaling), and the arithmetic tf.keras records as TFOpLambda layers (x + 3, x * (1/6),
/// a residual sum written as `a + b`).
enum PreprocessingLayers {
    static func register(into r: inout [String: LayerConverter]) {
        r["Rescaling"] = { c in
            let scale = try numbers(c, "scale", default: 1), offset = try numbers(c, "offset", default: 0)
            return [try affine(c, c.x, axis: c.x.rank - 1, scale: scale, shift: offset)]
        }
        r["Normalization"] = normalization
        r["LayerScale"] = { c in
            let channels = try c.known(c.x, c.x.rank - 1)
            try c.expectWeights([[channels]])
            return [try affine(c, c.x, axis: c.x.rank - 1, scale: c.floats(0), shift: [0])]
        }
        r["StochasticDepth"] = { c in [c.x] }
        for (cls, op) in operations {
            r["ops." + cls] = { c in
                let args = c.kwargs[KerasLayerSpec.positionalArguments] as? [Any] ?? []
                guard args.count == 2 else { throw c.unsupported("\(args.count) operands") }
                return [try arithmetic(c, op, args[0], args[1])]
            }
        }
        for cls in ["CustomScaleLayer", "Custom>CustomScaleLayer"] {
            r[cls] = { c in
                guard c.inputs.count == 2 else {
                    throw c.unsupported("\(c.inputs.count) inputs (it takes the residual and the branch)")
                }
                let scale = try numbers(c, "scale", default: 1)
                guard scale.count == 1 else { throw c.unsupported("scale \(scale) (one number)") }
                let scaled = try affine(c, c.inputs[1], axis: c.inputs[1].rank - 1, scale: scale, shift: [0])
                return [try binary(c, "Add", c.inputs[0], scaled)]
            }
        }
    }

    /// Arithmetic tf.keras records as TFOpLambda: `function` x op y, y a number or a tensor.
    static let arithmetic: [String: String] = [
        "__operators__.add": "Add", "math.add": "Add", "math.multiply": "Mul",
        "__operators__.sub": "Sub", "math.subtract": "Sub", "math.truediv": "Div",
        "__operators__.truediv": "Div"
    ]

    /// Keras 3 operations on two operands (`x + 3`, `a * b`), tensors or numbers.
    static let operations: [String: String] = [
        "Add": "Add", "Subtract": "Sub", "Multiply": "Mul", "Divide": "Div", "TrueDivide": "Div"
    ]

    /// x op y of a TFOpLambda: x is the call's first tensor, y its `y` argument.
    static func tfOp(_ c: LayerCall, _ op: String) throws -> [KTensor] {
        [try arithmetic(c, op, KerasCallTensor(index: 0), c.kwargs["y"] as Any)]
    }

    /// a op b where each operand is one of the call's tensors (`KerasCallTensor`) or a number.
    static func arithmetic(_ c: LayerCall, _ op: String, _ a: Any, _ b: Any) throws -> KTensor {
        func tensor(_ v: Any) throws -> KTensor? {
            guard let ref = v as? KerasCallTensor else { return nil }
            guard ref.index < c.inputs.count else { throw c.unsupported("an operand that is not among the call's tensors") }
            return c.inputs[ref.index]
        }
        let ta = try tensor(a), tb = try tensor(b)
        if let ta, let tb { return try binary(c, op, ta, tb) }
        guard let t = ta ?? tb, let number = (ta == nil ? a : b) as? NSNumberLike else {
            throw c.unsupported("operands other than tensors and numbers")
        }
        let k = c.b.floats(c.name + "_constant", [], [number.floatValue])
        let useFirst = t.rank >= 3 && t.first != nil
        let x = useFirst ? t.first! : try c.keras(t)
        let y = c.b.op1(op, ta == nil ? [k, x] : [x, k], name: c.name)
        return useFirst ? KTensor(shape: t.shape, first: y) : KTensor(shape: t.shape, last: y)
    }

    /// a op b with broadcasting, channels-first when both already are.
    static func binary(_ c: LayerCall, _ op: String, _ a: KTensor, _ b: KTensor) throws -> KTensor {
        let shape = try broadcastShape(c, a.shape, b.shape)
        if shape.count >= 3, a.rank == b.rank, let fa = a.first, let fb = b.first {
            return KTensor(shape: shape, first: c.b.op1(op, [fa, fb], name: c.name))
        }
        return KTensor(shape: shape, last: c.b.op1(op, [try c.keras(a), try c.keras(b)], name: c.name))
    }

    /// The shape two Keras tensors broadcast to (right-aligned; 1 stretches).
    static func broadcastShape(_ c: LayerCall, _ a: [Int?], _ b: [Int?]) throws -> [Int?] {
        let rank = max(a.count, b.count)
        let pa = [Int?](repeating: 1, count: rank - a.count) + a, pb = [Int?](repeating: 1, count: rank - b.count) + b
        return try zip(pa, pb).map { x, y in
            if x == 1 { return y }
            if y == 1 || x == y { return x }
            if x == nil || y == nil { return x ?? y }
            throw c.unsupported("operands of shapes \(a) and \(b), which do not broadcast")
        }
    }

    /// t·scale + shift along Keras axis `axis` (lists of one value apply to every element), in the
    /// input's layout; a scale of 1 or a shift of 0 writes no op.
    static func affine(_ c: LayerCall, _ t: KTensor, axis: Int, scale: [Float], shift: [Float]) throws -> KTensor {
        let count = max(scale.count, shift.count)
        let channels = count == 1 ? 1 : try c.known(t, axis)
        guard [1, channels].contains(scale.count), [1, channels].contains(shift.count) else {
            throw c.unsupported("\(scale.count) scales and \(shift.count) offsets for \(channels) channels")
        }
        // Channels on the Keras last axis (or one value) can use the channels-first form.
        let useFirst = t.rank >= 3 && t.first != nil && (count == 1 || axis == t.rank - 1)
        var x = useFirst ? t.first! : try c.keras(t)
        let layoutAxis = useFirst ? 1 : axis
        func constant(_ suffix: String, _ values: [Float]) -> String {
            var shape = [Int](repeating: 1, count: t.rank - layoutAxis)
            shape[0] = values.count
            return c.b.floats(c.name + suffix, values.count == 1 ? [] : shape, values)
        }
        if scale != [1] { x = c.b.op1("Mul", [x, constant("_scale", scale)], name: shift == [0] ? c.name : c.name + "_scale") }
        if shift != [0] { x = c.b.op1("Add", [x, constant("_shift", shift)], name: c.name) }
        if scale == [1] && shift == [0] { x = c.b.op1("Identity", [x], name: c.name) }
        return useFirst ? KTensor(shape: t.shape, first: x) : KTensor(shape: t.shape, last: x)
    }

    /// A number or a list of numbers in the config (`default` when absent).
    static func numbers(_ c: LayerCall, _ key: String, default value: Float) throws -> [Float] {
        switch c.config.dict[key] {
        case nil, is NSNull: return [value]
        case let n as NSNumberLike: return [n.floatValue]
        case let list as [Any]:
            let values = list.compactMap { ($0 as? NSNumberLike)?.floatValue }
            guard values.count == list.count, !values.isEmpty else { throw c.unsupported("\(key) \(list)") }
            return values
        default: throw c.unsupported("\(key) of this form")
        }
    }

    /// (x - mean) / max(sqrt(variance), 1e-7) on one axis, as x·scale + shift; mean and variance
    /// from the config or from the weights (mean, variance, count) that `adapt` sets; `invert`
    /// undoes it (x·sqrt(variance) + mean).
    static func normalization(_ c: LayerCall) throws -> [KTensor] {
        let axes = try (c.config.ints("axis") ?? [-1]).map { try c.axis($0, rank: c.x.rank) }
        guard axes.count == 1, let axis = axes.first, axis > 0 else {
            throw c.unsupported("axis \(c.config.ints("axis") ?? []) (one axis after the batch)")
        }
        let channels = try c.known(c.x, axis)
        var mean = try numbers(c, "mean", default: .nan), variance = try numbers(c, "variance", default: .nan)
        if mean.contains(where: \.isNaN) || variance.contains(where: \.isNaN) {
            // mean, variance (floats) and count (an integer)
            guard c.weights.count == 3 else {
                throw c.weightError("expected mean, variance and count, the file has \(c.weights.count) weights")
            }
            try LayerCall(importer: c.importer, spec: c.spec, inputs: c.inputs, weights: Array(c.weights.prefix(2)))
                .expectWeights([nil, nil])
            mean = c.floats(0)
            variance = c.floats(1)
        }
        guard [1, channels].contains(mean.count), [1, channels].contains(variance.count) else {
            throw c.weightError("mean and variance have \(mean.count) and \(variance.count) values for \(channels) channels")
        }
        let n = max(mean.count, variance.count)
        let at = { (v: [Float], i: Int) in Double(v[v.count == 1 ? 0 : i]) }
        var scale = [Float](), shift = [Float]()
        for i in 0..<n {
            let deviation = max(at(variance, i).squareRoot(), 1e-7)
            if c.config.bool("invert") == true {
                scale.append(Float(deviation))
                shift.append(Float(at(mean, i)))
            } else {
                scale.append(Float(1 / deviation))
                shift.append(Float(-at(mean, i) / deviation))
            }
        }
        return [try affine(c, c.x, axis: axis, scale: scale, shift: shift)]
    }
}

/// A call argument of a tf.keras layer that is a tensor (`y` of `x + y` in a TFOpLambda): its
/// position among the call's input tensors.
struct KerasCallTensor {
    let index: Int
}
