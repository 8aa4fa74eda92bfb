import FerryIR

/// The rules of `OpsetChanges.table` that are more than an attribute moving to an input or an
/// attribute the older opset lacks.
extension OpsetChanges {
    // MARK: up to opset 11

    /// BatchNormalization-9 computes per channel only (`spatial=1`, the default before).
    static func batchNormSpatial(_ s: inout NodeRewrite) throws {
        if s.node.int("spatial", 1) == 0 {
            throw s.refusal("spatial=0 (statistics per activation) has no equivalent from opset 9 on")
        }
        s.removeAttribute("spatial")
    }

    static func sliceAttributesToInputs(_ s: inout NodeRewrite) throws {
        s.intsAttributeToInput("starts", slot: 1)
        s.intsAttributeToInput("ends", slot: 2)
        s.intsAttributeToInput("axes", slot: 3)
    }

    static func topKToInput(_ s: inout NodeRewrite) throws {
        guard let k = s.node.int("k") else { throw s.refusal("it has no k attribute") }
        let name = s.addConstant("k", Tensor(name: "", elementType: .int64, shape: [1], values: [Int64(k)]))
        s.removeAttribute("k")
        s.setInput(1, name)
    }

    /// Resize-10 (and the Upsample it replaced) maps output to input coordinates as x_out / scale
    /// and takes the nearest pixel by rounding down: Resize-11's `asymmetric` and `floor`.
    static func resize10To11(_ s: inout NodeRewrite) throws {
        guard let scales = s.input(1) else { throw s.refusal("it has no scales input") }
        let roi = s.addConstant("roi", Tensor(name: "", floats: [], shape: [0]))
        s.node.inputs = [s.node.inputs[0], roi, scales]
        s.setAttribute("coordinate_transformation_mode", .string(Array("asymmetric".utf8)))
        if (s.node.string("mode") ?? "nearest") == "nearest" { s.setAttribute("nearest_mode", .string(Array("floor".utf8))) }
    }

    static func clipToInputs(_ s: inout NodeRewrite) throws {
        for (slot, name) in [(1, "min"), (2, "max")] {
            guard let v = s.node.float(name) else { continue }
            let bound = s.addConstant(name, try s.scalar(v, like: s.node.inputs[0]))
            s.removeAttribute(name)
            s.setInput(slot, bound)
        }
    }

    static func padToInputs(_ s: inout NodeRewrite) throws {
        let value = s.node.float("value", 0)
        s.intsAttributeToInput("pads", slot: 1)
        s.removeAttribute("value")
        if value != 0 { s.setInput(2, s.addConstant("value", try s.scalar(value, like: s.node.inputs[0]))) }
    }

    // MARK: opsets 12 and 13

    static func dropoutRatioToInput(_ s: inout NodeRewrite) throws {
        guard let ratio = s.node.float("ratio") else { return }
        s.removeAttribute("ratio")
        s.setInput(1, s.addConstant("ratio", Tensor(name: "", floats: [ratio], shape: [])))
    }

    static func dropoutRatioToAttribute(_ s: inout NodeRewrite, _ target: Int64) throws {
        s.removeAttribute("seed") // the random seed of training; inference draws nothing
        if s.node.outputs.count > 1 && !s.node.outputs[1].isEmpty {
            throw s.refusal("its mask output is not defined at inference before opset 12")
        }
        if s.input(2) != nil {
            let mode = try s.constantInput(2, "training_mode", target: target)
            guard mode.numericValues == [0] else { throw s.refusal("training_mode has no equivalent before opset \(target + 1)") }
            s.rewriter.consumed.insert(s.node.inputs[2])
            s.removeInput(2)
        }
        try s.inputToFloatAttribute(slot: 1, "ratio", target: target)
    }

