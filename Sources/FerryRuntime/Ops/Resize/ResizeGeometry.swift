import FerryIR

/// One axis of a resize: its lengths, the scale the coordinate transform divides by, and its ROI.
struct ResizeAxis {
    let input: Int
    let output: Int
    let scale: Double
    let roiStart: Double
    let roiEnd: Double

    /// The output length before rounding, which align_corners and tf_crop_and_resize divide by.
    var exactOutput: Double { scale * Double(input) }
}

/// The output geometry of a resize, from its `scales` or `sizes` input.
enum ResizeGeometry {
    /// Per axis of `shape`: output length, scale and ROI. `scales`, `sizes` and `roi` refer to
    /// `config.axes` (all axes when nil); exactly one of `scales` and `sizes` must be given.
    static func axes(shape: [Int], scales: [Double]?, sizes: [Int]?, roi: [Double]?, config: ResizeConfig) throws -> [ResizeAxis]
    {
        let rank = shape.count
        var listed = Array(0..<rank)
        if let axes = config.axes {
            listed = try axes.map { a in
                let d = a < 0 ? a + rank : a
                guard d >= 0, d < rank else { throw KernelError.invalid("axis \(a) is out of range for rank \(rank)") }
                return d
            }
            guard Set(listed).count == listed.count else { throw KernelError.invalid("axes \(axes) repeat an axis") }
        }
        var scale = [Double](repeating: 1, count: rank)
        var output = shape
        switch (scales, sizes) {
        case (let s?, nil):
            guard s.count == listed.count else {
                throw KernelError.invalid("scales has \(s.count) values for \(listed.count) axes")
            }
            for (i, d) in listed.enumerated() {
                guard s[i] > 0, s[i].isFinite else { throw KernelError.invalid("scale \(s[i]) must be positive") }
                let length = (s[i] * Double(shape[d])).rounded(.down)
                guard length < 1e15 else { throw KernelError.invalid("scale \(s[i]) makes axis \(d) too long") }
                scale[d] = s[i]
                output[d] = Int(length)
            }
        case (nil, let s?):
            guard s.count == listed.count else {
                throw KernelError.invalid("sizes has \(s.count) values for \(listed.count) axes")
            }
            for (i, d) in listed.enumerated() {
                guard s[i] >= 0 else { throw KernelError.invalid("size \(s[i]) is negative") }
                output[d] = s[i]
                scale[d] = shape[d] == 0 ? 1 : Double(s[i]) / Double(shape[d])
            }
            if config.policy != .stretch {
                let ratios = listed.filter { shape[$0] > 0 }.map { scale[$0] }
                if let uniform = config.policy == .notLarger ? ratios.min() : ratios.max() {
                    for d in listed where shape[d] > 0 {
                        let length = (uniform * Double(shape[d]) + 0.5).rounded(.down)
                        guard length < 1e15 else { throw KernelError.invalid("sizes make axis \(d) too long") }
                        scale[d] = uniform
                        output[d] = Int(length)
                    }
                }
            }
        case (nil, nil):
            throw KernelError.invalid("one of scales and sizes is required")
        case (.some, .some):
            throw KernelError.invalid("only one of scales and sizes may be given")
        }
        var start = [Double](repeating: 0, count: rank), end = [Double](repeating: 1, count: rank)
        if config.coordinates == .tfCropAndResize {
            guard let roi, roi.count == 2 * listed.count else {
                throw KernelError.invalid("tf_crop_and_resize needs roi with \(2 * listed.count) values, got \(roi?.count ?? 0)")
            }
            for (i, d) in listed.enumerated() {
                start[d] = roi[i]
                end[d] = roi[listed.count + i]
            }
        }
        return (0..<rank).map {
            ResizeAxis(input: shape[$0], output: output[$0], scale: scale[$0], roiStart: start[$0], roiEnd: end[$0])
        }
    }
}

/// Per output coordinate of one axis: the input indices it reads (`taps` of them, clamped into the
/// axis) and their weights, or that it lies outside the crop (tf_crop_and_resize extrapolation).
struct ResizeAxisTable {
    let taps: Int
    let index: [Int]
    let weight: [Double]
    let outside: [Bool]
    /// True when every output coordinate reads exactly its own input coordinate.
    let isIdentity: Bool

