import CKernels
import FerryIR

/// An arithmetic rule applied element by element.
protocol ArithRule { static func apply<T: RTNumber>(_ a: T, _ b: T) -> T }
enum AddRule: ArithRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> T { T.add(a, b) } }
enum SubRule: ArithRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> T { T.sub(a, b) } }
enum MulRule: ArithRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> T { T.mul(a, b) } }
enum DivRule: ArithRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> T { T.div(a, b) } }
enum PowRule: ArithRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> T { T.pow(a, b) } }
enum ModRule: ArithRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> T { T.mod(a, b, fmod: false) } }
enum FModRule: ArithRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> T { T.mod(a, b, fmod: true) } }
enum MaxRule: ArithRule {
    @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> T { a != a ? a : (b != b ? b : (a > b ? a : b)) }
}
enum MinRule: ArithRule {
    @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> T { a != a ? a : (b != b ? b : (a < b ? a : b)) }
}

/// The C kernel's float32 loops (`ferry_binary_f32`) of the rules it has one for.
private let floatBinaryOps: [ObjectIdentifier: ferry_binary_op] = [
    ObjectIdentifier(AddRule.self): FERRY_BIN_ADD, ObjectIdentifier(SubRule.self): FERRY_BIN_SUB,
    ObjectIdentifier(MulRule.self): FERRY_BIN_MUL, ObjectIdentifier(DivRule.self): FERRY_BIN_DIV,
    ObjectIdentifier(MaxRule.self): FERRY_BIN_MAX, ObjectIdentifier(MinRule.self): FERRY_BIN_MIN
]

/// A comparison rule giving bool.
protocol CompareRule { static func apply<T: RTNumber>(_ a: T, _ b: T) -> Bool }
enum EqualRule: CompareRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> Bool { a == b } }
enum LessRule: CompareRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> Bool { a < b } }
enum GreaterRule: CompareRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> Bool { a > b } }
enum LessEqualRule: CompareRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> Bool { a <= b } }
enum GreaterEqualRule: CompareRule { @inline(__always) static func apply<T: RTNumber>(_ a: T, _ b: T) -> Bool { a >= b } }

/// out = Rule(a, b) with broadcasting, for any numeric type.
struct ArithKernel<Rule: ArithRule>: NumericVisitor {
    let a: Value, b: Value, ctx: ExecutionContext

    func visit<T: RTNumber>(_: T.Type) throws -> Value {
        let bc = try Broadcast([a.shape, b.shape])
        let out = try ctx.allocate(a.type, bc.shape)
        let pa = a.pointer(T.self), pb = b.pointer(T.self), po = out.pointer(T.self)
        let n = bc.rowLength, sa = bc.rowStride(0), sb = bc.rowStride(1)
        if T.self == Float.self, let op = floatBinaryOps[ObjectIdentifier(Rule.self)] {
            let code = Int32(op.rawValue)
            let fa = UnsafeRawPointer(pa).assumingMemoryBound(to: Float.self)
            let fb = UnsafeRawPointer(pb).assumingMemoryBound(to: Float.self)
            let fo = UnsafeMutableRawPointer(po).assumingMemoryBound(to: Float.self)
            if bc.rowCount == 1 {
                ctx.parallel(n, grain: elementGrain) { r in
                    ferry_binary_f32(code, fa + r.lowerBound * sa, sa, fb + r.lowerBound * sb, sb, fo + r.lowerBound, r.count)
                }
            } else {
                ctx.parallel(bc.rowCount, itemElements: n) { rows in
                    bc.forEachRow(rows) { off, o in ferry_binary_f32(code, fa + off[0], sa, fb + off[1], sb, fo + o, n) }
                }
            }
            return out
        }
        if bc.rowCount == 1 && sa <= 1 && sb <= 1 {
            // One long row (same shapes, or a scalar operand): split it between threads.
            ctx.parallel(n, grain: elementGrain) { r in
                let x = pa + r.lowerBound * sa, y = pb + r.lowerBound * sb, z = po + r.lowerBound
                if sa == 1 && sb == 1 {
                    for i in 0..<r.count { z[i] = Rule.apply(x[i], y[i]) }
                } else if sb == 0 {
                    let yv = y[0]
                    for i in 0..<r.count { z[i] = Rule.apply(x[i * sa], yv) }
                } else {
                    let xv = x[0]
                    for i in 0..<r.count { z[i] = Rule.apply(xv, y[i]) }
                }
            }
            return out
        }
        ctx.parallel(bc.rowCount, itemElements: n) { rows in
            bc.forEachRow(rows) { off, o in
                let x = pa + off[0], y = pb + off[1], z = po + o
                if sa == 1 && sb == 1 {
                    for i in 0..<n { z[i] = Rule.apply(x[i], y[i]) }
                } else if sb == 0 {
                    let yv = y[0]
                    if sa == 1 {
                        for i in 0..<n { z[i] = Rule.apply(x[i], yv) }
                    } else {
                        for i in 0..<n { z[i] = Rule.apply(x[i * sa], yv) }
                    }
                } else if sa == 0 {
                    let xv = x[0]
                    for i in 0..<n { z[i] = Rule.apply(xv, y[i * sb]) }
                } else {
                    for i in 0..<n { z[i] = Rule.apply(x[i * sa], y[i * sb]) }
                }
            }
        }
        return out
    }
}