    /// Softmax-13 normalizes along `axis` alone; before, the input was seen as 2-D, split at `axis`.
    /// The two agree when `axis` is the last; otherwise the 2-D view is made explicit.
    static func softmaxAxisUp(_ s: inout NodeRewrite) throws {
        let x = s.node.inputs[0], axis = s.node.int("axis", 1)
        if axis == -1 || s.rewriter.rank(x).map({ axis == $0 - 1 }) == true {
            s.setAttribute("axis", .int(-1))
            return
        }
        let flat = s.addBefore("Flatten", [x], "2d", [Attribute("axis", .int(Int64(axis)))])
        let shape = s.addBefore("Shape", [x], "shape")
        let out = s.rewriter.names.fresh(s.node.outputs[0] + "_2d")
        s.after.append(
            Node(
                opType: "Reshape", name: s.rewriter.names.fresh(s.node.name + "_reshape"), inputs: [out, shape],
                outputs: [s.node.outputs[0]]))
        s.node.inputs = [flat]
        s.node.outputs = [out]
        s.setAttribute("axis", .int(1))
    }

    /// The reverse: the last axis needs nothing; another one is moved last and back around it.
    static func softmaxAxisDown(_ s: inout NodeRewrite, _ target: Int64) throws {
        let x = s.node.inputs[0], axis = s.node.int("axis", -1)
        let rank = s.rewriter.rank(x)
        if axis == -1 || rank.map({ axis == $0 - 1 }) == true {
            s.setAttribute("axis", .int(-1))
            return
        }
        guard let r = rank else {
            throw s.refusal("axis \(axis) is not the last and the input's rank is unknown, which opset \(target) needs")
        }
        let a = axis < 0 ? axis + r : axis
        guard (0..<r).contains(a) else { throw s.refusal("axis \(axis) is outside the input's \(r) axes") }
        var perm = Array(0..<Int64(r))
        perm.swapAt(a, r - 1)
        try s.requireTypes(["Transpose"], of: x)
        let moved = s.addBefore("Transpose", [x], "axis_last", [Attribute("perm", .ints(perm))])
        let out = s.rewriter.names.fresh(s.node.outputs[0] + "_axis_last")
        s.after.append(
            Node(
                opType: "Transpose", name: s.rewriter.names.fresh(s.node.name + "_axis_back"), inputs: [out],
                outputs: [s.node.outputs[0]], attributes: [Attribute("perm", .ints(perm))]))
        s.node.inputs = [moved]
        s.node.outputs = [out]
        s.setAttribute("axis", .int(-1))
    }

    /// Reductions with an axes input: back to the attribute; `noop_with_empty_axes` with no axes
    /// is an Identity.
    static func reduceAxesDown(_ s: inout NodeRewrite, _ target: Int64) throws {
        let noop = s.node.int("noop_with_empty_axes", 0) != 0
        s.removeAttribute("noop_with_empty_axes")
        var empty = true
        if s.input(1) != nil { empty = try s.constantInput(1, "axes", target: target).shape.reduce(1, *) == 0 }
        if empty {
            if let axes = s.input(1) { s.rewriter.consumed.insert(axes) }
            if noop {
                s.node.opType = "Identity"
                s.node.attributes = []
            }
            s.node.inputs = [s.node.inputs[0]]
            return
        }
        try s.inputToIntsAttribute(slot: 1, "axes", target: target)
    }

    static func resizeDropsTFHalfPixel(_ s: inout NodeRewrite) throws {
        if s.node.string("coordinate_transformation_mode") == "tf_half_pixel_for_nn" {
            throw s.refusal("coordinate_transformation_mode=tf_half_pixel_for_nn was removed in opset 13")
        }
    }

    /// Resize-11 and -12 need roi and scales as inputs, empty when unused.
    static func resizeFillsRoiAndScales(_ s: inout NodeRewrite, _ target: Int64) throws {
        for (slot, role) in [(1, "roi"), (2, "scales")] where s.input(slot) == nil && (slot == 1 || s.input(3) != nil) {
            s.setInput(slot, s.addConstant(role, Tensor(name: "", floats: [], shape: [0])))
        }
    }

