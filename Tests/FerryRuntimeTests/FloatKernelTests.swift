import CKernels
import FerryIR
import FerryTestSupport
import Foundation
import Testing

/// The float C kernels outside the GEMM (depthwise convolution, pooling, the fused activation pass,
/// col2im) swept over shapes against loops written here from the ONNX definitions, under every
/// instruction-set limit (the portable paths included). Sums may be taken in another order than the
/// reference's Double ones, so they agree within 1e-5 of the sum of the terms' magnitudes; maxima,
/// activations of exact values and copies agree exactly.
@Suite struct FloatKernelTests {
    static let isas = kernelISALimits.map(\.isa)

    /// One 2-D window: kernel, strides, dilations, pads (top, left, bottom, right), input size.
    struct Window: CustomStringConvertible {
        var h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr: Int
        var oh: Int { (h + pt + pb - dh * (kh - 1) - 1) / sh + 1 }
        var ow: Int { (w + pl + pr - dw * (kw - 1) - 1) / sw + 1 }
        var description: String { "\(h)x\(w) k\(kh)x\(kw) s\(sh),\(sw) d\(dh),\(dw) p\(pt),\(pl),\(pb),\(pr)" }
        /// The input position tap (ki, kj) of output (oy, ox) reads, nil in the padding.
        func tap(_ oy: Int, _ ox: Int, _ ki: Int, _ kj: Int) -> (Int, Int)? {
            let y = oy * sh + ki * dh - pt, x = ox * sw + kj * dw - pl
            return y >= 0 && y < h && x >= 0 && x < w ? (y, x) : nil
        }
    }

    /// 3x3 stride 1 (the register-blocked kernel, with and without padding, narrow and wide rows),
    /// 5x5 and 7x7, strides 2, dilation 2, a 1x1, asymmetric padding.
    static let windows: [Window] = [
        Window(h: 9, w: 10, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1),
        Window(h: 5, w: 37, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, pb: 0, pr: 0),
        Window(h: 12, w: 12, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 2, pl: 2, pb: 2, pr: 2),
        Window(h: 13, w: 11, kh: 5, kw: 5, sh: 2, sw: 2, dh: 1, dw: 1, pt: 2, pl: 1, pb: 2, pr: 2),
        Window(h: 14, w: 15, kh: 7, kw: 7, sh: 1, sw: 2, dh: 1, dw: 1, pt: 3, pl: 3, pb: 3, pr: 3),
        Window(h: 10, w: 10, kh: 3, kw: 3, sh: 1, sw: 1, dh: 2, dw: 2, pt: 2, pl: 2, pb: 2, pr: 2),
        Window(h: 6, w: 7, kh: 1, kw: 1, sh: 2, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, pb: 0, pr: 0),
        Window(h: 8, w: 9, kh: 2, kw: 3, sh: 2, sw: 3, dh: 1, dw: 1, pt: 0, pl: 1, pb: 1, pr: 0),
        // output rows of exactly 16 and 17 columns (the kernel's vector blocks), 4 and 5 rows
        Window(h: 4, w: 16, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1),
        Window(h: 5, w: 34, kh: 3, kw: 3, sh: 1, sw: 2, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1),
        // a 1x1 input, padding wider than the filter, dilation with stride 2
        Window(h: 1, w: 1, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1),
        Window(h: 3, w: 4, kh: 2, kw: 2, sh: 1, sw: 1, dh: 1, dw: 1, pt: 3, pl: 4, pb: 2, pr: 3),
        Window(h: 15, w: 19, kh: 3, kw: 5, sh: 2, sw: 2, dh: 2, dw: 3, pt: 2, pl: 6, pb: 1, pr: 5),
        // size-keeping stride-1 max pools (their passes sweep whole planes): SPPF's 5x5 on 20 x 20,
        // all the padding on one side, planes narrower than the window
        Window(h: 20, w: 20, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 2, pl: 2, pb: 2, pr: 2),
        Window(h: 7, w: 9, kh: 5, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 2, pb: 4, pr: 0),
        Window(h: 3, w: 2, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pt: 2, pl: 1, pb: 2, pr: 3),
        // 2x2 and 2x1 downsampling (their own AVX2 kernel): 8-output steps and a tail, odd sizes
        Window(h: 8, w: 40, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, pt: 0, pl: 0, pb: 0, pr: 0),
        Window(h: 9, w: 37, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, pt: 0, pl: 0, pb: 0, pr: 0),
        Window(h: 9, w: 27, kh: 2, kw: 1, sh: 2, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, pb: 0, pr: 0)
    ]