/// out = Rule(a, b) as bool, with broadcasting.
struct CompareKernel<Rule: CompareRule>: NumericVisitor {
    let a: Value, b: Value, ctx: ExecutionContext

    func visit<T: RTNumber>(_: T.Type) throws -> Value {
        let bc = try Broadcast([a.shape, b.shape])
        let out = try ctx.allocate(.bool, bc.shape)
        let pa = a.pointer(T.self), pb = b.pointer(T.self), po = out.pointer(UInt8.self)
        let n = bc.rowLength, sa = bc.rowStride(0), sb = bc.rowStride(1)
        bc.forEachRow(0..<bc.rowCount) { off, o in
            for i in 0..<n { po[o + i] = Rule.apply(pa[off[0] + i * sa], pb[off[1] + i * sb]) ? 1 : 0 }
        }
        return out
    }
}

/// The element types of `a` and `b` must agree.
func requireSameType(_ a: Value, _ b: Value) throws {
    guard a.type == b.type else { throw KernelError.invalid("input types differ: \(a.type.name) and \(b.type.name)") }
}

func arith<Rule: ArithRule>(_ rule: Rule.Type, _ a: Value, _ b: Value, _ ctx: ExecutionContext) throws -> Value {
    try requireSameType(a, b)
    return try dispatchNumeric(a.type, ArithKernel<Rule>(a: a, b: b, ctx: ctx))
}