    /// Quantize/DequantizeLinear before 13 take one scale for the tensor (from 13 a 1-D scale of
    /// several values is per axis, `axis` or not); `axis` is dropped then.
    static func perTensorOnly(_ s: inout NodeRewrite, _ target: Int64) throws {
        guard let scale = s.input(1) else { throw s.refusal("it has no scale input") }
        let dims = s.constants[scale].map { $0.shape.map { Dim.fixed(Int64($0)) } } ?? s.rewriter.dims(scale)
        guard let dims, dims.allSatisfy({ $0.value == .fixed(1) }) else {
            throw s.refusal("a scale per axis (or of unknown shape) needs opset 13 or newer")
        }
        s.removeAttribute("axis")
    }

    static func constantAsTensor(_ s: inout NodeRewrite, _ target: Int64) throws {
        let forms = ["value_float", "value_floats", "value_int", "value_ints"]
        guard forms.contains(where: s.has) else {
            if s.has("value_string") || s.has("value_strings") { throw s.refusal("string values need opset 12 or newer") }
            return
        }
        guard var t = s.node.constantValue else { return }
        t.name = ""
        s.node.attributes = [Attribute("value", .tensor(t))]
    }

    // MARK: opsets 14-28

    /// Mod-28 computes floor modulo of floating-point numbers when `fmod` is 0; before, floats
    /// needed `fmod=1`.
    static func floatModDown(_ s: inout NodeRewrite, _ target: Int64) throws {
        guard s.node.int("fmod", 0) == 0 else { return }
        let type = s.rewriter.elementType(s.node.inputs[0])
        if type.map({ [.float, .double, .float16, .bfloat16].contains($0) }) ?? true {
            throw s.refusal("fmod=0 on \(type?.name ?? "possibly floating-point") inputs needs opset 28 or newer")
        }
    }

