/// The window attributes shared by Conv, ConvTranspose and the pooling ops, and the output sizes
/// they give (ONNX `auto_pad`, `pads`, `strides`, `dilations`).
struct WindowGeometry {
    enum AutoPad: String {
        case notSet = "NOTSET"
        case sameUpper = "SAME_UPPER"
        case sameLower = "SAME_LOWER"
        case valid = "VALID"
    }

    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    /// Begin pads then end pads, as ONNX orders them (ignored unless `autoPad` is NOTSET).
    var pads: [Int]
    var autoPad: AutoPad
    var ceilMode = false

    /// Reads the attributes for `rank` spatial axes; `kernel` comes from `kernel_shape` or the weights.
    init(_ spec: NodeSpec, kernel: [Int]?) throws {
        let k = try kernel ?? spec.ints("kernel_shape")
        guard let k, !k.isEmpty, k.allSatisfy({ $0 > 0 }) else {
            throw KernelError.invalid("kernel_shape must list positive sizes")
        }
        let rank = k.count
        self.kernel = k
        strides = try spec.ints("strides") ?? Array(repeating: 1, count: rank)
        dilations = try spec.ints("dilations") ?? Array(repeating: 1, count: rank)
        pads = try spec.ints("pads") ?? Array(repeating: 0, count: 2 * rank)
        let ap = try spec.string("auto_pad", "NOTSET")
        guard let a = AutoPad(rawValue: ap) else { throw KernelError.invalid("auto_pad '\(ap)'") }
        autoPad = a
        ceilMode = try spec.int("ceil_mode", 0) != 0
        try validate()
    }

    init(kernel: [Int], strides: [Int], dilations: [Int], pads: [Int], autoPad: AutoPad) throws {
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        self.pads = pads
        self.autoPad = autoPad
        try validate()
    }

    private func validate() throws {
        let rank = kernel.count
        guard rank <= 8 else { throw KernelError.unsupported("\(rank) spatial axes") }
        guard strides.count == rank, strides.allSatisfy({ $0 > 0 && $0 < 1 << 30 }) else {
            throw KernelError.invalid("strides \(strides) do not fit kernel \(kernel)")
        }
        guard dilations.count == rank, dilations.allSatisfy({ $0 > 0 && $0 < 1 << 30 }) else {
            throw KernelError.invalid("dilations \(dilations) do not fit kernel \(kernel)")
        }
        guard pads.count == 2 * rank, pads.allSatisfy({ $0 >= 0 && $0 < 1 << 30 }) else {
            throw KernelError.invalid("pads \(pads) do not fit kernel \(kernel)")
        }
        guard kernel.allSatisfy({ $0 < 1 << 30 }) else { throw KernelError.invalid("kernel \(kernel) is too large") }
    }

    var rank: Int { kernel.count }

    /// Extent of the dilated kernel along axis `d`.
    func span(_ d: Int) -> Int { (kernel[d] - 1) * dilations[d] + 1 }

    /// Output spatial sizes and the begin/end pads in force for input spatial sizes `input`.
    func forward(_ input: [Int]) throws -> (output: [Int], padBegin: [Int], padEnd: [Int]) {
        guard input.count == rank else { throw KernelError.invalid("input has \(input.count) spatial axes, kernel \(kernel)") }
        var out: [Int] = [], pb: [Int] = [], pe: [Int] = []
        for d in 0..<rank {
            switch autoPad {
            case .notSet:
                let padded = input[d] + pads[d] + pads[d + rank] - span(d)
                guard padded >= 0 else {
                    throw KernelError.invalid("kernel \(kernel) (dilated) is larger than the padded input \(input)")
                }
                var o = (ceilMode ? (padded + strides[d] - 1) / strides[d] : padded / strides[d]) + 1
                // A window must start inside the input or its left padding.
                if ceilMode && (o - 1) * strides[d] >= input[d] + pads[d] { o -= 1 }
                out.append(o)
                pb.append(pads[d])
                pe.append(pads[d + rank])
            case .valid:
                let padded = input[d] - span(d)
                guard padded >= 0 else { throw KernelError.invalid("kernel \(kernel) is larger than the input \(input)") }
                out.append((ceilMode ? (padded + strides[d] - 1) / strides[d] : padded / strides[d]) + 1)
                pb.append(0)
                pe.append(0)
            case .sameUpper, .sameLower:
                let o = (input[d] + strides[d] - 1) / strides[d]
                let total = max(0, (o - 1) * strides[d] + span(d) - input[d])
                let small = total / 2, large = total - small
                out.append(o)
                pb.append(autoPad == .sameUpper ? small : large)
                pe.append(autoPad == .sameUpper ? large : small)
            }
        }
        return (out, pb, pe)
    }
}

/// The sizes of a convolution (Conv, QLinearConv, ConvInteger) of an input of shape `input` by
/// weights of shape `weights` in `groups` groups, after checking that the ranks, the kernel shape
/// and the channel counts agree: its window geometry (`known` when planned, else read from `spec`),
/// batch, input channels and output channels.
struct ConvolutionShape {
    let geometry: WindowGeometry
    let batch: Int, channels: Int, outputChannels: Int

    init(_ spec: NodeSpec, known: WindowGeometry?, input: [Int], weights: [Int], groups: Int) throws {
        guard weights.count >= 3, input.count == weights.count else {
            throw KernelError.invalid("input \(input) and weights \(weights) ranks differ")
        }
        geometry = try known ?? WindowGeometry(spec, kernel: try spec.ints("kernel_shape") ?? Array(weights.dropFirst(2)))
        guard geometry.kernel == Array(weights.dropFirst(2)) else {
            throw KernelError.invalid("kernel_shape \(geometry.kernel) differs from the weights \(weights)")
        }
        batch = input[0]
        channels = input[1]
        outputChannels = weights[0]
        guard outputChannels % groups == 0, channels == weights[1] * groups else {
            throw KernelError.invalid(
                "input has \(channels) channels; weights \(weights) with group \(groups) need \(weights[1] * groups)")
        }
    }
}