    /// The fused activations with parameters: (kind, a, b).
    static let activations: [(Int32, Float, Float)] = [
        (Int32(FERRY_ACT_NONE.rawValue), 0, 0), (Int32(FERRY_ACT_RELU.rawValue), 0, 0),
        (Int32(FERRY_ACT_CLIP.rawValue), -0.5, 0.75), (Int32(FERRY_ACT_SIGMOID.rawValue), 0, 0),
        (Int32(FERRY_ACT_HARDSWISH.rawValue), 0, 0), (Int32(FERRY_ACT_LEAKYRELU.rawValue), 0.1, 0),
        (Int32(FERRY_ACT_HARDSIGMOID.rawValue), 0.2, 0.5), (Int32(FERRY_ACT_TANH.rawValue), 0, 0),
        (Int32(FERRY_ACT_SWISH.rawValue), 1, 0), (Int32(FERRY_ACT_SWISH.rawValue), 1.702, 0),
        (Int32(FERRY_ACT_GELU.rawValue), 0, 0), (Int32(FERRY_ACT_GELU_TANH.rawValue), 0, 0)
    ]

    /// The ONNX definition of each activation, in Double.
    static func activate(_ v: Double, _ act: Int32, _ a: Float, _ b: Float) -> Double {
        let (a, b) = (Double(a), Double(b))
        switch UInt32(act) {
        case FERRY_ACT_RELU.rawValue: return max(v, 0)
        case FERRY_ACT_CLIP.rawValue: return min(max(v, a), b)
        case FERRY_ACT_SIGMOID.rawValue: return 1 / (1 + exp(-v))
        case FERRY_ACT_HARDSWISH.rawValue: return v * min(max(v / 6 + 0.5, 0), 1)
        case FERRY_ACT_LEAKYRELU.rawValue: return v < 0 ? a * v : v
        case FERRY_ACT_HARDSIGMOID.rawValue: return min(max(a * v + b, 0), 1)
        case FERRY_ACT_TANH.rawValue: return tanh(v)
        case FERRY_ACT_SWISH.rawValue: return v / (1 + exp(-a * v))
        case FERRY_ACT_GELU.rawValue: return 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
        case FERRY_ACT_GELU_TANH.rawValue: return 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
        default: return v
        }
    }

    static func random(_ count: Int, _ rng: inout SplitMix64) -> [Float] { (0..<count).map { _ in rng.unit() } }

    /// Expects `got` within 1e-5 of `want` relative to `scale` (the magnitude of the terms summed).
    static func expectClose(_ got: [Float], _ want: [Double], scale: [Double], _ what: String) {
        let bad = got.indices.first { abs(Double(got[$0]) - want[$0]) > 1e-5 * max(scale[$0], 1e-3) }
        #expect(bad == nil, "\(what): element \(bad ?? 0) is \(bad.map { got[$0] } ?? 0), want \(bad.map { want[$0] } ?? 0)")
    }

