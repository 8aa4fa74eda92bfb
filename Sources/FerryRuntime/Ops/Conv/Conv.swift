import CKernels
import FerryIR
import FerryRewrite

/// An activation fused into a producer's output pass (set by `Fusion`, carried as node attributes).
struct FusedActivation {
    var kind: ferry_activation = FERRY_ACT_NONE
    var alpha: Float = 0
    var beta: Float = 0

    static let attribute = "ferry.activation"

    /// No activation.
    init() {}

    init(_ spec: NodeSpec) throws {
        kind = ferry_activation(rawValue: UInt32(try spec.int(FusedActivation.attribute, 0)))
        alpha = try spec.float("ferry.alpha", 0)
        beta = try spec.float("ferry.beta", 0)
    }

    var code: Int32 { Int32(kind.rawValue) }

    /// The kernels' form of `activation`.
    init(_ activation: ActivationDescriptor) {
        switch activation.kind {
        case .relu: kind = FERRY_ACT_RELU
        case .sigmoid: kind = FERRY_ACT_SIGMOID
        case .hardSwish: kind = FERRY_ACT_HARDSWISH
        case .leakyRelu: kind = FERRY_ACT_LEAKYRELU
        case .hardSigmoid: kind = FERRY_ACT_HARDSIGMOID
        case .clip: kind = FERRY_ACT_CLIP
        case .tanh: kind = FERRY_ACT_TANH
        case .swish: kind = FERRY_ACT_SWISH
        case .gelu: kind = activation.alpha == 0 ? FERRY_ACT_GELU : FERRY_ACT_GELU_TANH
        }
        alpha = activation.alpha
        beta = activation.beta
    }

    /// `y + z` broadcast, then this activation: a fused residual that does not have the output's
    /// shape, added after a kernel that ran without the activation.
    func applied(to y: Value, plusBroadcast z: Value, _ ctx: ExecutionContext) throws -> Value {
        let sum = try arith(AddRule.self, y, z, ctx)
        ferry_scale_bias_act(sum.floats, 1, sum.count, sum.count, nil, nil, code, alpha, beta)
        return sum
    }

    /// The node attributes that carry this activation (none for no activation).
    var attributes: [Attribute] {
        guard kind != FERRY_ACT_NONE else { return [] }
        return [
            Attribute(FusedActivation.attribute, .int(Int64(kind.rawValue))), Attribute("ferry.alpha", .float(alpha)),
            Attribute("ferry.beta", .float(beta))
        ]
    }
}

/// Convolution: im2col + sgemm per group and tile of output positions; 1x1 stride-1 unpadded
/// convolutions read the input directly; depthwise 2-D convolutions have their own kernel. Bias, a
/// residual Z (an optional fourth input, as FusedConv's: a following Add that `Fusion` moved in) and
/// a following activation are applied in the output pass: act(conv + B + Z).
final class ConvKernel: Kernel {
    private let geometry: WindowGeometry?
    private let spec: NodeSpec
    private let groups: Int
    private let activation: FusedActivation
    /// The shape of weights known at plan time, and the weights packed for `ferry_sgemm_packed`
    /// once per group (depthwise weights are used as they are).
    private let weightShape: [Int]?
    private let packedWeights: PackedMatrices?

    var prepackedInputs: Set<Int> { packedWeights == nil ? [] : [1] }

    /// Bytes of one K block (`FERRY_SGEMM_DEPTH_BLOCK` rows) of a tile's packed im2col columns:
    /// the block the GEMM keeps in cache while the weights stream past it once per tile, so deep
    /// layers take as many columns per tile as shallow ones.
    static let packedBudget = 1 << 20
    /// Pointwise convolutions with at most this many output channels per group, or at most this many
    /// input channels (a tile's B rows then touch few pages), read their input in place instead of
    /// packing it.
    static let inPlaceRows = 48, inPlaceDepth = 32
    /// Stride-1 2-D convolutions up to this depth (input channels per group x taps), or with at most
    /// this many output channels per group, read their padded input in place (`ShiftedConvolution`);
    /// deeper ones with more outputs amortise packing B over enough work that it costs as little as
    /// reading it in place, and their packed panels stay aligned.
    static let shiftedDepth = 1152, shiftedRows = 96

