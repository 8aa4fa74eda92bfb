import FerryIR

/// Keras's built-in activation functions as ONNX ops, shared by the Activation layer and the
/// `activation` option of Dense, convolution and recurrent layers.
enum Activations {
    /// Applies activation `name` to `t`, keeping its layout; softmax works on the Keras last axis.
    static func apply(_ name: String?, to t: KTensor, _ call: LayerCall) throws -> KTensor {
        guard let name, name != "linear" else { return t }
        if let first = t.first, t.rank >= 3 {
            return KTensor(shape: t.shape, first: try emit(name, first, channelAxis: 1, call))
        }
        if let flat = t.flatPermuted, name != "softmax" {
            let out = KTensor(shape: t.shape)
            out.flatPermuted = (try emit(name, flat.name, channelAxis: -1, call), flat.order)
            return out
        }
        if t.last == nil, let tm = t.timeMajor {
            return KTensor(shape: t.shape, timeMajor: try emit(name, tm, channelAxis: -1, call))
        }
        return KTensor(shape: t.shape, last: try emit(name, try call.keras(t), channelAxis: -1, call))
    }

    /// Emits the ops of activation `name` on value `x`; `channelAxis` is where Keras's last axis is.
    static func emit(_ name: String, _ x: String, channelAxis: Int, _ call: LayerCall) throws -> String {
        let b = call.b, n = call.name + "_" + name
        switch name {
        case "relu": return b.op1("Relu", [x], name: n)
        case "relu6": return b.op1("Clip", [x, b.floats(n + "_min", [], [0]), b.floats(n + "_max", [], [6])], name: n)
        case "sigmoid": return b.op1("Sigmoid", [x], name: n)
        case "hard_sigmoid":
            return b.op1(
                "HardSigmoid", [x], [.float("alpha", call.importer.keras3 ? 1.0 / 6.0 : 0.2), .float("beta", 0.5)], name: n)
        case "tanh": return b.op1("Tanh", [x], name: n)
        case "softmax": return b.op1("Softmax", [x], [.int("axis", channelAxis)], name: n)
        case "log_softmax": return b.op1("LogSoftmax", [x], [.int("axis", channelAxis)], name: n)
        case "elu": return b.op1("Elu", [x], [.float("alpha", 1)], name: n)
        case "selu": return b.op1("Selu", [x], name: n)
        case "softplus": return b.op1("Softplus", [x], name: n)
        case "softsign": return b.op1("Softsign", [x], name: n)
        case "exponential": return b.op1("Exp", [x], name: n)
        case "swish", "silu": return b.op1("Mul", [x, b.op1("Sigmoid", [x], name: n + "_sigmoid")], name: n)
        case "hard_silu", "hard_swish":
            // Keras 3: x · relu6(x + 3) / 6.
            return b.op1("HardSwish", [x], name: n)
        case "leaky_relu": return b.op1("LeakyRelu", [x], [.float("alpha", 0.2)], name: n)
        case "gelu": return gelu(x, approximate: false, n, b)
        case "mish":
            return b.op1("Mul", [x, b.op1("Tanh", [b.op1("Softplus", [x], name: n + "_softplus")], name: n + "_tanh")], name: n)
        default:
            throw call.unsupported("activation '\(name)'")
        }
    }

    /// GELU: 0.5·x·(1 + erf(x/√2)), or the tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    static func gelu(_ x: String, approximate: Bool, _ n: String, _ b: GraphBuilder) -> String {
        let inner: String
        if approximate {
            let cube = b.op1("Mul", [x, b.op1("Mul", [x, x], name: n + "_sq")], name: n + "_cube")
            let poly = b.op1(
                "Add", [x, b.op1("Mul", [cube, b.floats(n + "_c", [], [0.044715])], name: n + "_cubic")], name: n + "_poly")
            let scaled = b.op1(
                "Mul", [poly, b.floats(n + "_k", [], [Float((2.0 / Double.pi).squareRoot())])], name: n + "_scaled")
            inner = b.op1("Tanh", [scaled], name: n + "_tanh")
        } else {
            inner = b.op1(
                "Erf", [b.op1("Mul", [x, b.floats(n + "_rsqrt2", [], [Float(1 / 2.0.squareRoot())])], name: n + "_scaled")],
                name: n + "_erf")
        }
        let onePlus = b.op1("Add", [inner, b.floats(n + "_one", [], [1])], name: n + "_plus1")
        let half = b.op1("Mul", [x, b.floats(n + "_half", [], [0.5])], name: n + "_half")
        return b.op1("Mul", [half, onePlus], name: n)
    }
}

/// Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax.
enum ActivationLayers {
    static func register(into r: inout [String: LayerConverter]) {
        r["Activation"] = { c in
            [try Activations.apply(c.config.activation(), to: c.x, c)]
        }
        r["ReLU"] = relu
        // GELU and arithmetic saved as wrapped TF ops (tf.keras), GELU as a Keras 3 operation.
        r["TFOpLambda"] = { c in
            let function = c.config.string("function") ?? "?"
            if function == "nn.gelu" { return [try gelu(c, approximate: c.kwargs["approximate"] as? Bool ?? false)] }
            if let op = PreprocessingLayers.arithmetic[function] { return try PreprocessingLayers.tfOp(c, op) }
            throw KerasError.unsupportedLayer(file: c.importer.file, layer: c.name, className: "TFOpLambda(\(function))")
        }
        r["ops.Gelu"] = { c in [try gelu(c, approximate: c.config.bool("approximate") ?? true)] }
        r["LeakyReLU"] = { c in
            let alpha = c.config.double("negative_slope") ?? c.config.double("alpha") ?? 0.3
            return [try unary(c, "LeakyRelu", [.float("alpha", alpha)])]
        }
        r["ELU"] = { c in [try unary(c, "Elu", [.float("alpha", c.config.double("alpha") ?? 1)])] }
        r["Softmax"] = { c in
            let axis = try c.axis(c.config.ints("axis")?.first ?? -1, rank: c.x.rank)
            return [KTensor(shape: c.x.shape, last: c.b.op1("Softmax", [try c.keras(c.x)], [.int("axis", axis)], name: c.name))]
        }
        r["PReLU"] = { c in
            // alpha has the input's shape without the batch axis (1 on shared axes): it broadcasts
            // against the Keras layout.
            let shape = c.x.shape.dropFirst().map { $0 ?? 1 }
            try c.expectWeights([nil])
            guard c.weights[0].shape.count == shape.count else {
                throw c.weightError("alpha has shape \(c.weights[0].shape), input is \(Array(shape))")
            }
            if c.x.rank == 3, c.x.last == nil, let tm = c.x.timeMajor {
                // Time-major (T, N, F): alpha (T or 1, F) gets a unit batch axis.
                let alpha = c.b.floats(c.name + "_alpha", [c.weights[0].shape[0], 1, c.weights[0].shape[1]], c.floats(0))
                return [KTensor(shape: c.x.shape, timeMajor: c.b.op1("PRelu", [tm, alpha], name: c.name))]
            }
            let alpha = c.b.floats(c.name + "_alpha", c.weights[0].shape, c.floats(0))
            return [KTensor(shape: c.x.shape, last: c.b.op1("PRelu", [try c.keras(c.x), alpha], name: c.name))]
        }
    }

    static func gelu(_ c: LayerCall, approximate: Bool) throws -> KTensor {
        if let f = c.x.first {
            return KTensor(shape: c.x.shape, first: Activations.gelu(f, approximate: approximate, c.name, c.b))
        }
        return KTensor(shape: c.x.shape, last: Activations.gelu(try c.keras(c.x), approximate: approximate, c.name, c.b))
    }

    /// A unary elementwise op on the input in whatever layout it has.
    static func unary(_ c: LayerCall, _ op: String, _ attrs: [Attribute] = []) throws -> KTensor {
        if let f = c.x.first { return KTensor(shape: c.x.shape, first: c.b.op1(op, [f], attrs, name: c.name)) }
        if c.x.last == nil, let tm = c.x.timeMajor {
            return KTensor(shape: c.x.shape, timeMajor: c.b.op1(op, [tm], attrs, name: c.name))
        }
        if let flat = c.x.flatPermuted {
            let out = KTensor(shape: c.x.shape)
            out.flatPermuted = (c.b.op1(op, [flat.name], attrs, name: c.name), flat.order)
            return out
        }
        return KTensor(shape: c.x.shape, last: c.b.op1(op, [try c.keras(c.x)], attrs, name: c.name))
    }

    /// ReLU with max_value, negative_slope and threshold:
    /// f(x) = max_value for x ≥ max_value, x for threshold ≤ x < max_value, negative_slope·(x − threshold) below.
    static func relu(_ c: LayerCall) throws -> [KTensor] {
        let maxValue = c.config.double("max_value")
        let slope = c.config.double("negative_slope") ?? 0
        let threshold = c.config.double("threshold") ?? 0
        let b = c.b, n = c.name
        func body(_ x: String) -> String {
            if threshold == 0 && slope == 0, let m = maxValue {
                return b.op1("Clip", [x, b.floats(n + "_min", [], [0]), b.floats(n + "_max", [], [Float(m)])], name: n)
            }
            var y: String
            if threshold == 0 {
                y = slope == 0 ? b.op1("Relu", [x], name: n) : b.op1("LeakyRelu", [x], [.float("alpha", slope)], name: n)
            } else {
                let t = b.floats(n + "_threshold", [], [Float(threshold)])
                let below = b.op1(
                    "Mul", [b.op1("Sub", [x, t], name: n + "_shift"), b.floats(n + "_slope", [], [Float(slope)])],
                    name: n + "_below")
                y = b.op1("Where", [b.op1("GreaterOrEqual", [x, t], name: n + "_above"), x, below], name: n)
            }
            if let m = maxValue {
                y = b.op1("Min", [y, b.floats(n + "_max", [], [Float(m)])], name: n + "_cap")
            }
            return y
        }
        if let f = c.x.first { return [KTensor(shape: c.x.shape, first: body(f))] }
        return [KTensor(shape: c.x.shape, last: body(try c.keras(c.x)))]
    }
}