    init(_ axis: ResizeAxis, _ config: ResizeConfig) throws {
        let n = axis.output, length = axis.input
        guard length > 0 || n == 0 else { throw KernelError.invalid("cannot resize an empty axis to length \(n)") }
        let shrink = min(axis.scale, 1)
        let stretched = config.antialias && shrink < 1 && config.mode != .nearest
        if stretched { guard 1 / shrink < 1e7 else { throw KernelError.invalid("scale \(axis.scale) is too small") } }
        // Offsets (from the neighbour at or left of the source coordinate) of the taps.
        let first: Int
        switch config.mode {
        case .nearest: first = 0
        case .linear: first = stretched ? Int((-1 / shrink).rounded(.down)) + 1 : 0
        case .cubic: first = stretched ? Int((-2 / shrink).rounded(.down)) + 1 : -1
        }
        let taps = config.mode == .nearest ? 1 : 2 - 2 * first
        var index = [Int](repeating: 0, count: n * taps)
        var weight = [Double](repeating: 0, count: n * taps)
        var outside = [Bool](repeating: false, count: n)
        var identity = n == length
        var w = [Double](repeating: 0, count: taps)
        for o in 0..<n {
            let x = ResizeAxisTable.source(o, axis, config.coordinates)
            guard abs(x) < 1e15 else {
                if config.coordinates == .tfCropAndResize {
                    outside[o] = true
                    identity = false
                    continue
                }
                throw KernelError.invalid("resize coordinate \(x) is out of range")
            }
            if config.coordinates == .tfCropAndResize && (x < 0 || x > Double(length - 1)) {
                outside[o] = true
                identity = false
                continue
            }
            // The reference picks neighbours left of the coordinate: an integral coordinate k is
            // taken as (k - 1) + 1, so the ratio is in (0, 1].
            let floor = x.rounded(.down)
            let base = floor == x ? Int(floor) - 1 : Int(floor)
            let ratio = x - Double(base)
            var nearest = base
            switch config.mode {
            case .nearest:
                let up: Bool
                switch config.rounding {
                case .roundPreferFloor: up = ratio > 0.5
                case .roundPreferCeil: up = ratio >= 0.5
                case .floor: up = ratio == 1
                case .ceil: up = true
                case .legacy: up = axis.scale < 1 || ratio == 1
                }
                w[0] = 1
                if up { nearest = base + 1 }
            case .linear:
                for t in 0..<taps { w[t] = max(0, 1 - abs((Double(first + t) - ratio) * shrink)) }
                if !stretched {
                    w[0] = 1 - ratio
                    w[1] = ratio
                }
            case .cubic:
                if stretched {
                    for t in 0..<taps { w[t] = ResizeAxisTable.cubic(abs((Double(first + t) - ratio) * shrink), config.cubicA) }
                } else {
                    for t in 0..<taps { w[t] = ResizeAxisTable.cubic(abs(Double(first + t) - ratio), config.cubicA) }
                }
            }
            if stretched { ResizeAxisTable.normalize(&w) }
            if config.excludeOutside && config.mode != .nearest {
                for t in 0..<taps where base + first + t < 0 || base + first + t >= length { w[t] = 0 }
                ResizeAxisTable.normalize(&w)
            }
            var own = 0.0, elsewhere = false
            for t in 0..<taps {
                let i = min(max(config.mode == .nearest ? nearest : base + first + t, 0), length - 1)
                index[o * taps + t] = i
                weight[o * taps + t] = w[t]
                if i == o { own += w[t] } else if w[t] != 0 { elsewhere = true }
            }
            if own != 1 || elsewhere { identity = false }
        }
        self.taps = taps
        self.index = index
        self.weight = weight
        self.outside = outside
        isIdentity = identity
    }

    /// The input coordinate output coordinate `o` maps to.
    private static func source(_ o: Int, _ a: ResizeAxis, _ mode: ResizeCoordinates) -> Double {
        let x = Double(o)
        switch mode {
        case .halfPixel:
            return (x + 0.5) / a.scale - 0.5
        case .halfPixelSymmetric:
            let adjustment = Double(a.output) / a.exactOutput
            return Double(a.input) / 2 * (1 - adjustment) + (x + 0.5) / a.scale - 0.5
        case .pytorchHalfPixel:
            return a.output > 1 ? (x + 0.5) / a.scale - 0.5 : 0
        case .alignCorners:
            return a.output == 1 ? 0 : x * Double(a.input - 1) / (a.exactOutput - 1)
        case .asymmetric:
            return x / a.scale
        case .tfHalfPixelForNearest:
            return (x + 0.5) / a.scale
        case .tfCropAndResize:
            let span = (a.roiEnd - a.roiStart) * Double(a.input - 1)
            return (a.output == 1 ? span / 2 : x * span / (a.exactOutput - 1)) + a.roiStart * Double(a.input - 1)
        }
    }

    /// Keys' cubic convolution kernel with parameter `a` at distance `d` >= 0.
    private static func cubic(_ d: Double, _ a: Double) -> Double {
        if d <= 1 { return ((a + 2) * d - (a + 3)) * d * d + 1 }
        if d < 2 { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a }
        return 0
    }

    /// Scales `w` to sum to 1 (left as is when it sums to 0).
    private static func normalize(_ w: inout [Double]) {
        let s = w.reduce(0, +)
        if s != 0 { for t in w.indices { w[t] /= s } }
    }
}