    init(_ spec: NodeSpec) throws {
        self.spec = spec
        groups = try spec.int("group", 1)
        guard groups >= 1 else { throw KernelError.invalid("group must be positive") }
        activation = try FusedActivation(spec)
        weightShape = spec.constant(1)?.shape
        if let w = spec.constant(1) {
            guard w.type == .float else { throw KernelError.unsupported("\(w.type.name) weights (float32 only)") }
            guard w.rank >= 3 else { throw KernelError.invalid("weights must have rank >= 3, got \(w.shape)") }
            geometry = try WindowGeometry(spec, kernel: try spec.ints("kernel_shape") ?? Array(w.shape.dropFirst(2)))
            guard geometry!.kernel == Array(w.shape.dropFirst(2)) else {
                throw KernelError.invalid(
                    "kernel_shape \(geometry!.kernel) differs from the weights' \(Array(w.shape.dropFirst(2)))")
            }
            guard w.shape[0] % groups == 0 else {
                throw KernelError.invalid("\(w.shape[0]) output channels do not split into \(groups) groups")
            }
            let depthwise = w.rank == 4 && groups == w.shape[0] && w.shape[1] == 1
            packedWeights =
                depthwise
                ? nil : PackedMatrices(w.floats, groups: groups, rows: w.shape[0] / groups, columns: w.count / w.shape[0])
        } else {
            geometry = nil
            packedWeights = nil
        }
    }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] {
        let y = try convolve(inputs, ctx)
        guard let z = inputs.optional(3), z.shape != y.shape else { return [y] }
        return [try activation.applied(to: y, plusBroadcast: z, ctx)]
    }

    /// The convolution with its output pass; without the activation when a residual Z is there
    /// but does not have the output's shape (`run` adds it and applies the activation then).
    private func convolve(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> Value {
        let x = try inputs.required(0, "X")
        let w = packedWeights == nil ? try inputs.required(1, "W") : nil
        let wShape = w?.shape ?? weightShape!
        let b = inputs.optional(2)
        guard x.type == .float, w == nil || w!.type == .float, b == nil || b!.type == .float else {
            throw KernelError.unsupported("Conv on \(x.type.name) (float32 only)")
        }
        let shape = try ConvolutionShape(spec, known: geometry, input: x.shape, weights: wShape, groups: groups)
        let g = shape.geometry, n = shape.batch, c = shape.channels, m = shape.outputChannels
        if let b { guard b.count == m else { throw KernelError.invalid("bias has \(b.count) values for \(m) output channels") } }
        let spatial = Array(x.shape.dropFirst(2))
        let (outSpatial, padBegin, _) = try g.forward(spatial)
        let y = try ctx.allocate(.float, [n, m] + outSpatial)
        let p = outSpatial.reduce(1, *), inPlane = spatial.reduce(1, *)
        guard y.count > 0 else { return y }
        let cg = c / groups, mg = m / groups
        let kernelSize = g.kernel.reduce(1, *)
        let kc = cg * kernelSize
        let bptr = b.map { UnsafePointer($0.floats) }
        // A residual of the output's shape joins the output pass; one that broadcasts is added after.
        let z = inputs.optional(3)
        if let z { guard z.type == .float else { throw KernelError.unsupported("Z of type \(z.type.name) (float32 only)") } }
        let residual = z?.shape == y.shape ? z.map { UnsafePointer($0.floats) } : nil
        let act = z != nil && residual == nil ? FusedActivation() : activation

        // Depthwise 2-D: one filter per channel.
        if let w, g.rank == 2 && groups == c && m == c && cg == 1 {
            // Channels in chunks of whole groups of eight (the kernel's vector lanes), each chunk
            // with its own scratch. A depthwise multiply-add costs several of a GEMM's (one load
            // each), so less work is worth sharing than minimumParallelWork.
            let work = c * p * g.kernel[0] * g.kernel[1], lanes = (c + 7) / 8
            let parts = ctx.threads == 1 || work < minimumParallelWork / 8 ? 1 : min(lanes, 4 * ctx.threads)
            let step = (lanes + parts - 1) / parts * 8, chunks = (c + step - 1) / step
            let scratchCount = ferry_depthwise_2d_scratch(
                spatial[1], g.kernel[0], g.kernel[1], g.strides[0], g.strides[1], g.dilations[0], g.dilations[1], outSpatial[0],
                outSpatial[1])
            let scratch = try ctx.allocate(.float, [chunks, scratchCount])
            // The depthwise kernel applies bias and activation itself; a residual goes in between.
            let kernelAct = residual == nil ? act : FusedActivation()
            for img in 0..<n {
                let xi = x.floats + img * c * inPlane, yi = y.floats + img * m * p
                parallelRanges(chunks, threads: ctx.threads) { r in
                    for chunk in r {
                        ferry_depthwise_2d(
                            xi, w.floats, bptr, yi, chunk * step, min(c, (chunk + 1) * step), spatial[0], spatial[1],
                            g.kernel[0], g.kernel[1], g.strides[0], g.strides[1], g.dilations[0], g.dilations[1],
                            padBegin[0], padBegin[1], outSpatial[0], outSpatial[1], kernelAct.code, kernelAct.alpha,
                            kernelAct.beta, scratch.floats + chunk * scratchCount)
                    }
                }
            }
            if let residual {
                ferry_bias_residual_act(y.floats, 1, y.count, y.count, nil, residual, y.count, act.code, act.alpha, act.beta)
            }
            return y
        }

        let pointwise =
            g.kernel.allSatisfy { $0 == 1 } && g.strides.allSatisfy { $0 == 1 } && padBegin.allSatisfy { $0 == 0 } && p == inPlane
        let inShape = spatial, outShape = outSpatial
        let packed = packedWeights ?? PackedMatrices(w!.floats, groups: groups, rows: mg, columns: kc)
        // Columns go through in tiles whose packed B stays within the budget (and, when a thread
        // finishes whole tiles, whose output block stays in cache); threads take whole tiles when
        // there are enough columns, else share each tile's rows of output channels. The 16-column
        // panels are spread evenly over the tiles, so no tile is a lone narrow panel.
        let splitColumns = ctx.threads == 1 || p >= 64 * ctx.threads || mg < 12
        let parts = splitColumns ? ctx.threads : 1
        let panelLimit = max(
            1,
            min(
                ConvKernel.packedBudget / max(1, min(kc, Int(FERRY_SGEMM_DEPTH_BLOCK)) * 4),
                splitColumns ? outputTileBytes / max(1, mg * 4) : Int.max) / 16)
        let columnPanels = (p + 15) / 16, tiles = (columnPanels + panelLimit - 1) / panelLimit
        let tileCols = (columnPanels + tiles - 1) / tiles * 16
        let groupWork = mg * p * kc
        // Stride-1 2-D windows read the padded input in place (ShiftedConvolution) instead of im2col.
        let shifted =
            g.rank == 2 && !pointwise && g.strides.allSatisfy({ $0 == 1 })
                && (kc <= ConvKernel.shiftedDepth || mg <= ConvKernel.shiftedRows)
            ? ShiftedConvolution(
                channels: c, height: spatial[0], width: spatial[1], outHeight: outSpatial[0], outWidth: outSpatial[1],
                kernel: (g.kernel[0], g.kernel[1]), dilations: (g.dilations[0], g.dilations[1]),
                padBegin: (padBegin[0], padBegin[1]), outputChannels: mg,
                parts: groupWork >= minimumParallelWork ? ctx.threads : 1) : nil
        let bFloats = ferry_sgemm_packed_b_size(tileCols, kc) + tileCols
        let groupTasks =
            shifted == nil && groups > 1 && groupWork < minimumParallelWork && groups * groupWork >= minimumParallelWork
            ? min(ctx.threads, groups) : 1
        let taskFloats = shifted?.scratchFloats ?? parts * bFloats
        let scratch = try ctx.allocate(.float, [groupTasks * taskFloats])
        let padded = try shifted.map { try ctx.allocate(.float, [c * $0.plane + $0.slack]) }
        let offsets = shifted?.rowOffsets(channelsPerGroup: cg) ?? []
        for img in 0..<n {
            if let shifted, let padded { shifted.pad(x.floats + img * c * inPlane, into: padded.floats, ctx) }
            // Threads take whole groups, each with its own scratch, when one group is too little
            // work to share (grouped 1x1 convolutions: ShuffleNet, ResNeXt).
            func runGroup(_ grp: Int, _ scratchBase: UnsafeMutablePointer<Float>) {
                let xg = UnsafePointer(x.floats + (img * c + grp * cg) * inPlane)
                let wg = packed.group(grp)
                let yg = y.floats + (img * m + grp * mg) * p
                // Output pass (bias, residual and fused activation) on each block as soon as it is
                // computed, while it is in cache and by the thread that computed it.
                let bg = bptr.map { $0 + grp * mg }, zg = residual.map { $0 + (img * m + grp * mg) * p }
                let finishes = bg != nil || zg != nil || act.kind != FERRY_ACT_NONE
                func finish(rows: Range<Int>, columns: Range<Int>) {
                    guard finishes else { return }
                    let at = rows.lowerBound * p + columns.lowerBound, bias = bg.map { $0 + rows.lowerBound }
                    if let zg {
                        ferry_bias_residual_act(
                            yg + at, rows.count, columns.count, p, bias, zg + at, p, act.code, act.alpha, act.beta)
                    } else {
                        ferry_scale_bias_act(yg + at, rows.count, columns.count, p, nil, bias, act.code, act.alpha, act.beta)
                    }
                }
                // Columns [start, end) into the panels at b; `row` is scratch for one row of them.
                func pack(_ start: Int, _ end: Int, into b: UnsafeMutablePointer<Float>, row: UnsafeMutablePointer<Float>) {
                    if pointwise {
                        ferry_pack_b_panels(xg + start, p, kc, end - start, b)
                    } else {
                        ferry_im2col_packed(
                            xg, cg, g.rank, inShape, g.kernel, g.strides, g.dilations, padBegin, outShape,
                            start, end, b, row)
                    }
                }
                if let shifted, let padded {
                    shifted.multiply(
                        wg, depth: kc, base: padded.floats + grp * cg * shifted.plane, offsets: offsets, into: yg,
                        scratch: scratchBase
                    ) { finish(rows: $0, columns: $1) }
                } else if splitColumns {
                    let panels = (p + 15) / 16
                    parallelRanges(parts, threads: groupWork >= minimumParallelWork ? parts : 1) { r in
                        for part in r {
                            let b = scratchBase + part * bFloats
                            let lo = panels * part / parts * 16, hi = min(p, panels * (part + 1) / parts * 16)
                            var start = lo
                            while start < hi {
                                let end = min(hi, start + tileCols)
                                // Few output or input channels: B is read in place rather than packed.
                                if pointwise && (mg <= ConvKernel.inPlaceRows || kc <= ConvKernel.inPlaceDepth) {
                                    ferry_sgemm_rows(mg, end - start, kc, wg, xg + start, p, yg + start, p, b)
                                } else {
                                    pack(start, end, into: b, row: b + ferry_sgemm_packed_b_size(tileCols, kc))
                                    ferry_sgemm_prepacked(mg, end - start, kc, wg, b, yg + start, p)
                                }
                                finish(rows: 0..<mg, columns: start..<end)
                                start = end
                            }
                        }
                    }
                } else {
                    var start = 0
                    let b = scratchBase
                    let rowPanels = (mg + 5) / 6
                    while start < p {
                        let end = min(p, start + tileCols)
                        // The threads pack whole panels of the tile (each its part of the row scratch),
                        // then share its rows.
                        let panels = (end - start + 15) / 16, rowScratch = b + ferry_sgemm_packed_b_size(tileCols, kc)
                        ctx.parallel(panels, itemElements: 16 * kc) { r in
                            pack(
                                start + r.lowerBound * 16, min(end, start + r.upperBound * 16), into: b + r.lowerBound * 16 * kc,
                                row: rowScratch + r.lowerBound * 16)
                        }
                        // One block of rows per thread: each block reads all of the packed tile
                        // (for deep layers larger than the core's cache) once more.
                        let work = productWork(mg, end - start, kc)
                        parallelBlocks(rowPanels, threads: work >= minimumParallelWork ? ctx.threads : 1) { r in
                            let lo = r.lowerBound * 6, hi = min(mg, r.upperBound * 6)
                            ferry_sgemm_prepacked(hi - lo, end - start, kc, wg + lo * kc, b, yg + lo * p + start, p)
                            finish(rows: lo..<hi, columns: start..<end)
                        }
                        start = end
                    }
                }
            }
            if groupTasks > 1 {
                parallelRanges(groupTasks, threads: groupTasks) { r in
                    for task in r {
                        for grp in stride(from: task, to: groups, by: groupTasks) {
                            runGroup(grp, scratch.floats + task * taskFloats)
                        }
                    }
                }
            } else {
                for grp in 0..<groups { runGroup(grp, scratch.floats) }
            }
        }
        return y
    }
}