    static func batchNormInferenceOnly(_ s: inout NodeRewrite) throws {
        if s.node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw s.refusal("its training outputs (running statistics) are not converted")
        }
        s.node.outputs = [s.node.outputs[0]]
    }

    /// Shape-15's start and end become a Slice of the whole shape.
    static func shapeSliceDown(_ s: inout NodeRewrite, _ target: Int64) throws {
        guard s.has("start") || s.has("end") else { return }
        let start = Int64(s.node.int("start", 0)), end = s.node.int("end").map(Int64.init) ?? Int64.max
        s.removeAttribute("start")
        s.removeAttribute("end")
        let int64 = { (v: Int64) in Tensor(name: "", elementType: .int64, shape: [1], values: [v]) }
        let starts = s.addConstant("start", int64(start)), ends = s.addConstant("end", int64(end)),
            axes = s.addConstant("axis", int64(0))
        let whole = s.rewriter.names.fresh(s.node.outputs[0] + "_whole")
        s.after.append(
            Node(
                opType: "Slice", name: s.rewriter.names.fresh(s.node.name + "_slice"), inputs: [whole, starts, ends, axes],
                outputs: [s.node.outputs[0]]))
        s.node.outputs = [whole]
    }

    /// RoiAlign-16's default mapping (`half_pixel`) shifts by half a pixel; before, it did not.
    static func roiAlignKeepsOutputHalfPixel(_ s: inout NodeRewrite) throws {
        if !s.has("coordinate_transformation_mode") {
            s.setAttribute("coordinate_transformation_mode", .string(Array("output_half_pixel".utf8)))
        }
    }

    static func roiAlignDown(_ s: inout NodeRewrite, _ target: Int64) throws {
        guard s.node.string("coordinate_transformation_mode") == "output_half_pixel" else {
            throw s.refusal("coordinate_transformation_mode=half_pixel has no equivalent before opset \(target + 1)")
        }
        s.removeAttribute("coordinate_transformation_mode")
    }

    /// From opset 22 a pooling window that would start in the right padding (possible with
    /// `ceil_mode=1`) is dropped; before, it counted. The two agree unless such a window exists,
    /// which known input sizes rule out.
    static func poolCeilWindows(_ s: inout NodeRewrite) throws {
        guard s.node.int("ceil_mode", 0) != 0 else { return }
        let kernel = s.node.ints("kernel_shape") ?? [], n = kernel.count
        let strides = s.node.ints("strides") ?? Array(repeating: 1, count: n)
        let dilations = s.node.ints("dilations") ?? Array(repeating: 1, count: n)
        let pads = s.node.ints("pads") ?? Array(repeating: 0, count: 2 * n)
        let unsure = s.refusal(
            "with ceil_mode=1, opset 22 drops windows that start in the right padding and earlier opsets keep them")
        guard (s.node.string("auto_pad") ?? "NOTSET") == "NOTSET", strides.count == n, dilations.count == n, pads.count == 2 * n,
            let dims = s.rewriter.dims(s.node.inputs[0]), dims.count == n + 2
        else { throw unsure }
        let limit = 1 << 30
        guard (kernel + strides + dilations + pads).allSatisfy({ (0...limit).contains($0) }) else { throw unsure }
        for i in 0..<n {
            guard case .fixed(let size) = dims[i + 2].value, strides[i] > 0, kernel[i] > 0, size <= limit else { throw unsure }
            let span = (kernel[i] - 1) * dilations[i] + 1, room = Int(size) + pads[i] + pads[n + i] - span
            let windows = (room + strides[i] - 1) / strides[i] + 1
            if (windows - 1) * strides[i] >= Int(size) + pads[i] { throw unsure }
        }
    }

    /// BatchNormalization-15 lets scale, bias, mean and variance differ in type from X; before,
    /// all five were one type.
    static func sameTypeParameters(_ s: inout NodeRewrite, _ target: Int64) throws {
        let types = s.node.inputs.filter { !$0.isEmpty }.compactMap { s.rewriter.elementType($0) }
        if let first = types.first, types.contains(where: { $0 != first }) {
            throw s.refusal("inputs of different element types need opset 15 or newer")
        }
    }

    /// Attention-24 aligns causal masking with the end of the keys (past and padding counted);
    /// Attention-23 did not say so: causal attention is not carried across.
    static func attentionCausalAlignment(_ s: inout NodeRewrite) throws {
        if s.node.int("is_causal", 0) != 0 { throw s.refusal("is_causal=1 changed its alignment in opset 24; not converted") }
    }

    /// Split-18 needs `num_outputs` when no split sizes are given.
    static func splitNumOutputsUp(_ s: inout NodeRewrite) throws {
        if s.input(1) == nil && !s.has("num_outputs") { s.setAttribute("num_outputs", .int(Int64(s.node.outputs.count))) }
    }

    /// Before 18 a Split without sizes cuts equal parts; Split-18 lets the last be smaller, which
    /// becomes explicit sizes when the axis's size is known.
    static func splitNumOutputsDown(_ s: inout NodeRewrite, _ target: Int64) throws {
        s.removeAttribute("num_outputs")
        let n = s.node.outputs.count
        guard s.input(1) == nil, n > 0, let size = s.rewriter.size(s.node.inputs[0], axis: s.node.int("axis", 0)), size % n != 0
        else { return }
        let chunk = (size + n - 1) / n
        guard size - chunk * (n - 1) > 0 else {
            throw s.refusal("\(n) outputs of an axis of \(size) leave the last one empty, which opset \(target) cannot express")
        }
        let sizes = Array(repeating: Int64(chunk), count: n - 1) + [Int64(size - chunk * (n - 1))]
        s.setInput(1, s.addConstant("split", Tensor(name: "", elementType: .int64, shape: [n], values: sizes)))
    }

    static func resize18Down(_ s: inout NodeRewrite, _ target: Int64) throws {
        try s.dropAttribute("antialias", meaning: .int(0), target: target)
        try s.dropAttribute("keep_aspect_ratio_policy", meaning: .string(Array("stretch".utf8)), target: target)
        if s.has("axes") { throw s.refusal("axes has no equivalent before opset \(target + 1)") }
    }

    static func gridSampleDown(_ s: inout NodeRewrite, _ target: Int64) throws {
        guard let r = s.rewriter.rank(s.node.inputs[0]), r == 4 else {
            throw s.refusal("GridSample takes 4-D inputs only before opset 20, and this one's rank is not known to be 4")
        }
        s.renameMode(["linear": "bilinear", "cubic": "bicubic"])
    }

    /// DFT-20 takes the axis as an input (default -2) where DFT-17 had an attribute (default 1).
    static func dftAxisToInput(_ s: inout NodeRewrite) throws {
        let axis = Int64(s.node.int("axis", 1))
        s.removeAttribute("axis")
        s.setInput(2, s.addConstant("axis", Tensor(name: "", elementType: .int64, shape: [], values: [axis])))
    }

    /// GroupNormalization-21 scales and shifts per channel, -18 per group: constant per-group
    /// values are repeated for each channel of the group.
    static func groupNormPerChannel(_ s: inout NodeRewrite) throws {
        let groups = s.node.int("num_groups", 0)
        guard let channels = s.rewriter.size(s.node.inputs[0], axis: 1), groups > 0, channels % groups == 0 else {
            throw s.refusal("the input's channel count is unknown, which opset 21's per-channel scale needs")
        }
        for (slot, role) in [(1, "scale"), (2, "bias")] {
            let t = try s.constantInput(slot, role, target: 21)
            guard let v = t.floatValues, v.count == groups else { throw s.refusal("its \(role) is not \(groups) float32 values") }
            let perChannel = v.flatMap { Array(repeating: $0, count: channels / groups) }
            s.rewriter.consumed.insert(s.node.inputs[slot])
            s.setInput(slot, s.addConstant(role, Tensor(name: "", floats: perChannel, shape: [channels])))
        }
    }

    static func groupNormPerGroup(_ s: inout NodeRewrite, _ target: Int64) throws {
        try s.dropAttribute("stash_type", meaning: .int(1), target: target)
        let groups = s.node.int("num_groups", 0)
        for (slot, role) in [(1, "scale"), (2, "bias")] {
            let t = try s.constantInput(slot, role, target: target)
            guard let v = t.floatValues, groups > 0, v.count >= groups, v.count % groups == 0 else {
                throw s.refusal("its \(role) is not float32 values for \(groups) groups")
            }
            let width = v.count / groups
            let perGroup = stride(from: 0, to: v.count, by: width).map { v[$0] }
            guard (0..<v.count).allSatisfy({ v[$0] == perGroup[$0 / width] }) else {
                throw s.refusal("its \(role) differs within a group, which opset \(target) cannot express")
            }
            s.rewriter.consumed.insert(s.node.inputs[slot])
            s.setInput(slot, s.addConstant(role, Tensor(name: "", floats: perGroup, shape: [groups])))
        }
    }
}

extension NodeRewrite {
    /// Moves the float-list attribute `attribute` to a float32 input at `slot` (nothing when unset).
    mutating func floatsAttributeToInput(_ attribute: String, slot: Int) {
        guard let values = node.floats(attribute) else { return }
        let name = addConstant(attribute, Tensor(name: "", floats: values, shape: [values.count]))
        removeAttribute(attribute)
        setInput(slot, name)
    }

    /// Renames the values of the `mode` attribute by `names` (other values unchanged).
    mutating func renameMode(_ names: [String: String]) {
        guard let mode = node.string("mode"), let renamed = names[mode] else { return }
        setAttribute("mode", .string(Array(renamed.utf8)))
    }
}