    @Test(arguments: isas)
    func depthwiseMatchesTheDefinition(isa: Int32) {
        var rng = SplitMix64(seed: 5)
        for window in Self.windows {
            // 21 channels from 1: two whole groups of eight (the kernel's vector lanes) and one of four
            let channels = 21, (oh, ow) = (window.oh, window.ow)
            let x = Self.random(channels * window.h * window.w, &rng), w = Self.random(channels * window.kh * window.kw, &rng)
            let bias = Self.random(channels, &rng), (act, a, b) = rng.pick(Self.activations)
            var want = [Double](repeating: 0, count: channels * oh * ow), scale = want
            for c in 0..<channels {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum = Double(bias[c]), size = abs(Double(bias[c]))
                        for ki in 0..<window.kh {
                            for kj in 0..<window.kw {
                                guard let at = window.tap(oy, ox, ki, kj) else { continue }
                                let term =
                                    Double(x[(c * window.h + at.0) * window.w + at.1])
                                    * Double(w[(c * window.kh + ki) * window.kw + kj])
                                sum += term
                                size += abs(term)
                            }
                        }
                        want[(c * oh + oy) * ow + ox] = Self.activate(sum, act, a, b)
                        scale[(c * oh + oy) * ow + ox] = size
                    }
                }
            }
            // channels 1..<21: a range that starts inside the tensor
            var y = [Float](repeating: .nan, count: channels * oh * ow)
            var scratch = [Float](
                repeating: .nan,
                count: ferry_depthwise_2d_scratch(
                    window.w, window.kh, window.kw, window.sh, window.sw, window.dh, window.dw, oh, ow))
            withKernelISA(isa) {
                ferry_depthwise_2d(
                    x, w, bias, &y, 1, channels, window.h, window.w, window.kh, window.kw, window.sh, window.sw,
                    window.dh, window.dw, window.pt, window.pl, oh, ow, act, a, b, &scratch)
            }
            let part = (oh * ow)..<(channels * oh * ow)
            Self.expectClose(Array(y[part]), Array(want[part]), scale: Array(scale[part]), "depthwise \(window) act \(act)")
            let untouched = y[0..<(oh * ow)].allSatisfy { $0.isNaN }
            #expect(untouched, "depthwise \(window): channel 0 was outside the range")
        }
    }

    @Test(arguments: isas)
    func poolingMatchesTheDefinition(isa: Int32) {
        var rng = SplitMix64(seed: 9)
        for window in Self.windows where window.pt < window.kh && window.pl < window.kw {
            let planes = 3, (oh, ow) = (window.oh, window.ow)
            let x = Self.random(planes * window.h * window.w, &rng)
            for (average, includePad) in [(0, 0), (1, 0), (1, 1)] {
                var want = [Double](repeating: 0, count: planes * oh * ow)
                for p in 0..<planes {
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            var best = -Double.infinity, sum = 0.0, inside = 0, padded = 0
                            for ki in 0..<window.kh {
                                for kj in 0..<window.kw {
                                    let y = oy * window.sh + ki * window.dh - window.pt,
                                        xx = ox * window.sw + kj * window.dw - window.pl
                                    if y < window.h + window.pb, xx < window.w + window.pr { padded += 1 }
                                    guard let at = window.tap(oy, ox, ki, kj) else { continue }
                                    let v = Double(x[(p * window.h + at.0) * window.w + at.1])
                                    best = max(best, v)
                                    sum += v
                                    inside += 1
                                }
                            }
                            want[(p * oh + oy) * ow + ox] = average == 0 ? best : sum / Double(includePad == 1 ? padded : inside)
                        }
                    }
                }
                var y = [Float](repeating: .nan, count: planes * oh * ow)
                withKernelISA(isa) {
                    ferry_pool_2d(
                        x, &y, 0, planes, window.h, window.w, window.kh, window.kw, window.sh, window.sw, window.dh,
                        window.dw, window.pt, window.pl, window.pb, window.pr, oh, ow, Int32(average), Int32(includePad))
                }
                if average == 0 {
                    #expect(y.map(Double.init) == want, "max pool \(window)")
                } else {
                    Self.expectClose(y, want, scale: want.map { _ in 1 }, "average pool \(window) include pad \(includePad)")
                }
            }
        }
    }

    /// Max pooling with NaNs, signed zeros and infinities in the windows: every path (the 2x2 and
    /// 2x1 downsampling kernel, the separable passes, the tap sweeps) gives the portable separable result bit for bit (a
    /// NaN never wins; of equal values the first tap's stays).
    @Test func maxPoolSpecialValuesAgreeOnEveryPath() {
        var rng = SplitMix64(seed: 17)
        let specials: [Float] = [.nan, -0.0, 0.0, -.infinity, .infinity, 1, -1]
        for (h, w, kw) in [(4, 34, 2), (6, 21, 2), (5, 19, 1)] {
            let x = (0..<(2 * h * w)).map { _ in rng.int(0...2) == 0 ? rng.unit() : specials[rng.int(0...specials.count - 1)] }
            let oh = h / 2, ow = w / kw
            var results: [[UInt32]] = []
            for isa in Self.isas {
                var y = [Float](repeating: 7, count: 2 * oh * ow)
                withKernelISA(isa) { ferry_pool_2d(x, &y, 0, 2, h, w, 2, kw, 2, kw, 1, 1, 0, 0, 0, 0, oh, ow, 0, 0) }
                results.append(y.map(\.bitPattern))
            }
            #expect(results.allSatisfy { $0 == results[0] }, "\(h)x\(w) window 2x\(kw)")
        }
        // Size-keeping stride-1 windows (whole-plane sweeps, then the edges): the fold over each
        // window's taps in row-major order from -infinity, bit for bit.
        for win in Self.windows
        where win.sh == 1 && win.sw == 1 && win.dh == 1 && win.dw == 1 && win.oh == win.h && win.ow == win.w {
            let x = (0..<(win.h * win.w)).map { _ in rng.int(0...2) == 0 ? rng.unit() : specials[rng.int(0...specials.count - 1)]
            }
            var want = [UInt32](repeating: 0, count: win.h * win.w)
            for oy in 0..<win.h {
                for ox in 0..<win.w {
                    var m = -Float.infinity
                    for ki in 0..<win.kh {
                        for kj in 0..<win.kw {
                            if let (y, x0) = win.tap(oy, ox, ki, kj) { m = x[y * win.w + x0] > m ? x[y * win.w + x0] : m }
                        }
                    }
                    want[oy * win.w + ox] = m.bitPattern
                }
            }
            for isa in Self.isas {
                var y = [Float](repeating: 7, count: win.h * win.w)
                withKernelISA(isa) {
                    ferry_pool_2d(
                        x, &y, 0, 1, win.h, win.w, win.kh, win.kw, 1, 1, 1, 1, win.pt, win.pl, win.pb, win.pr, win.h, win.w, 0, 0)
                }
                #expect(y.map(\.bitPattern) == want, "\(win) isa \(isa)")
            }
        }
    }

    @Test(arguments: isas)
    func scaleBiasActivationMatchesTheDefinition(isa: Int32) {
        var rng = SplitMix64(seed: 13)
        for (act, a, b) in Self.activations {
            for (rows, cols, ldy) in [(1, 1, 1), (3, 17, 20), (4, 64, 64), (2, 5, 9)] {
                let y0 = (0..<(rows * ldy)).map { _ in rng.unit() * 8 }
                let scale = Self.random(rows, &rng), bias = Self.random(rows, &rng)
                for (useScale, useBias) in [(true, true), (false, true), (true, false), (false, false)] {
                    var y = y0
                    withKernelISA(isa) {
                        ferry_scale_bias_act(&y, rows, cols, ldy, useScale ? scale : nil, useBias ? bias : nil, act, a, b)
                    }
                    for r in 0..<rows {
                        for p in 0..<ldy {
                            let v = y0[r * ldy + p]
                            guard p < cols else {
                                #expect(y[r * ldy + p] == v, "act \(act): column \(p) past cols changed")
                                continue
                            }
                            let pre = Double(v) * Double(useScale ? scale[r] : 1) + Double(useBias ? bias[r] : 0)
                            let want = Self.activate(pre, act, a, b)
                            #expect(
                                abs(Double(y[r * ldy + p]) - want) <= 1e-6 * max(abs(pre), 1),
                                "act \(act) rows \(rows) cols \(cols): \(y[r * ldy + p]) want \(want)")
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: isas)
    func col2imAddsEveryColumnBack(isa: Int32) {
        var rng = SplitMix64(seed: 17)
        // (image shape, kernel, strides, dilations, pads, channels)
        let cases: [([Int], [Int], [Int], [Int], [Int], Int)] = [
            ([6, 7], [3, 3], [1, 1], [1, 1], [1, 1], 2), ([9, 8], [3, 2], [2, 1], [1, 2], [1, 0], 3),
            ([11], [4], [3], [2], [2], 2), ([4, 5, 3], [2, 3, 2], [1, 2, 1], [1, 1, 2], [1, 1, 0], 2)
        ]
        for (image, kernel, strides, dilations, pads, channels) in cases {
            let grid = image.indices.map { (image[$0] + 2 * pads[$0] - dilations[$0] * (kernel[$0] - 1) - 1) / strides[$0] + 1 }
            let taps = kernel.reduce(1, *), columns = grid.reduce(1, *), plane = image.reduce(1, *)
            let col = Self.random(channels * taps * columns, &rng), y0 = Self.random(channels * plane, &rng)
            var want = y0.map(Double.init), scale = y0.map { abs(Double($0)) }
            for c in 0..<channels {
                for t in 0..<taps {
                    let tap = SGemmKernelTests.unflatten(t, kernel)
                    for p in 0..<columns {
                        guard
                            let offset = SGemmKernelTests.imageOffset(
                                output: SGemmKernelTests.unflatten(p, grid), tap: tap, image, strides, dilations, pads)
                        else { continue }
                        let v = Double(col[(c * taps + t) * columns + p])
                        want[c * plane + offset] += v
                        scale[c * plane + offset] += abs(v)
                    }
                }
            }
            var y = y0
            withKernelISA(isa) { ferry_col2im_nd(col, channels, image.count, image, kernel, strides, dilations, pads, grid, &y) }
            Self.expectClose(y, want, scale: scale, "col2im \(image) kernel \(kernel)")
        }
    }

    /// The binary arithmetic loops (`ferry_binary_f32`) with both operands contiguous, the result
    /// written over the first operand (as the MatMul output pass adds a bias or residual) and
    /// elsewhere, and with a scalar operand: each element the operation of its operands, exactly.
    @Test(arguments: isas)
    func binaryArithmeticMatchesTheDefinition(isa: Int32) {
        var rng = SplitMix64(seed: 23)
        let ops: [(ferry_binary_op, (Float, Float) -> Float)] = [
            (FERRY_BIN_ADD, { $0 + $1 }), (FERRY_BIN_SUB, { $0 - $1 }), (FERRY_BIN_MUL, { $0 * $1 }), (FERRY_BIN_DIV, { $0 / $1 })
        ]
        for (op, f) in ops {
            for n in [1, 3, 8, 31, 64, 100] {
                let a = Self.random(n, &rng), b = Self.random(n, &rng)
                let want = zip(a, b).map { f($0, $1).bitPattern }
                var inPlace = a, apart = [Float](repeating: .nan, count: n)
                var scalar = [Float](repeating: .nan, count: n)
                withKernelISA(isa) {
                    inPlace.withUnsafeMutableBufferPointer { y in
                        ferry_binary_f32(Int32(op.rawValue), y.baseAddress!, 1, b, 1, y.baseAddress!, n)
                    }
                    ferry_binary_f32(Int32(op.rawValue), a, 1, b, 1, &apart, n)
                    ferry_binary_f32(Int32(op.rawValue), a, 1, b, 0, &scalar, n)
                }
                #expect(inPlace.map(\.bitPattern) == want, "op \(op.rawValue) n \(n) in place")
                #expect(apart.map(\.bitPattern) == want, "op \(op.rawValue) n \(n)")
                #expect(scalar.map(\.bitPattern) == a.map { f($0, b[0]).bitPattern }, "op \(op.rawValue) n \(n) scalar b")
            }
        }
    }
}