/// Matrices packed for `ferry_sgemm_packed` (one per group), kept for the life of the plan.
final class PackedMatrices {
    private let buffer: TensorBuffer
    private let stride: Int

    /// Packs `groups` consecutive row-major `rows` x `columns` matrices starting at `source`.
    init(_ source: UnsafePointer<Float>, groups: Int, rows: Int, columns: Int) {
        stride = ferry_sgemm_packed_a_size(rows, columns)
        buffer = TensorBuffer(count: max(1, groups * stride) * 4) { _ in }
        let base = buffer.baseAddress.assumingMemoryBound(to: Float.self)
        for g in 0..<groups {
            ferry_sgemm_pack_a(source + g * rows * columns, columns, 0, rows, columns, base + g * stride)
        }
    }

    /// The packed matrix of group `g`.
    func group(_ g: Int) -> UnsafePointer<Float> {
        UnsafePointer(buffer.baseAddress.assumingMemoryBound(to: Float.self) + g * stride)
    }
}

/// C = alpha A * B (row-major, no transposes) split over the context's threads along N, or along M
/// when N is too narrow to share.
func parallelGemm(
    _ ctx: ExecutionContext, m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    let work = m * n * k
    if ctx.threads == 1 || work < minimumParallelWork {
        sgemm(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    } else if n >= 64 * ctx.threads {
        let step = (n + ctx.threads - 1) / ctx.threads
        let blocks = (n + step - 1) / step
        parallelRanges(blocks, threads: ctx.threads) { r in
            for blk in r {
                let lo = blk * step, hi = min(n, lo + step)
                sgemm(
                    m: m, n: hi - lo, k: k, alpha: alpha, a: a, lda: lda, b: b + lo, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
            }
        }
    } else {
        parallelRanges(m, threads: ctx.threads, grain: 8) { r in
            sgemm(
                m: r.count, n: n, k: k, alpha: alpha, a: a + r.lowerBound * lda, lda: lda, b: b, ldb: ldb, beta: beta,
                c: c + r.lowerBound * ldc, ldc: ldc)
        }
    }
}

/// Conv and ConvTranspose.
enum ConvOps {
    static func register(into r: inout KernelRegistry) {
        r.register("Conv") { spec in try ConvKernel(spec) }
        r.register("ConvTranspose") { spec in try ConvTransposeKernel(spec) }
        r.register("FusedConv", domain: Domain.microsoft) { spec in try ConvKernel(try FusedConv.convSpec(spec)) }
    }
}
