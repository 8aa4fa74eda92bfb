import CKernels
import FerryIR
import FerryRewrite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A float function given in both precisions the interpreter computes in; float32 runs the vector
/// math kernel (`ferry_vmath`) when it has the function.
struct FloatFunction {
    let f: (Float) -> Float
    let d: (Double) -> Double
    var vector: ferry_vmath_function? = nil
    /// Swish's alpha, for the vector kernel.
    var alpha: Float = 1
}

/// Applies `fn` to every element of a float32 or float64 tensor.
func mapFloat(_ x: Value, _ fn: FloatFunction, _ ctx: ExecutionContext) throws -> Value {
    let out = try ctx.allocate(x.type, x.shape)
    let n = x.count
    switch x.type {
    case .float:
        let s = x.floats, d = out.floats
        if let v = fn.vector {
            let code = Int32(v.rawValue), alpha = fn.alpha
            ctx.parallel(n, grain: elementGrain) { r in ferry_vmath(code, s + r.lowerBound, d + r.lowerBound, r.count, alpha) }
        } else {
            ctx.parallel(n, grain: elementGrain) { r in for i in r { d[i] = fn.f(s[i]) } }
        }
    case .double:
        let s = x.pointer(Double.self), d = out.pointer(Double.self)
        for i in 0..<n { d[i] = fn.d(s[i]) }
    default:
        throw KernelError.unsupported("element type \(x.type.name) (expected float32 or float64)")
    }
    return out
}

/// Applies one of the C kernels' activations to a float32 tensor (other float types use `fallback`).
func activation(_ x: Value, _ act: ferry_activation, _ a: Float, _ b: Float, fallback: FloatFunction, _ ctx: ExecutionContext)
    throws -> Value
{
    guard x.type == .float else { return try mapFloat(x, fallback, ctx) }
    let out = try ctx.allocate(.float, x.shape)
    let n = x.count
    let s = x.floats, d = out.floats
    ctx.parallel(n, grain: elementGrain) { r in
        (d + r.lowerBound).update(from: s + r.lowerBound, count: r.count)
        ferry_scale_bias_act(d + r.lowerBound, 1, r.count, r.count, nil, nil, Int32(act.rawValue), a, b)
    }
    return out
}

/// Maps every element of any numeric tensor with a rule that works for all of them.
struct NumericMap: NumericVisitor {
    let x: Value, ctx: ExecutionContext
    let rule: NumericUnaryRule.Type
    func visit<T: RTNumber>(_: T.Type) throws -> Value {
        let out = try ctx.allocate(x.type, x.shape)
        let s = x.pointer(T.self), d = out.pointer(T.self)
        for i in 0..<x.count { d[i] = rule.apply(s[i]) }
        return out
    }
}

protocol NumericUnaryRule { static func apply<T: RTNumber>(_ x: T) -> T }
enum AbsRule: NumericUnaryRule { static func apply<T: RTNumber>(_ x: T) -> T { x < T.zero ? T.sub(T.zero, x) : x } }
enum NegRule: NumericUnaryRule { static func apply<T: RTNumber>(_ x: T) -> T { T.sub(T.zero, x) } }
enum SignRule: NumericUnaryRule {
    static func apply<T: RTNumber>(_ x: T) -> T {
        x > T.zero ? T.one : (x < T.zero ? T.sub(T.zero, T.one) : (x == x ? T.zero : x))
    }
}
enum ReluRule: NumericUnaryRule { static func apply<T: RTNumber>(_ x: T) -> T { x > T.zero ? x : T.zero } }

/// One-input element-wise ops: math functions and activations.
enum UnaryOps {
    /// Relu of any numeric tensor (float32 through the C activation kernel).
    static func relu(_ x: Value, _ ctx: ExecutionContext) throws -> Value {
        if x.type == .float {
            return try activation(x, FERRY_ACT_RELU, 0, 0, fallback: FloatFunction(f: { max($0, 0) }, d: { max($0, 0) }), ctx)
        }
        return try dispatchNumeric(x.type, NumericMap(x: x, ctx: ctx, rule: ReluRule.self))
    }