/// Binary and variadic element-wise ops: arithmetic, comparisons, logic, Where.
enum BinaryOps {
    static func register(into r: inout KernelRegistry) {
        func arithOp<Rule: ArithRule>(_ op: String, _ rule: Rule.Type) {
            r.register(op) { spec in
                if spec.opset < 7 && spec.has("broadcast") && spec.has("axis") {
                    throw KernelError.unsupported("legacy broadcast with 'axis'")
                }
                return FunctionKernel { inputs, ctx in
                    [try arith(rule, try inputs.required(0), try inputs.required(1), ctx)]
                }
            }
        }
        arithOp("Add", AddRule.self)
        arithOp("Sub", SubRule.self)
        arithOp("Mul", MulRule.self)
        arithOp("Div", DivRule.self)
        r.register("Pow") { _ in
            FunctionKernel { inputs, ctx in
                let a = try inputs.required(0)
                let b = try convert(try inputs.required(1), to: a.type, ctx: ctx)
                return [try arith(PowRule.self, a, b, ctx)]
            }
        }
        r.register("Mod") { spec in
            let fmod = try spec.int("fmod", 0) != 0
            return FunctionKernel { inputs, ctx in
                let a = try inputs.required(0), b = try inputs.required(1)
                if !fmod && (a.type == .float || a.type == .double) {
                    throw KernelError.invalid("fmod must be 1 for floating-point inputs")
                }
                return [fmod ? try arith(FModRule.self, a, b, ctx) : try arith(ModRule.self, a, b, ctx)]
            }
        }
        func variadic<Rule: ArithRule>(_ op: String, _ rule: Rule.Type, mean: Bool = false) {
            r.register(op) { _ in
                FunctionKernel { inputs, ctx in
                    var acc = try inputs.required(0)
                    for i in 1..<max(inputs.count, 1) { acc = try arith(rule, acc, try inputs.required(i), ctx) }
                    if mean {
                        let n = Value.float([Float(inputs.count)], shape: [])
                        acc = try arith(DivRule.self, acc, try convert(n, to: acc.type, ctx: ctx), ctx)
                    } else if inputs.count == 1 {
                        // a copy, so the output never aliases the input
                        acc = try arith(AddRule.self, acc, try convert(Value.float([0], shape: []), to: acc.type, ctx: ctx), ctx)
                    }
                    return [acc]
                }
            }
        }
        variadic("Sum", AddRule.self)
        variadic("Mean", AddRule.self, mean: true)
        variadic("Max", MaxRule.self)
        variadic("Min", MinRule.self)

        func compare<Rule: CompareRule>(_ op: String, _ rule: Rule.Type) {
            r.register(op) { _ in
                FunctionKernel { inputs, ctx in
                    let a = try inputs.required(0), b = try inputs.required(1)
                    try requireSameType(a, b)
                    return [try dispatchNumeric(a.type, CompareKernel<Rule>(a: a, b: b, ctx: ctx))]
                }
            }
        }
        compare("Equal", EqualRule.self)
        compare("Less", LessRule.self)
        compare("Greater", GreaterRule.self)
        compare("LessOrEqual", LessEqualRule.self)
        compare("GreaterOrEqual", GreaterEqualRule.self)

        func logic(_ op: String, _ f: @escaping (Bool, Bool) -> Bool) {
            r.register(op) { _ in
                FunctionKernel { inputs, ctx in
                    let a = try inputs.required(0), b = try inputs.required(1)
                    guard a.type == .bool, b.type == .bool else { throw KernelError.invalid("\(op) takes bool inputs") }
                    let bc = try Broadcast([a.shape, b.shape])
                    let out = try ctx.allocate(.bool, bc.shape)
                    let pa = a.pointer(UInt8.self), pb = b.pointer(UInt8.self), po = out.pointer(UInt8.self)
                    let n = bc.rowLength, sa = bc.rowStride(0), sb = bc.rowStride(1)
                    bc.forEachRow(0..<bc.rowCount) { off, o in
                        for i in 0..<n { po[o + i] = f(pa[off[0] + i * sa] != 0, pb[off[1] + i * sb] != 0) ? 1 : 0 }
                    }
                    return [out]
                }
            }
        }
        logic("And") { $0 && $1 }
        logic("Or") { $0 || $1 }
        logic("Xor") { $0 != $1 }

        r.register("Where") { _ in
            FunctionKernel { inputs, ctx in
                let c = try inputs.required(0), x = try inputs.required(1), y = try inputs.required(2)
                try requireSameType(x, y)
                guard c.type == .bool else { throw KernelError.invalid("condition must be bool") }
                let bc = try Broadcast([c.shape, x.shape, y.shape])
                let out = try ctx.allocate(x.type, bc.shape)
                let size = elementSize(x.type)
                let pc = c.pointer(UInt8.self), px = x.buffer.baseAddress, py = y.buffer.baseAddress, po = out.buffer.baseAddress
                let n = bc.rowLength, sc = bc.rowStride(0), sx = bc.rowStride(1), sy = bc.rowStride(2)
                bc.forEachRow(0..<bc.rowCount) { off, o in
                    for i in 0..<n {
                        let src = pc[off[0] + i * sc] != 0 ? px + (off[1] + i * sx) * size : py + (off[2] + i * sy) * size
                        (po + (o + i) * size).copyMemory(from: src, byteCount: size)
                    }
                }
                return [out]
            }
        }

        r.register("BitShift") { spec in
            let left = try spec.string("direction", "") == "LEFT"
            return FunctionKernel { inputs, ctx in
                let a = try inputs.required(0), b = try inputs.required(1)
                try requireSameType(a, b)
                let bc = try Broadcast([a.shape, b.shape])
                let va = try a.ints(), vb = try b.ints()
                let bits = a.type.bitWidth
                var res = [Int](repeating: 0, count: bc.count)
                let n = bc.rowLength, sa = bc.rowStride(0), sb = bc.rowStride(1)
                bc.forEachRow(0..<bc.rowCount) { off, o in
                    for i in 0..<n {
                        let x = UInt64(truncatingIfNeeded: va[off[0] + i * sa]), s = vb[off[1] + i * sb]
                        let mask: UInt64 = bits >= 64 ? .max : (UInt64(1) &<< UInt64(bits)) &- 1
                        let v: UInt64 = s < 0 || s >= bits ? 0 : (left ? (x &<< UInt64(s)) & mask : (x & mask) &>> UInt64(s))
                        res[o + i] = Int(truncatingIfNeeded: v)
                    }
                }
                return [try convert(Value.int64(res, shape: bc.shape), to: a.type, ctx: ctx)]
            }
        }
    }
}
