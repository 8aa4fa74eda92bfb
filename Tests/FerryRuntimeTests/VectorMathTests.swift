import CKernels
import FerryIR
import Foundation
import Testing

/// `ferry_vmath` against float64 references, under every instruction-set limit: the error bounds
/// ferry_kernels.h states (4 ulp where the result is a normal float, for Swish where sigmoid(alpha x)
/// is; erf and the GELUs 1e-6 absolute, the GELUs for |x| <= 8) over sweeps of float bit patterns, and the special values (zeros, infinities, NaN,
/// overflow and underflow).
@Suite struct VectorMathTests {
    /// How a function's results are judged.
    enum Bound {
        /// At most this many units in the last place of the exact value, where that is a normal float.
        case ulps(Double)
        /// At most this far from the exact value.
        case absolute(Double)
        /// Correctly rounded (the float nearest the exact value).
        case exact
    }

    struct Case: CustomTestStringConvertible {
        let name: String
        let function: ferry_vmath_function
        var alpha: Float = 1
        /// Inputs swept: every float whose magnitude lies in the range, both signs unless `positive`.
        let range: ClosedRange<Float>
        var positive = false
        let bound: Bound
        let reference: (Double) -> Double
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "exp", function: FERRY_VM_EXP, range: 0...88.72, bound: .ulps(4), reference: { Foundation.exp($0) }),
        Case(
            name: "log", function: FERRY_VM_LOG, range: Float.leastNonzeroMagnitude...Float.greatestFiniteMagnitude,
            positive: true, bound: .ulps(4), reference: { Foundation.log($0) }),
        Case(
            name: "sigmoid", function: FERRY_VM_SIGMOID, range: 0...200, bound: .ulps(4),
            reference: { 1 / (1 + Foundation.exp(-$0)) }),
        Case(name: "tanh", function: FERRY_VM_TANH, range: 0...100, bound: .ulps(4), reference: { Foundation.tanh($0) }),
        Case(name: "erf", function: FERRY_VM_ERF, range: 0...100, bound: .absolute(1e-6), reference: { Foundation.erf($0) }),
        Case(
            name: "gelu", function: FERRY_VM_GELU, range: 0...8, bound: .absolute(1e-6),
            reference: { 0.5 * $0 * Foundation.erfc(-$0 / 2.0.squareRoot()) }),
        Case(
            name: "gelu-tanh", function: FERRY_VM_GELU_TANH, range: 0...8, bound: .absolute(1e-6),
            reference: { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }),
        Case(
            name: "silu", function: FERRY_VM_SWISH, range: 0...87, bound: .ulps(4), reference: { $0 / (1 + Foundation.exp(-$0)) }),
        Case(
            name: "swish-1.702", function: FERRY_VM_SWISH, alpha: 1.702, range: 0...51, bound: .ulps(4),
            // alpha * x is rounded to float first, as every float32 Swish does: that rounding alone
            // moves the result by up to |alpha x| / 2^24 relative, more than 4 ulp for large |alpha x|.
            reference: { $0 / (1 + Foundation.exp(-Double(Float(1.702) * Float($0)))) }),
        Case(
            name: "softplus", function: FERRY_VM_SOFTPLUS, range: 0...200, bound: .ulps(4),
            reference: { $0 > 0 ? $0 + Foundation.log1p(Foundation.exp(-$0)) : Foundation.log1p(Foundation.exp($0)) }),
        Case(
            name: "sqrt", function: FERRY_VM_SQRT, range: 0...Float.greatestFiniteMagnitude, positive: true, bound: .exact,
            reference: { $0.squareRoot() }),
        Case(
            name: "reciprocal", function: FERRY_VM_RECIPROCAL, range: Float.leastNormalMagnitude...1e30, bound: .exact,
            reference: { 1 / $0 })
    ]

    /// About `count` floats of each sign spread evenly over the bit patterns of `range`, with both
    /// ends; an odd count so that the tail of a vector is exercised too.
    static func sweep(_ c: Case, count: Int = 150_001) -> [Float] {
        let lo = c.range.lowerBound.bitPattern, hi = c.range.upperBound.bitPattern
        let step = max(1, Int(hi - lo) / count)
        var xs = stride(from: Int(lo), through: Int(hi), by: step).map { Float(bitPattern: UInt32($0)) }
        xs.append(c.range.upperBound)
        return c.positive ? xs : xs + xs.map { -$0 }
    }

    static func run(_ c: Case, _ xs: [Float]) -> [Float] {
        var ys = [Float](repeating: .nan, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            ys.withUnsafeMutableBufferPointer { y in
                ferry_vmath(Int32(c.function.rawValue), x.baseAddress, y.baseAddress, xs.count, c.alpha)
            }
        }
        return ys
    }

    @Test(arguments: cases)
    func sweepWithinBound(_ c: Case) {
        let xs = Self.sweep(c)
        for limit in kernelISALimits {
            let ys = withKernelISA(limit.isa) { Self.run(c, xs) }
            var worst = 0.0, worstX: Float = 0
            for (x, y) in zip(xs, ys) {
                let exact = c.reference(Double(x))
                let error: Double
                switch c.bound {
                case .ulps:
                    guard abs(exact) >= Double(Float.leastNormalMagnitude), abs(exact) <= Double(Float.greatestFiniteMagnitude)
                    else { continue }
                    error = abs(Double(y) - exact) / Double(Float(exact).ulp)
                case .absolute:
                    error = abs(Double(y) - exact)
                case .exact:
                    error = y == Float(exact) ? 0 : 1
                }
                if !(error <= worst) {
                    worst = error
                    worstX = x
                }
            }
            switch c.bound {
            case .ulps(let bound):
                #expect(worst <= bound, "\(c.name) \(limit.name): \(worst) ulp at x = \(worstX)")
            case .absolute(let bound):
                #expect(worst <= bound, "\(c.name) \(limit.name): error \(worst) at x = \(worstX)")
            case .exact:
                #expect(worst == 0, "\(c.name) \(limit.name): not correctly rounded at x = \(worstX)")
            }
        }
    }

    /// Zeros, infinities, NaN, overflow, underflow and the far tails, the same under every limit.
    @Test func specialValues() {
        let inf = Float.infinity
        let expected: [(ferry_vmath_function, [(Float, Float)])] = [
            (FERRY_VM_EXP, [(0, 1), (-0.0, 1), (inf, inf), (-inf, 0), (88.73, inf), (1000, inf), (-104, 0), (-1000, 0)]),
            (FERRY_VM_LOG, [(1, 0), (0, -inf), (-0.0, -inf), (inf, inf), (-1, .nan), (-inf, .nan)]),
            (FERRY_VM_SIGMOID, [(0, 0.5), (inf, 1), (-inf, 0), (1000, 1), (-1000, 0)]),
            (FERRY_VM_TANH, [(0, 0), (inf, 1), (-inf, -1), (1000, 1), (-1000, -1)]),
            (FERRY_VM_ERF, [(0, 0), (inf, 1), (-inf, -1), (5, 1), (-5, -1)]),
            (FERRY_VM_GELU, [(0, 0), (inf, inf), (1000, 1000), (-1000, 0)]),
            (FERRY_VM_GELU_TANH, [(0, 0), (inf, inf), (1000, 1000), (-1000, 0)]),
            (FERRY_VM_SWISH, [(0, 0), (inf, inf), (1000, 1000), (-1000, 0)]),
            (FERRY_VM_SOFTPLUS, [(0, Float(Foundation.log(2.0))), (inf, inf), (-inf, 0), (1000, 1000), (-1000, 0)]),
            (FERRY_VM_SQRT, [(0, 0), (inf, inf), (-1, .nan)]),
            (FERRY_VM_RECIPROCAL, [(0, inf), (-0.0, -inf), (inf, 0)])
        ]
        for limit in kernelISALimits {
            for (function, pairs) in expected {
                let c = Case(name: "", function: function, range: 0...0, bound: .exact, reference: { $0 })
                let xs = pairs.map(\.0) + [.nan]
                let ys = withKernelISA(limit.isa) { Self.run(c, xs) }
                for ((x, want), got) in zip(pairs, ys) {
                    #expect(
                        want.isNaN ? got.isNaN : got == want,
                        "function \(function.rawValue) \(limit.name): f(\(x)) = \(got), expected \(want)")
                }
                #expect(ys.last!.isNaN, "function \(function.rawValue) \(limit.name): NaN gives \(ys.last!)")
            }
        }
    }

    /// exp's subnormal results (x from -87.34 down to -103.9) are within one subnormal step.
    @Test func expSubnormalResults() {
        let xs = stride(from: -87.34, through: -103.9, by: -0.01).map { Float($0) }
        let c = Case(name: "exp", function: FERRY_VM_EXP, range: 0...0, bound: .exact, reference: { $0 })
        for limit in kernelISALimits {
            let ys = withKernelISA(limit.isa) { Self.run(c, xs) }
            for (x, y) in zip(xs, ys) {
                let error = abs(Double(y) - Foundation.exp(Double(x))) / Double(Float.leastNonzeroMagnitude)
                #expect(error <= 1, "exp \(limit.name): \(error) subnormal steps at x = \(x)")
            }
        }
    }

    /// `ferry_softmax_rows` against float64 Softmax and LogSoftmax, for row lengths around the vector
    /// widths (the padded tails), rows in place and not; a NaN makes its row NaN and only its row;
    /// -inf entries give 0 (Softmax) and -inf (LogSoftmax).
    @Test func layerNormRows() {
        var rng = SplitMix64(seed: 47)
        for limit in kernelISALimits {
            for n in [1, 3, 7, 8, 9, 16, 17, 31, 33, 384] {
                let rows = 3, epsilon: Float = 1e-5
                // An offset row: the two-pass variance keeps its precision where E[x^2] - E[x]^2 would not.
                let x = (0..<(rows * n)).map { i in Float(Double(rng.next() % 20_000) / 1000 - 10) + (i / n == 2 ? 1000 : 0) }
                let scale = (0..<n).map { _ in Float(Double(rng.next() % 2000) / 1000) }
                let bias = (0..<n).map { _ in Float(Double(rng.next() % 2000) / 1000 - 1) }
                for withBias in [false, true] {
                    var y = [Float](repeating: .nan, count: x.count)
                    var mean = [Float](repeating: .nan, count: rows), inverse = mean
                    withKernelISA(limit.isa) {
                        ferry_layer_norm_rows(x, &y, rows, n, scale, withBias ? bias : nil, epsilon, &mean, &inverse)
                    }
                    for r in 0..<rows {
                        let row: [Double] = x[(r * n)..<(r * n + n)].map { Double($0) }
                        let mu = row.reduce(0, +) / Double(n)
                        let inv = 1 / (row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(n) + Double(epsilon)).squareRoot()
                        #expect(abs(Double(mean[r]) - mu) <= 1e-6 * max(1, abs(mu)), "\(limit.name) n \(n) row \(r): mean")
                        #expect(abs(Double(inverse[r]) - inv) <= 1e-4 * inv, "\(limit.name) n \(n) row \(r): inverse")
                        for (i, v) in row.enumerated() {
                            let want = (v - mu) * inv * Double(scale[i]) + (withBias ? Double(bias[i]) : 0)
                            #expect(
                                abs(Double(y[r * n + i]) - want) <= 1e-4 * max(1, abs(want)),
                                "\(limit.name) n \(n) bias \(withBias): row \(r)[\(i)] = \(y[r * n + i]), want \(want)")
                        }
                    }
                }
            }
        }
    }

    @Test func softmaxRows() {
        var rng = SplitMix64(seed: 31)
        for limit in kernelISALimits {
            for n in [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 128] {
                let rows = 3
                var x = (0..<(rows * n)).map { _ in Float(Double(rng.next() % 20_000) / 1000 - 10) }
                if n > 1 { x[n] = -.infinity } // row 1 keeps other, finite values
                for log: Int32 in [0, 1] {
                    for inPlace in [false, true] {
                        var y = inPlace ? x : [Float](repeating: .nan, count: x.count)
                        withKernelISA(limit.isa) {
                            if inPlace {
                                y.withUnsafeMutableBufferPointer {
                                    ferry_softmax_rows($0.baseAddress, $0.baseAddress, rows, n, log)
                                }
                            } else {
                                ferry_softmax_rows(x, &y, rows, n, log)
                            }
                        }
                        for r in 0..<rows {
                            let row: [Double] = x[(r * n)..<(r * n + n)].map { Double($0) }
                            let top = row.max()!, sum = row.map { Foundation.exp($0 - top) }.reduce(0, +)
                            for (i, v) in row.enumerated() {
                                let got = Double(y[r * n + i])
                                let want = log == 1 ? (v - top) - Foundation.log(sum) : Foundation.exp(v - top) / sum
                                let ok = want.isInfinite ? got == want : abs(got - want) <= 1e-6 * max(1, abs(want))
                                #expect(
                                    ok,
                                    "\(limit.name) n \(n) log \(log) in place \(inPlace): row \(r)[\(i)] = \(got), want \(want)")
                            }
                        }
                    }
                }
                var withNaN = x
                withNaN[2 * n + n / 2] = .nan
                var y = [Float](repeating: 0, count: x.count)
                withKernelISA(limit.isa) { ferry_softmax_rows(withNaN, &y, rows, n, 0) }
                #expect(y[(2 * n)...].allSatisfy(\.isNaN) && !y[..<(2 * n)].contains { $0.isNaN }, "\(limit.name) n \(n): NaN")
            }
        }
    }
}
