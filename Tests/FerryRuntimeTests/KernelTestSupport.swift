import CKernels
import FerryIR
import FerryRuntime
import FerryTestSupport
import Testing

/// The instruction-set limits every kernel sweep runs under (portable C, AVX2, and all the CPU has).
let kernelISALimits: [(name: String, isa: Int32)] = [
    ("best", Int32(FERRY_ISA_BEST)), ("avx2", Int32(FERRY_ISA_AVX2)), ("portable", Int32(FERRY_ISA_PORTABLE))
]

/// Runs `body` with the calling thread's kernels limited to `isa` (`ferry_kernels_limit_isa`),
/// lifting the limit afterwards.
func withKernelISA<R>(_ isa: Int32, _ body: () throws -> R) rethrows -> R {
    ferry_kernels_limit_isa(isa)
    defer { ferry_kernels_limit_isa(Int32(FERRY_ISA_DEFAULT)) }
    return try body()
}

extension SplitMix64 {
    /// A float tensor of uniform [-1, 1) values.
    mutating func tensor(_ shape: [Int]) -> HostTensor {
        HostTensor(shape, (0..<shape.reduce(1, *)).map { _ in unit() })
    }
}

/// A dense float tensor held by a test.
struct HostTensor {
    var shape: [Int]
    var data: [Float]

    init(_ shape: [Int], _ data: [Float]) {
        self.shape = shape
        self.data = data
    }
}

/// Attribute shorthands.
func attr(_ name: String, _ v: Int) -> Attribute { Attribute(name, .int(Int64(v))) }
func attr(_ name: String, _ v: [Int]) -> Attribute { Attribute(name, .ints(v.map(Int64.init))) }
func attr(_ name: String, _ v: Float) -> Attribute { Attribute(name, .float(v)) }
func attr(_ name: String, _ v: String) -> Attribute { Attribute(name, .string(Array(v.utf8))) }

/// A model under construction: runtime inputs (with their feeds), constant initializers and nodes.
struct KernelGraph {
    var nodes: [Node] = []
    var inputs: [ValueInfo] = []
    var initializers: [Tensor] = []
    var feeds: [String: Tensor] = [:]
    var outputs: [String] = []
    var opset: Int64 = 19

    /// A value fed at run time.
    mutating func input(_ name: String, _ t: HostTensor) {
        inputs.append(ValueInfo(name: name, type: TypeInfo(.tensor(.float, shape: nil))))
        feeds[name] = Tensor(name: name, elementType: .float, shape: t.shape, values: t.data)
    }

    /// An int64 value fed at run time.
    mutating func input(_ name: String, int64 values: [Int64], shape: [Int]) {
        inputs.append(ValueInfo(name: name, type: TypeInfo(.tensor(.int64, shape: nil))))
        feeds[name] = Tensor(name: name, elementType: .int64, shape: shape, values: values)
    }

    /// A constant initializer.
    mutating func constant(_ name: String, _ t: HostTensor) {
        initializers.append(Tensor(name: name, elementType: .float, shape: t.shape, values: t.data))
    }

    /// `t` as a constant when `constant` is set, else as a runtime input.
    mutating func add(_ name: String, _ t: HostTensor, constant: Bool) {
        if constant { self.constant(name, t) } else { input(name, t) }
    }

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Attribute] = []) {
        nodes.append(Node(opType: op, inputs: inputs, outputs: outputs, attributes: attributes))
    }

    var model: Model {
        let graph = Graph(
            name: "g", nodes: nodes, initializers: initializers, inputs: inputs,
            outputs: outputs.map { ValueInfo(name: $0, type: TypeInfo(.tensor(.undefined, shape: nil))) })
        return Model(irVersion: 8, opsetImports: [OpsetID(domain: "", version: opset)], graph: graph)
    }

    /// Runs the model and returns its outputs (float32, or int64 converted to Float).
    func run(threads: Int = 1, profiler: Profiler? = nil) throws -> [HostTensor] {
        let session = try InferenceSession(model: model, options: SessionOptions(threads: threads))
        return try session.run(feeds, profiler: profiler).map { out in
            let t = out.tensor
            if t.elementType == .int64 { return HostTensor(t.shape, t.bytes!.toArray(of: Int64.self).map(Float.init)) }
            return HostTensor(t.shape, t.bytes!.toArray(of: Float.self))
        }
    }
}

/// Checks `got` against a reference: shape exactly, values within `rtol * max(1, |want|)`. Reports
/// the first bad element and returns whether all matched.
@discardableResult
func assertClose(
    _ got: HostTensor, _ want: [Double], shape: [Int], _ label: @autoclosure () -> String, rtol: Double = 1e-4,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
    guard got.shape == shape else {
        Issue.record("\(label()): shape \(got.shape), expected \(shape)", sourceLocation: sourceLocation)
        return false
    }
    var bad = 0, first = -1, worst = 0.0
    for i in want.indices {
        let err = abs(Double(got.data[i]) - want[i])
        if !(err <= rtol * max(1, abs(want[i]))) {
            bad += 1
            if first < 0 { first = i }
            worst = max(worst, err.isNaN ? .infinity : err)
        }
    }
    if bad > 0 {
        let message =
            "\(label()): \(bad)/\(want.count) values differ (max error \(worst)); first at flat index \(first): "
            + "got \(got.data[first]), expected \(want[first])"
        Issue.record("\(message)", sourceLocation: sourceLocation)
    }
    return bad == 0
}

