import FerryIR

/// One change of an op's form or meaning at an opset: how a node crosses it going up (from the
/// version before to `version`) and going down (below `version`, to `target`). nil: nothing to do.
struct OpsetChange {
    typealias Up = (inout NodeRewrite) throws -> Void
    typealias Down = (inout NodeRewrite, _ target: Int64) throws -> Void

    let version: Int64
    let up: Up?
    let down: Down?
}

/// The rules for every change between opsets 7 and `OpsetHistory.newest` that is more than new
/// element types, by op (the changes `tools/gen_opset_history.py` lists as schema versions; a
/// version without a rule here only widened the types). Downgrades stop at opset 11, so rules for
/// going below it are not written.
enum OpsetChanges {
    static let table: [String: [OpsetChange]] = {
        var t: [String: [OpsetChange]] = [:]
        func add(_ ops: [String], _ version: Int64, up: OpsetChange.Up? = nil, down: OpsetChange.Down? = nil) {
            for op in ops { t[op, default: []].append(OpsetChange(version: version, up: up, down: down)) }
        }
        func newAttribute(_ ops: [String], _ version: Int64, _ name: String, _ fallback: AttributeValue) {
            add(ops, version, down: { try $0.dropAttribute(name, meaning: fallback, target: $1) })
        }
        func axesToInput(_ ops: [String], _ version: Int64, _ attribute: String, slot: Int) {
            add(
                ops, version, up: { $0.intsAttributeToInput(attribute, slot: slot) },
                down: { try $0.inputToIntsAttribute(slot: slot, attribute, target: $1) })
        }

        // opsets 8-10 (models from opset 7 on)
        add(["BatchNormalization"], 9, up: batchNormSpatial)
        add(["Upsample"], 9, up: { $0.floatsAttributeToInput("scales", slot: 1) })
        add(["Upsample"], 10, up: { $0.node.opType = "Resize" })
        add(["Slice"], 10, up: sliceAttributesToInputs)
        add(
            ["Dropout"], 10,
            up: { s in
                // Dropout-7's mask is of the data's type; from 10 it is bool
                if s.node.outputs.count > 1 && !s.node.outputs[1].isEmpty {
                    throw s.refusal("its mask output changes type in opset 10")
                }
            })
        add(["TopK"], 10, up: topKToInput)
        add(["Scan"], 9, up: { throw $0.refusal("Scan-8's batch axis has no rule to opset 9 here") })
        // opset 11
        add(["Resize"], 11, up: resize10To11)
        add(["Clip"], 11, up: clipToInputs)
        add(["Pad"], 11, up: padToInputs)
        add(["Scatter"], 11, up: { $0.node.opType = "ScatterElements" })
        // opset 12
        newAttribute(["ArgMax", "ArgMin"], 12, "select_last_index", .int(0))
        newAttribute(["GatherND"], 12, "batch_dims", .int(0))
        add(["Dropout"], 12, up: dropoutRatioToInput, down: dropoutRatioToAttribute)
        add(["Constant"], 12, down: constantAsTensor)
        // opset 13
        add(["Softmax", "LogSoftmax", "Hardmax"], 13, up: softmaxAxisUp, down: softmaxAxisDown)
        axesToInput(["Squeeze", "Unsqueeze"], 13, "axes", slot: 1)
        add(["ReduceSum"], 13, up: { $0.intsAttributeToInput("axes", slot: 1) }, down: reduceAxesDown)
        axesToInput(["Split"], 13, "split", slot: 1)
        add(["Resize"], 13, up: resizeDropsTFHalfPixel, down: resizeFillsRoiAndScales)
        add(["QuantizeLinear", "DequantizeLinear"], 13, down: perTensorOnly)
        // opsets 14-17
        add(["HardSwish"], 14, down: expandHardSwish)
        add(["LayerNormalization"], 17, down: expandLayerNormalization)
        add(["Gelu"], 20, down: expandGelu)
        add(["BatchNormalization"], 15, down: sameTypeParameters)
        add(
            ["BatchNormalization"], 14, up: batchNormInferenceOnly,
            down: { try $0.dropAttribute("training_mode", meaning: .int(0), target: $1) })
        newAttribute(["Reshape"], 14, "allowzero", .int(0))
        newAttribute(["LSTM", "GRU", "RNN"], 14, "layout", .int(0))
        add(["Shape"], 15, down: shapeSliceDown)
        newAttribute(["ScatterElements", "ScatterND"], 16, "reduction", .string(Array("none".utf8)))
        add(["RoiAlign"], 16, up: roiAlignKeepsOutputHalfPixel, down: roiAlignDown)
        // opset 18
        let reductions = [
            "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd",
            "ReduceSumSquare"
        ]
        add(reductions, 18, up: { $0.intsAttributeToInput("axes", slot: 1) }, down: reduceAxesDown)
        add(["Split"], 18, up: splitNumOutputsUp, down: splitNumOutputsDown)
        add(
            ["Pad"], 18,
            down: { s, t in if s.input(3) != nil { throw s.refusal("its axes input has no equivalent before opset \(t + 1)") } })
        add(["Resize"], 18, down: resize18Down)
        add(
            ["ScatterElements", "ScatterND"], 18,
            down: { s, t in
                if let r = s.node.string("reduction"), r == "max" || r == "min" {
                    throw s.refusal("reduction=\(r) has no equivalent before opset \(t + 1)")
                }
            })
        newAttribute(["LpPool"], 18, "ceil_mode", .int(0))
        newAttribute(["LpPool"], 18, "dilations", .int(1))
        // opsets 19-28
        newAttribute(["AveragePool"], 19, "dilations", .int(1))
        newAttribute(["Cast", "CastLike", "QuantizeLinear"], 19, "saturate", .int(1))
        add(
            ["Pad"], 19,
            down: { s, t in
                if s.node.string("mode") == "wrap" { throw s.refusal("mode=wrap has no equivalent before opset \(t + 1)") }
            })
        add(
            ["Resize"], 19,
            down: { s, t in
                if s.node.string("coordinate_transformation_mode") == "half_pixel_symmetric" {
                    throw s.refusal("coordinate_transformation_mode=half_pixel_symmetric has no equivalent before opset \(t + 1)")
                }
            })
        add(["GridSample"], 20, up: { $0.renameMode(["bilinear": "linear", "bicubic": "cubic"]) }, down: gridSampleDown)
        add(
            ["DFT"], 20, up: dftAxisToInput,
            down: { s, t in
                try s.inputToIntsAttribute(slot: 2, "axis", target: t)
                // DFT-20's axis defaults to -2, DFT-17's to 1
                s.setAttribute("axis", .int(Int64(s.node.ints("axis")?.first ?? -2)))
            })
        add(["GroupNormalization"], 21, up: groupNormPerChannel, down: groupNormPerGroup)
        newAttribute(["QuantizeLinear"], 21, "output_dtype", .int(0))
        newAttribute(["QuantizeLinear", "DequantizeLinear"], 21, "block_size", .int(0))
        newAttribute(["QuantizeLinear"], 23, "precision", .int(0))
        newAttribute(["DequantizeLinear"], 23, "output_dtype", .int(0))
        add(["AveragePool", "MaxPool"], 22, up: poolCeilWindows, down: { s, _ in try poolCeilWindows(&s) })
        newAttribute(["Cast", "CastLike"], 24, "round_mode", .string(Array("up".utf8)))
        add(
            ["Attention"], 24, up: attentionCausalAlignment,
            down: { s, t in
                if s.input(6) != nil { throw s.refusal("its nonpad_kv_seqlen input has no equivalent before opset \(t + 1)") }
                try attentionCausalAlignment(&s)
            })
        newAttribute(["Attention"], 25, "left_window_size", .int(-1))
        newAttribute(["Attention"], 25, "right_window_size", .int(-1))
        newAttribute(["Range"], 27, "stash_type", .int(1))
        newAttribute(["SpaceToDepth"], 28, "mode", .string(Array("DCR".utf8)))
        add(["Mod"], 28, down: floatModDown)
        return t
    }()
}