    static func register(into r: inout KernelRegistry) {
        func float(
            _ op: String, _ f: @escaping (Float) -> Float, _ d: @escaping (Double) -> Double, vector: ferry_vmath_function? = nil
        ) {
            r.register(op) { _ in
                let fn = FloatFunction(f: f, d: d, vector: vector)
                return FunctionKernel { inputs, ctx in [try mapFloat(try inputs.required(0), fn, ctx)] }
            }
        }
        float("Sqrt", { sqrtf($0) }, { sqrt($0) }, vector: FERRY_VM_SQRT)
        float("Exp", { expf($0) }, { exp($0) }, vector: FERRY_VM_EXP)
        float("Log", { logf($0) }, { log($0) }, vector: FERRY_VM_LOG)
        float("Reciprocal", { 1 / $0 }, { 1 / $0 }, vector: FERRY_VM_RECIPROCAL)
        float("Floor", { floorf($0) }, { floor($0) })
        float("Ceil", { ceilf($0) }, { ceil($0) })
        float("Round", { $0.rounded(.toNearestOrEven) }, { $0.rounded(.toNearestOrEven) })
        float("Erf", { erff($0) }, { erf($0) }, vector: FERRY_VM_ERF)
        float("Tanh", { tanhf($0) }, { tanh($0) }, vector: FERRY_VM_TANH)
        float("Sin", { sinf($0) }, { sin($0) })
        float("Cos", { cosf($0) }, { cos($0) })
        float("Tan", { tanf($0) }, { tan($0) })
        float("Asin", { asinf($0) }, { asin($0) })
        float("Acos", { acosf($0) }, { acos($0) })
        float("Atan", { atanf($0) }, { atan($0) })
        float("Sinh", { sinhf($0) }, { sinh($0) })
        float("Cosh", { coshf($0) }, { cosh($0) })
        float("Asinh", { asinhf($0) }, { asinh($0) })
        float("Acosh", { acoshf($0) }, { acosh($0) })
        float("Atanh", { atanhf($0) }, { atanh($0) })
        float("Softsign", { $0 / (1 + abs($0)) }, { $0 / (1 + abs($0)) })
        float("Softplus", { $0 > 20 ? $0 : log1pf(expf($0)) }, { $0 > 30 ? $0 : log1p(exp($0)) }, vector: FERRY_VM_SOFTPLUS)
        float("Mish", { $0 * tanhf($0 > 20 ? $0 : log1pf(expf($0))) }, { $0 * tanh($0 > 30 ? $0 : log1p(exp($0))) })

        func numeric(_ op: String, _ rule: NumericUnaryRule.Type) {
            r.register(op) { _ in
                FunctionKernel { inputs, ctx in
                    let x = try inputs.required(0)
                    return [try dispatchNumeric(x.type, NumericMap(x: x, ctx: ctx, rule: rule))]
                }
            }
        }
        numeric("Abs", AbsRule.self)
        numeric("Neg", NegRule.self)
        numeric("Sign", SignRule.self)

        r.register("Relu") { _ in FunctionKernel { inputs, ctx in [try relu(try inputs.required(0), ctx)] } }
        float("Sigmoid", { 1 / (1 + expf(-$0)) }, { 1 / (1 + exp(-$0)) }, vector: FERRY_VM_SIGMOID)
        r.register("Swish") { spec in
            let alpha = try spec.float("alpha", 1)
            let ad = Double(alpha)
            let fn = FloatFunction(
                f: { $0 / (1 + expf(-alpha * $0)) }, d: { $0 / (1 + exp(-ad * $0)) }, vector: FERRY_VM_SWISH, alpha: alpha)
            return FunctionKernel { inputs, ctx in [try mapFloat(try inputs.required(0), fn, ctx)] }
        }
        r.register("LeakyRelu") { spec in
            let alpha = try spec.float("alpha", 0.01)
            let ad = Double(alpha)
            let fn = FloatFunction(f: { $0 < 0 ? alpha * $0 : $0 }, d: { $0 < 0 ? ad * $0 : $0 })
            return FunctionKernel { inputs, ctx in
                [try activation(try inputs.required(0), FERRY_ACT_LEAKYRELU, alpha, 0, fallback: fn, ctx)]
            }
        }
        r.register("HardSigmoid") { spec in
            let alpha = try spec.float("alpha", 0.2), beta = try spec.float("beta", 0.5)
            let ad = Double(alpha), bd = Double(beta)
            let fn = FloatFunction(f: { min(max(alpha * $0 + beta, 0), 1) }, d: { min(max(ad * $0 + bd, 0), 1) })
            return FunctionKernel { inputs, ctx in
                [try activation(try inputs.required(0), FERRY_ACT_HARDSIGMOID, alpha, beta, fallback: fn, ctx)]
            }
        }
        r.register("HardSwish") { _ in
            let fn = FloatFunction(f: { $0 * min(max($0 / 6 + 0.5, 0), 1) }, d: { $0 * min(max($0 / 6 + 0.5, 0), 1) })
            return FunctionKernel { inputs, ctx in
                [try activation(try inputs.required(0), FERRY_ACT_HARDSWISH, 0, 0, fallback: fn, ctx)]
            }
        }
        r.register("Elu") { spec in
            let alpha = try spec.float("alpha", 1.0)
            let ad = Double(alpha)
            let fn = FloatFunction(f: { $0 < 0 ? alpha * (expf($0) - 1) : $0 }, d: { $0 < 0 ? ad * (exp($0) - 1) : $0 })
            return FunctionKernel { inputs, ctx in [try mapFloat(try inputs.required(0), fn, ctx)] }
        }
        r.register("Celu") { spec in
            let alpha = try spec.float("alpha", 1.0)
            let ad = Double(alpha)
            let fn = FloatFunction(
                f: { max(0, $0) + min(0, alpha * (expf($0 / alpha) - 1)) },
                d: { max(0, $0) + min(0, ad * (exp($0 / ad) - 1)) })
            return FunctionKernel { inputs, ctx in [try mapFloat(try inputs.required(0), fn, ctx)] }
        }
        r.register("Selu") { spec in
            let alpha = try spec.float("alpha", 1.67326319217681884765625),
                gamma = try spec.float("gamma", 1.05070102214813232421875)
            let ad = Double(alpha), gd = Double(gamma)
            let fn = FloatFunction(
                f: { $0 <= 0 ? gamma * (alpha * expf($0) - alpha) : gamma * $0 },
                d: { $0 <= 0 ? gd * (ad * exp($0) - ad) : gd * $0 })
            return FunctionKernel { inputs, ctx in [try mapFloat(try inputs.required(0), fn, ctx)] }
        }
        r.register("ThresholdedRelu") { spec in
            let alpha = try spec.float("alpha", 1.0)
            let ad = Double(alpha)
            let fn = FloatFunction(f: { $0 > alpha ? $0 : 0 }, d: { $0 > ad ? $0 : 0 })
            return FunctionKernel { inputs, ctx in [try mapFloat(try inputs.required(0), fn, ctx)] }
        }
        r.register("Shrink") { spec in
            let bias = try spec.float("bias", 0), lambd = try spec.float("lambd", 0.5)
            let bd = Double(bias), ld = Double(lambd)
            let fn = FloatFunction(
                f: { $0 < -lambd ? $0 + bias : ($0 > lambd ? $0 - bias : 0) },
                d: { $0 < -ld ? $0 + bd : ($0 > ld ? $0 - bd : 0) })
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                if x.type == .float || x.type == .double { return [try mapFloat(x, fn, ctx)] }
                let xd = try convert(x, to: .double, ctx: ctx)
                return [try convert(try mapFloat(xd, fn, ctx), to: x.type, ctx: ctx)]
            }
        }
        r.register("Gelu") { spec in
            let approximate = try spec.string("approximate", "none")
            let fn: FloatFunction
            switch approximate {
            case "none":
                fn = FloatFunction(
                    f: { 0.5 * $0 * (1 + erff($0 * 0.70710678118654752)) }, d: { 0.5 * $0 * (1 + erf($0 * 0.70710678118654752)) },
                    vector: FERRY_VM_GELU)
            case "tanh":
                let c = Float(0.79788456080286535588), cd = 0.79788456080286535588
                fn = FloatFunction(
                    f: { 0.5 * $0 * (1 + tanhf(c * ($0 + 0.044715 * $0 * $0 * $0))) },
                    d: { 0.5 * $0 * (1 + tanh(cd * ($0 + 0.044715 * $0 * $0 * $0))) }, vector: FERRY_VM_GELU_TANH)
            default: throw KernelError.unsupported("approximate '\(approximate)'")
            }
            return FunctionKernel { inputs, ctx in [try mapFloat(try inputs.required(0), fn, ctx)] }
        }
        r.register("Clip") { spec in
            let widest = ActivationDescriptor.clipDefaults
            let attrMin = try spec.float("min", widest.lower), attrMax = try spec.float("max", widest.upper)
            let legacy = spec.opset < 11
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                if legacy || x.type == .float {
                    var lo = attrMin, hi = attrMax
                    if !legacy {
                        lo = try inputs.optional(1).map { try Float(scalarOf: $0) } ?? widest.lower
                        hi = try inputs.optional(2).map { try Float(scalarOf: $0) } ?? widest.upper
                    }
                    let fn = FloatFunction(f: { min(max($0, lo), hi) }, d: { min(max($0, Double(lo)), Double(hi)) })
                    if x.type == .float { return [try activation(x, FERRY_ACT_CLIP, lo, hi, fallback: fn, ctx)] }
                    return [try mapFloat(x, fn, ctx)]
                }
                var v = x
                if let lo = inputs.optional(1) { v = try arith(MaxRule.self, v, lo, ctx) }
                if let hi = inputs.optional(2) { v = try arith(MinRule.self, v, hi, ctx) }
                if v.buffer === x.buffer {
                    v = try arith(AddRule.self, v, try convert(Value.float([0], shape: []), to: v.type, ctx: ctx), ctx)
                }
                return [v]
            }
        }
        r.register("PRelu") { _ in
            FunctionKernel { inputs, ctx in
                let x = try inputs.required(0), slope = try inputs.required(1)
                try requireSameType(x, slope)
                guard x.type == .float else {
                    let neg = try arith(MinRule.self, x, try convert(Value.float([0], shape: []), to: x.type, ctx: ctx), ctx)
                    let pos = try arith(MaxRule.self, x, try convert(Value.float([0], shape: []), to: x.type, ctx: ctx), ctx)
                    return [try arith(AddRule.self, pos, try arith(MulRule.self, neg, slope, ctx), ctx)]
                }
                let bc = try Broadcast([x.shape, slope.shape])
                guard bc.shape == x.shape else {
                    throw KernelError.invalid("slope shape \(slope.shape) does not broadcast to \(x.shape)")
                }
                let out = try ctx.allocate(.float, x.shape)
                let px = x.floats, ps = slope.floats, po = out.floats
                let n = bc.rowLength, ss = bc.rowStride(1)
                bc.forEachRow(0..<bc.rowCount) { off, o in
                    for i in 0..<n {
                        let v = px[o + i]
                        po[o + i] = v < 0 ? v * ps[off[1] + i * ss] : v
                    }
                }
                return [out]
            }
        }
        r.register("Not") { _ in
            FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                guard x.type == .bool else { throw KernelError.invalid("Not takes bool") }
                let out = try ctx.allocate(.bool, x.shape)
                let s = x.pointer(UInt8.self), d = out.pointer(UInt8.self)
                for i in 0..<x.count { d[i] = s[i] == 0 ? 1 : 0 }
                return [out]
            }
        }
        r.register("IsNaN") { _ in
            FunctionKernel { inputs, ctx in
                let x = try convert(try inputs.required(0), to: .double, ctx: ctx)
                let out = try ctx.allocate(.bool, x.shape)
                let s = x.pointer(Double.self), d = out.pointer(UInt8.self)
                for i in 0..<x.count { d[i] = s[i].isNaN ? 1 : 0 }
                return [out]
            }
        }
        r.register("IsInf") { spec in
            let pos = try spec.int("detect_positive", 1) != 0, neg = try spec.int("detect_negative", 1) != 0
            return FunctionKernel { inputs, ctx in
                let x = try convert(try inputs.required(0), to: .double, ctx: ctx)
                let out = try ctx.allocate(.bool, x.shape)
                let s = x.pointer(Double.self), d = out.pointer(UInt8.self)
                for i in 0..<x.count { d[i] = s[i].isInfinite && ((s[i] > 0 && pos) || (s[i] < 0 && neg)) ? 1 : 0 }
                return [out]
            }
        }
    }
}

extension Float {
    /// The single element of a scalar (or one-element) tensor, as Float.
    init(scalarOf v: Value) throws {
        guard v.count == 1 else { throw KernelError.invalid("expected a scalar, got shape \(v.shape)") }
        self = Float(try v.doubles()[0])
    }
}