/// Runs `g` with each thread count: its first output must match `want` every time, and each run must
/// agree with the first to 1e-5 (not bit for bit: splitting a large sgemm over threads changes the
/// sub-problem sizes OpenBLAS sees, and it picks kernels and blocking by size).
@discardableResult
func runAndCompare(
    _ g: KernelGraph, want: [Double], shape: [Int], label: String, threads: [Int] = [1, 2], rtol: Double = 1e-4,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
    var first: HostTensor?
    for t in threads {
        do {
            let y = try g.run(threads: t)[0]
            guard assertClose(y, want, shape: shape, "\(label) threads=\(t)", rtol: rtol, sourceLocation: sourceLocation) else {
                return false
            }
            if let first,
                !assertClose(
                    y, first.data.map(Double.init), shape: first.shape, "\(label): threads=\(t) against threads=\(threads[0])",
                    rtol: min(rtol, 1e-5), sourceLocation: sourceLocation)
            {
                return false
            }
            first = first ?? y
        } catch {
            Issue.record("\(label) threads=\(t): \(error)", sourceLocation: sourceLocation)
            return false
        }
    }
    return true
}

/// Row-major strides of `shape`.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    for d in stride(from: shape.count - 2, through: 0, by: -1) { s[d] = s[d + 1] * shape[d + 1] }
    return s
}

/// Every index tuple of `shape`, row-major.
func allIndices(_ shape: [Int]) -> [[Int]] {
    var out: [[Int]] = [[]]
    for n in shape { out = out.flatMap { prefix in (0..<n).map { prefix + [$0] } } }
    return out
}

/// Output size and pads of one spatial axis by the ONNX Conv / pooling formulas. With `ceil`, a
/// window that would start in the right padding is dropped (the ONNX MaxPool note, PyTorch's rule).
func onnxWindowAxis(
    input: Int, kernel: Int, stride: Int, dilation: Int, pads: (Int, Int), autoPad: String,
    ceil: Bool = false
) -> (out: Int, padBegin: Int, padEnd: Int) {
    let span = (kernel - 1) * dilation + 1
    switch autoPad {
    case "SAME_UPPER", "SAME_LOWER":
        let out = (input + stride - 1) / stride
        let total = max(0, (out - 1) * stride + span - input)
        let begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
        return (out, begin, total - begin)
    case "VALID":
        return ((input - span) / stride + 1, 0, 0)
    default:
        let padded = input + pads.0 + pads.1 - span
        var out = (ceil ? (padded + stride - 1) / stride : padded / stride) + 1
        if ceil && (out - 1) * stride >= input + pads.0 { out -= 1 }
        return (out, pads.0, pads.1)
    }
}

/// Y[n, m, o] = B[m] + sum over the group's input channels c and kernel offsets k of
/// X[n, c, o * stride + k * dilation - padBegin] * W[m, c, k] (ONNX Conv, out-of-range taps are zero).
func referenceConv(
    _ x: HostTensor, _ w: HostTensor, bias: [Float]?, group: Int, strides: [Int], dilations: [Int],
    padBegin: [Int], outSpatial: [Int]
) -> [Double] {
    let n = x.shape[0], c = x.shape[1], m = w.shape[0], cg = c / group, mg = m / group
    let inSpatial = Array(x.shape.dropFirst(2)), kernel = Array(w.shape.dropFirst(2))
    let inPlane = inSpatial.reduce(1, *), kPlane = kernel.reduce(1, *), outPlane = outSpatial.reduce(1, *)
    let outIdx = allIndices(outSpatial), kIdx = allIndices(kernel), inStride = rowMajorStrides(inSpatial)
    // Per output position, the (kernel offset, input offset) pairs that fall inside the input.
    let taps: [[(k: Int, x: Int)]] = outIdx.map { o in
        kIdx.enumerated().compactMap { kp, k in
            var off = 0
            for d in 0..<o.count {
                let i = o[d] * strides[d] + k[d] * dilations[d] - padBegin[d]
                if i < 0 || i >= inSpatial[d] { return nil }
                off += i * inStride[d]
            }
            return (kp, off)
        }
    }
    let xd = x.data.map(Double.init), wd = w.data.map(Double.init)
    var y = [Double](repeating: 0, count: n * m * outPlane)
    xd.withUnsafeBufferPointer { xp in
        wd.withUnsafeBufferPointer { wp in
            for img in 0..<n {
                for oc in 0..<m {
                    let xBase = (img * c + (oc / mg) * cg) * inPlane, wBase = oc * cg * kPlane
                    for p in 0..<outPlane {
                        var s = Double(bias?[oc] ?? 0)
                        for t in taps[p] {
                            for ci in 0..<cg { s += xp[xBase + ci * inPlane + t.x] * wp[wBase + ci * kPlane + t.k] }
                        }
                        y[(img * m + oc) * outPlane + p] = s
                    }
                }
            }
        }
    }
    return y
}

/// Y = alpha * op(A) * op(B) + beta * C, C broadcast to [M, N] as a vector of length N, [M, 1],
/// [1, N], [M, N] or one value (ONNX Gemm).
func referenceGemm(
    _ a: HostTensor, _ b: HostTensor, _ c: HostTensor?, transA: Bool, transB: Bool,
    alpha: Double, beta: Double
) -> (shape: [Int], values: [Double]) {
    let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
    let n = transB ? b.shape[0] : b.shape[1]
    var y = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for t in 0..<k {
                let av = transA ? a.data[t * m + i] : a.data[i * k + t]
                let bv = transB ? b.data[j * k + t] : b.data[t * n + j]
                s += Double(av) * Double(bv)
            }
            var cv = 0.0
            if let c {
                let dims = [Int](repeating: 1, count: 2 - c.shape.count) + c.shape
                cv = Double(c.data[(dims[0] == 1 ? 0 : i) * dims[1] + (dims[1] == 1 ? 0 : j)])
            }
            y[i * n + j] = alpha * s + beta * cv
        }
    }
    return ([m, n], y)
}
