// Written by tools/gen_opset_history.py from onnx 1.23.2's operator schemas; do not edit.

/// For each ONNX op, its schema versions (the first is where it appeared) with the element types
/// each accepts, and the opset from which it is deprecated (nil: it is not).
enum OpsetHistory {
    /// The newest opset these schemas describe.
    static let newest: Int64 = 28

    /// One schema version: the opset it starts at and, per formal input and output, the element
    /// types it takes (bit k: `ElementType` raw value k; all bits: not a tensor, not checked). The
    /// last formal input (output) stands for all the rest when it is variadic.
    struct Schema {
        let since: Int64
        let inputs: [UInt64]
        let variadicInputs: Bool
        let outputs: [UInt64]
        let variadicOutputs: Bool
    }

    static let ops: [String: (schemas: [Schema], deprecatedFrom: Int64?)] = [
        "Abs": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0x3cfe], variadicInputs: false, outputs: [0x3cfe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cfe], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "Acos": (
            [
                Schema(since: 7, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Acosh": (
            [
                Schema(since: 9, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Add": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 7, inputs: [0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2, 0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 14, inputs: [0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "AffineGrid": (
            [
                Schema(since: 20, inputs: [0x10c02, 0x80], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "And": (
            [
                Schema(since: 1, inputs: [0x200, 0x200], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 7, inputs: [0x200, 0x200], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "ArgMax": (
            [
                Schema(since: 1, inputs: [0x3cfe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cfe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 12, inputs: [0x3cfe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cfe], variadicInputs: false, outputs: [0x80], variadicOutputs: false)
            ], nil
        ),
        "ArgMin": (
            [
                Schema(since: 1, inputs: [0x3cfe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cfe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 12, inputs: [0x3cfe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cfe], variadicInputs: false, outputs: [0x80], variadicOutputs: false)
            ], nil
        ),
        "Asin": (
            [
                Schema(since: 7, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Asinh": (
            [
                Schema(since: 9, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Atan": (
            [
                Schema(since: 7, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Atanh": (
            [
                Schema(since: 9, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Attention": (
            [
                Schema(
                    since: 23, inputs: [0x10c02, 0x10c02, 0x10c02, 0x13efe, 0x10c02, 0x10c02], variadicInputs: false,
                    outputs: [0x10c02, 0x10c02, 0x10c02, 0x10c02], variadicOutputs: false),
                Schema(
                    since: 24, inputs: [0x10c02, 0x10c02, 0x10c02, 0x13efe, 0x10c02, 0x10c02, 0x80], variadicInputs: false,
                    outputs: [0x10c02, 0x10c02, 0x10c02, 0x10c02], variadicOutputs: false),
                Schema(
                    since: 25, inputs: [0x10c02, 0x10c02, 0x10c02, 0x13efe, 0x10c02, 0x10c02, 0x80], variadicInputs: false,
                    outputs: [0x10c02, 0x10c02, 0x10c02, 0x10c02], variadicOutputs: false)
            ], nil
        ),
        "AveragePool": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 7, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 10, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 11, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 19, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "BatchNormalization": (
            [
                Schema(
                    since: 1, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0xc02], variadicInputs: false,
                    outputs: [0xc02, 0xc02, 0xc02, 0xc02, 0xc02], variadicOutputs: false),
                Schema(
                    since: 6, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0xc02], variadicInputs: false,
                    outputs: [0xc02, 0xc02, 0xc02, 0xc02, 0xc02], variadicOutputs: false),
                Schema(
                    since: 7, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0xc02], variadicInputs: false,
                    outputs: [0xc02, 0xc02, 0xc02, 0xc02, 0xc02], variadicOutputs: false),
                Schema(
                    since: 9, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0xc02], variadicInputs: false,
                    outputs: [0xc02, 0xc02, 0xc02, 0xc02, 0xc02], variadicOutputs: false),
                Schema(
                    since: 14, inputs: [0x10c02, 0x10c02, 0x10c02, 0x10c02, 0x10c02], variadicInputs: false,
                    outputs: [0x10c02, 0x10c02, 0x10c02], variadicOutputs: false),
                Schema(
                    since: 15, inputs: [0x10c02, 0x10c02, 0x10c02, 0x10c02, 0x10c02], variadicInputs: false,
                    outputs: [0x10c02, 0x10c02, 0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Bernoulli": (
            [
                Schema(since: 15, inputs: [0xc02], variadicInputs: false, outputs: [0x13efe], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x13efe], variadicOutputs: false)
            ], nil
        ),
        "BitCast": (
            [
                Schema(since: 26, inputs: [0x7fffefe], variadicInputs: false, outputs: [0x7fffefe], variadicOutputs: false)
            ], nil
        ),
        "BitShift": (
            [
                Schema(since: 11, inputs: [0x3014, 0x3014], variadicInputs: false, outputs: [0x3014], variadicOutputs: false),
                Schema(since: 28, inputs: [0x30fc, 0x30fc], variadicInputs: false, outputs: [0x30fc], variadicOutputs: false)
            ], nil
        ),
        "BitwiseAnd": (
            [
                Schema(since: 18, inputs: [0x30fc, 0x30fc], variadicInputs: false, outputs: [0x30fc], variadicOutputs: false)
            ], nil
        ),
        "BitwiseNot": (
            [
                Schema(since: 18, inputs: [0x30fc], variadicInputs: false, outputs: [0x30fc], variadicOutputs: false)
            ], nil
        ),
        "BitwiseOr": (
            [
                Schema(since: 18, inputs: [0x30fc, 0x30fc], variadicInputs: false, outputs: [0x30fc], variadicOutputs: false)
            ], nil
        ),
        "BitwiseXor": (
            [
                Schema(since: 18, inputs: [0x30fc, 0x30fc], variadicInputs: false, outputs: [0x30fc], variadicOutputs: false)
            ], nil
        ),
        "BlackmanWindow": (
            [
                Schema(since: 17, inputs: [0xc0], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "Cast": (
            [
                Schema(since: 1, inputs: [0x3efe], variadicInputs: false, outputs: [0x3efe], variadicOutputs: false),
                Schema(since: 6, inputs: [0x3efe], variadicInputs: false, outputs: [0x3efe], variadicOutputs: false),
                Schema(since: 9, inputs: [0x3ffe], variadicInputs: false, outputs: [0x3ffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13ffe], variadicInputs: false, outputs: [0x13ffe], variadicOutputs: false),
                Schema(since: 19, inputs: [0x1f3ffe], variadicInputs: false, outputs: [0x1f3ffe], variadicOutputs: false),
                Schema(since: 21, inputs: [0x7f3ffe], variadicInputs: false, outputs: [0x7f3ffe], variadicOutputs: false),
                Schema(since: 23, inputs: [0xff3ffe], variadicInputs: false, outputs: [0xff3ffe], variadicOutputs: false),
                Schema(since: 24, inputs: [0x1ff3ffe], variadicInputs: false, outputs: [0x1ff3ffe], variadicOutputs: false),
                Schema(since: 25, inputs: [0x7ff3ffe], variadicInputs: false, outputs: [0x7ff3ffe], variadicOutputs: false),
                Schema(since: 28, inputs: [0x1fff3ffe], variadicInputs: false, outputs: [0x1fff3ffe], variadicOutputs: false)
            ], nil
        ),
        "CastLike": (
            [
                Schema(since: 15, inputs: [0x13ffe, 0x13ffe], variadicInputs: false, outputs: [0x13ffe], variadicOutputs: false),
                Schema(
                    since: 19, inputs: [0x1f3ffe, 0x1f3ffe], variadicInputs: false, outputs: [0x1f3ffe], variadicOutputs: false),
                Schema(
                    since: 21, inputs: [0x7f3ffe, 0x7f3ffe], variadicInputs: false, outputs: [0x7f3ffe], variadicOutputs: false),
                Schema(
                    since: 23, inputs: [0xff3ffe, 0xff3ffe], variadicInputs: false, outputs: [0xff3ffe], variadicOutputs: false),
                Schema(
                    since: 24, inputs: [0x1ff3ffe, 0x1ff3ffe], variadicInputs: false, outputs: [0x1ff3ffe], variadicOutputs: false
                ),
                Schema(
                    since: 25, inputs: [0x7ff3ffe, 0x7ff3ffe], variadicInputs: false, outputs: [0x7ff3ffe], variadicOutputs: false
                )
            ], nil
        ),
        "CausalConvWithState": (
            [
                Schema(
                    since: 27, inputs: [0x10402, 0x10402, 0x10402, 0x10402], variadicInputs: false, outputs: [0x10402, 0x10402],
                    variadicOutputs: false)
            ], nil
        ),
        "Ceil": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Celu": (
            [
                Schema(since: 12, inputs: [0x2], variadicInputs: false, outputs: [0x2], variadicOutputs: false),
                Schema(since: 28, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "CenterCropPad": (
            [
                Schema(since: 18, inputs: [0x1fffe, 0xc0], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "Clip": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 11, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(
                    since: 12, inputs: [0x3cfe, 0x3cfe, 0x3cfe], variadicInputs: false, outputs: [0x3cfe], variadicOutputs: false),
                Schema(
                    since: 13, inputs: [0x13cfe, 0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x13cfe],
                    variadicOutputs: false)
            ], nil
        ),
        "Col2Im": (
            [
                Schema(
                    since: 18, inputs: [0x1fffe, 0x80, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "Compress": (
            [
                Schema(since: 9, inputs: [0xfffe, 0x200], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 11, inputs: [0xfffe, 0x200], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 28, inputs: [0x1fffe, 0x200], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "Concat": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 4, inputs: [0xfffe], variadicInputs: true, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 11, inputs: [0xfffe], variadicInputs: true, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe], variadicInputs: true, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "ConcatFromSequence": (
            [
                Schema(since: 11, inputs: [UInt64.max], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false)
            ], nil
        ),
        "Constant": (
            [
                Schema(since: 1, inputs: [], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 9, inputs: [], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 11, inputs: [], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 12, inputs: [], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 19, inputs: [], variadicInputs: false, outputs: [0x1ffffe], variadicOutputs: false),
                Schema(since: 21, inputs: [], variadicInputs: false, outputs: [0x7ffffe], variadicOutputs: false),
                Schema(since: 23, inputs: [], variadicInputs: false, outputs: [0xfffffe], variadicOutputs: false),
                Schema(since: 24, inputs: [], variadicInputs: false, outputs: [0x1fffffe], variadicOutputs: false),
                Schema(since: 25, inputs: [], variadicInputs: false, outputs: [0x7fffffe], variadicOutputs: false)
            ], nil
        ),
        "ConstantOfShape": (
            [
                Schema(since: 9, inputs: [0x80], variadicInputs: false, outputs: [0x3efe], variadicOutputs: false),
                Schema(since: 20, inputs: [0x80], variadicInputs: false, outputs: [0x1f3efe], variadicOutputs: false),
                Schema(since: 21, inputs: [0x80], variadicInputs: false, outputs: [0x7f3efe], variadicOutputs: false),
                Schema(since: 23, inputs: [0x80], variadicInputs: false, outputs: [0xff3efe], variadicOutputs: false),
                Schema(since: 24, inputs: [0x80], variadicInputs: false, outputs: [0x1ff3efe], variadicOutputs: false),
                Schema(since: 25, inputs: [0x80], variadicInputs: false, outputs: [0x7ff3efe], variadicOutputs: false)
            ], nil
        ),
        "Conv": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 11, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x10c02, 0x10c02, 0x10c02], variadicInputs: false, outputs: [0x10c02],
                    variadicOutputs: false)
            ], nil
        ),
        "ConvInteger": (
            [
                Schema(since: 10, inputs: [0xc, 0xc, 0xc, 0xc], variadicInputs: false, outputs: [0x40], variadicOutputs: false)
            ], nil
        ),
        "ConvTranspose": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 11, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x10c02, 0x10c02, 0x10c02], variadicInputs: false, outputs: [0x10c02],
                    variadicOutputs: false)
            ], nil
        ),
        "Cos": (
            [
                Schema(since: 7, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Cosh": (
            [
                Schema(since: 9, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "CumProd": (
            [
                Schema(since: 26, inputs: [0x13cc2, 0xc0], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false)
            ], nil
        ),
        "CumSum": (
            [
                Schema(since: 11, inputs: [0x38c2, 0xc0], variadicInputs: false, outputs: [0x38c2], variadicOutputs: false),
                Schema(since: 14, inputs: [0x13cc2, 0xc0], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false)
            ], nil
        ),
        "DFT": (
            [
                Schema(since: 17, inputs: [0x10c02, 0xc0], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false),
                Schema(
                    since: 20, inputs: [0x10c02, 0xc0, 0x80], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "DeformConv": (
            [
                Schema(
                    since: 19, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02],
                    variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x10c02, 0x10c02, 0x10c02, 0x10c02, 0x10c02], variadicInputs: false, outputs: [0x10c02],
                    variadicOutputs: false)
            ], nil
        ),
        "DepthToSpace": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 11, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 28, inputs: [0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "DequantizeLinear": (
            [
                Schema(since: 10, inputs: [0x4c, 0x2, 0x4c], variadicInputs: false, outputs: [0x2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x4c, 0x2, 0x4c], variadicInputs: false, outputs: [0x2], variadicOutputs: false),
                Schema(
                    since: 19, inputs: [0x1e004c, 0x10402, 0x1e004c], variadicInputs: false, outputs: [0x10402],
                    variadicOutputs: false),
                Schema(
                    since: 21, inputs: [0x7e007c, 0x10402, 0x7e007c], variadicInputs: false, outputs: [0x10402],
                    variadicOutputs: false),
                Schema(
                    since: 23, inputs: [0xfe007c, 0x10402, 0xfe007c], variadicInputs: false, outputs: [0x10402],
                    variadicOutputs: false),
                Schema(
                    since: 24, inputs: [0xfe007c, 0x1010402, 0xfe007c], variadicInputs: false, outputs: [0x10402],
                    variadicOutputs: false),
                Schema(
                    since: 25, inputs: [0x6fe007c, 0x1010402, 0x6fe007c], variadicInputs: false, outputs: [0x10402],
                    variadicOutputs: false),
                Schema(
                    since: 28, inputs: [0x1efe007c, 0x1010402, 0x1efe007c], variadicInputs: false, outputs: [0x10402],
                    variadicOutputs: false)
            ], nil
        ),
        "Det": (
            [
                Schema(since: 11, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Div": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 7, inputs: [0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2, 0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 14, inputs: [0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "Dropout": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02, 0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02, 0xc02], variadicOutputs: false),
                Schema(since: 7, inputs: [0xc02], variadicInputs: false, outputs: [0xc02, 0xc02], variadicOutputs: false),
                Schema(since: 10, inputs: [0xc02], variadicInputs: false, outputs: [0xc02, 0x200], variadicOutputs: false),
                Schema(
                    since: 12, inputs: [0xc02, 0xc02, 0x200], variadicInputs: false, outputs: [0xc02, 0x200],
                    variadicOutputs: false),
                Schema(
                    since: 13, inputs: [0x10c02, 0xc02, 0x200], variadicInputs: false, outputs: [0x10c02, 0x200],
                    variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x1f0c02, 0x1f0c02, 0x200], variadicInputs: false, outputs: [0x1f0c02, 0x200],
                    variadicOutputs: false)
            ], nil
        ),
        "DynamicQuantizeLinear": (
            [
                Schema(since: 11, inputs: [0x2], variadicInputs: false, outputs: [0x4, 0x2, 0x4], variadicOutputs: false)
            ], nil
        ),
        "Einsum": (
            [
                Schema(since: 12, inputs: [0x3cfe], variadicInputs: true, outputs: [0x3cfe], variadicOutputs: false),
                Schema(since: 28, inputs: [0x13cfe], variadicInputs: true, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "Elu": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Equal": (
            [
                Schema(since: 1, inputs: [0x2c0, 0x2c0], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 7, inputs: [0x2c0, 0x2c0], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3efe, 0x3efe], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13efe, 0x13efe], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 19, inputs: [0x13ffe, 0x13ffe], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "Erf": (
            [
                Schema(since: 9, inputs: [0x3cfe], variadicInputs: false, outputs: [0x3cfe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Exp": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Expand": (
            [
                Schema(since: 8, inputs: [0xfffe, 0x80], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "EyeLike": (
            [
                Schema(since: 9, inputs: [0x3efe], variadicInputs: false, outputs: [0x3efe], variadicOutputs: false),
                Schema(since: 22, inputs: [0x13efe], variadicInputs: false, outputs: [0x13efe], variadicOutputs: false)
            ], nil
        ),
        "Flatten": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 9, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 11, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 21, inputs: [0x7ffffe], variadicInputs: false, outputs: [0x7ffffe], variadicOutputs: false),
                Schema(since: 23, inputs: [0xfffffe], variadicInputs: false, outputs: [0xfffffe], variadicOutputs: false),
                Schema(since: 24, inputs: [0x1fffffe], variadicInputs: false, outputs: [0x1fffffe], variadicOutputs: false),
                Schema(since: 25, inputs: [0x7fffffe], variadicInputs: false, outputs: [0x7fffffe], variadicOutputs: false)
            ], nil
        ),
        "Floor": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "GRU": (
            [
                Schema(
                    since: 1, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0x40, 0xc02], variadicInputs: false, outputs: [0xc02, 0xc02],
                    variadicOutputs: false),
                Schema(
                    since: 3, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0x40, 0xc02], variadicInputs: false, outputs: [0xc02, 0xc02],
                    variadicOutputs: false),
                Schema(
                    since: 7, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0x40, 0xc02], variadicInputs: false, outputs: [0xc02, 0xc02],
                    variadicOutputs: false),
                Schema(
                    since: 14, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0x40, 0xc02], variadicInputs: false, outputs: [0xc02, 0xc02],
                    variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x10c02, 0x10c02, 0x10c02, 0x10c02, 0x40, 0x10c02], variadicInputs: false,
                    outputs: [0x10c02, 0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Gather": (
            [
                Schema(since: 1, inputs: [0xfffe, 0xc0], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 11, inputs: [0xfffe, 0xc0], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe, 0xc0], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "GatherElements": (
            [
                Schema(since: 11, inputs: [0xfffe, 0xc0], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe, 0xc0], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "GatherND": (
            [
                Schema(since: 11, inputs: [0xfffe, 0x80], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 12, inputs: [0xfffe, 0x80], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "Gelu": (
            [
                Schema(since: 20, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Gemm": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 7, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(
                    since: 9, inputs: [0x3cc2, 0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(
                    since: 11, inputs: [0x3cc2, 0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(
                    since: 13, inputs: [0x13cc2, 0x13cc2, 0x13cc2], variadicInputs: false, outputs: [0x13cc2],
                    variadicOutputs: false)
            ], nil
        ),
        "GlobalAveragePool": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "GlobalLpPool": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 2, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "GlobalMaxPool": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Greater": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 7, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 9, inputs: [0x3cfe, 0x3cfe], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "GreaterOrEqual": (
            [
                Schema(since: 12, inputs: [0x3cfe, 0x3cfe], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 16, inputs: [0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "GridSample": (
            [
                Schema(since: 16, inputs: [0xfffe, 0xc02], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 20, inputs: [0xfffe, 0xc02], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 22, inputs: [0x1fffe, 0x10c02], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "GroupNormalization": (
            [
                Schema(
                    since: 18, inputs: [0x10c02, 0x10c02, 0x10c02], variadicInputs: false, outputs: [0x10c02],
                    variadicOutputs: false),
                Schema(
                    since: 21, inputs: [0x10c02, 0x10c02, 0x10c02], variadicInputs: false, outputs: [0x10c02],
                    variadicOutputs: false)
            ], nil
        ),
        "HammingWindow": (
            [
                Schema(since: 17, inputs: [0xc0], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "HannWindow": (
            [
                Schema(since: 17, inputs: [0xc0], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "HardSigmoid": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "HardSwish": (
            [
                Schema(since: 14, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Hardmax": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 11, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Identity": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 14, inputs: [0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 16, inputs: [0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 19, inputs: [0x1ffffe], variadicInputs: false, outputs: [0x1ffffe], variadicOutputs: false),
                Schema(since: 21, inputs: [0x7ffffe], variadicInputs: false, outputs: [0x7ffffe], variadicOutputs: false),
                Schema(since: 23, inputs: [0xfffffe], variadicInputs: false, outputs: [0xfffffe], variadicOutputs: false),
                Schema(since: 24, inputs: [0x1fffffe], variadicInputs: false, outputs: [0x1fffffe], variadicOutputs: false),
                Schema(since: 25, inputs: [0x7fffffe], variadicInputs: false, outputs: [0x7fffffe], variadicOutputs: false)
            ], nil
        ),
        "If": (
            [
                Schema(since: 1, inputs: [0x200], variadicInputs: false, outputs: [0xfffe], variadicOutputs: true),
                Schema(since: 11, inputs: [0x200], variadicInputs: false, outputs: [0xfffe], variadicOutputs: true),
                Schema(since: 13, inputs: [0x200], variadicInputs: false, outputs: [0xfffe], variadicOutputs: true),
                Schema(since: 16, inputs: [0x200], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: true),
                Schema(since: 19, inputs: [0x200], variadicInputs: false, outputs: [0x1ffffe], variadicOutputs: true),
                Schema(since: 21, inputs: [0x200], variadicInputs: false, outputs: [0x7ffffe], variadicOutputs: true),
                Schema(since: 23, inputs: [0x200], variadicInputs: false, outputs: [0xfffffe], variadicOutputs: true),
                Schema(since: 24, inputs: [0x200], variadicInputs: false, outputs: [0x1fffffe], variadicOutputs: true),
                Schema(since: 25, inputs: [0x200], variadicInputs: false, outputs: [0x7fffffe], variadicOutputs: true)
            ], nil
        ),
        "ImageDecoder": (
            [
                Schema(since: 20, inputs: [0x4], variadicInputs: false, outputs: [0x4], variadicOutputs: false)
            ], nil
        ),
        "InstanceNormalization": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x10c02, 0x10c02, 0x10c02], variadicInputs: false, outputs: [0x10c02],
                    variadicOutputs: false)
            ], nil
        ),
        "IsInf": (
            [
                Schema(since: 10, inputs: [0x802], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 20, inputs: [0x1f0c02], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "IsNaN": (
            [
                Schema(since: 9, inputs: [0xc02], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 20, inputs: [0x1f0c02], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "LRN": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "LSTM": (
            [
                Schema(
                    since: 1, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0x40, 0xc02, 0xc02, 0xc02], variadicInputs: false,
                    outputs: [0xc02, 0xc02, 0xc02], variadicOutputs: false),
                Schema(
                    since: 7, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0x40, 0xc02, 0xc02, 0xc02], variadicInputs: false,
                    outputs: [0xc02, 0xc02, 0xc02], variadicOutputs: false),
                Schema(
                    since: 14, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0x40, 0xc02, 0xc02, 0xc02], variadicInputs: false,
                    outputs: [0xc02, 0xc02, 0xc02], variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x10c02, 0x10c02, 0x10c02, 0x10c02, 0x40, 0x10c02, 0x10c02, 0x10c02],
                    variadicInputs: false, outputs: [0x10c02, 0x10c02, 0x10c02], variadicOutputs: false)
            ], nil
        ),
        "LayerNormalization": (
            [
                Schema(
                    since: 17, inputs: [0x10c02, 0x10c02, 0x10c02], variadicInputs: false, outputs: [0x10c02, 0x10002, 0x10002],
                    variadicOutputs: false)
            ], nil
        ),
        "LeakyRelu": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 16, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Less": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 7, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 9, inputs: [0x3cfe, 0x3cfe], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "LessOrEqual": (
            [
                Schema(since: 12, inputs: [0x3cfe, 0x3cfe], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 16, inputs: [0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "LinearAttention": (
            [
                Schema(
                    since: 27, inputs: [0x10402, 0x10402, 0x10402, 0x10402, 0x10402, 0x10402], variadicInputs: false,
                    outputs: [0x10402, 0x10402], variadicOutputs: false)
            ], nil
        ),
        "Log": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "LogSoftmax": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 11, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Loop": (
            [
                Schema(since: 1, inputs: [0x80, 0x200, 0xfffe], variadicInputs: true, outputs: [0xfffe], variadicOutputs: true),
                Schema(since: 11, inputs: [0x80, 0x200, 0xfffe], variadicInputs: true, outputs: [0xfffe], variadicOutputs: true),
                Schema(since: 13, inputs: [0x80, 0x200, 0xfffe], variadicInputs: true, outputs: [0xfffe], variadicOutputs: true),
                Schema(
                    since: 16, inputs: [0x80, 0x200, 0x1fffe], variadicInputs: true, outputs: [0x1fffe], variadicOutputs: true),
                Schema(
                    since: 19, inputs: [0x80, 0x200, 0x1ffffe], variadicInputs: true, outputs: [0x1ffffe], variadicOutputs: true),
                Schema(
                    since: 21, inputs: [0x80, 0x200, 0x7ffffe], variadicInputs: true, outputs: [0x7ffffe], variadicOutputs: true),
                Schema(
                    since: 23, inputs: [0x80, 0x200, 0xfffffe], variadicInputs: true, outputs: [0xfffffe], variadicOutputs: true),
                Schema(
                    since: 24, inputs: [0x80, 0x200, 0x1fffffe], variadicInputs: true, outputs: [0x1fffffe], variadicOutputs: true
                ),
                Schema(
                    since: 25, inputs: [0x80, 0x200, 0x7fffffe], variadicInputs: true, outputs: [0x7fffffe], variadicOutputs: true
                )
            ], nil
        ),
        "LpNormalization": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "LpPool": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 2, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 11, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 18, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "MatMul": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 9, inputs: [0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2, 0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false)
            ], nil
        ),
        "MatMulInteger": (
            [
                Schema(since: 10, inputs: [0xc, 0xc, 0xc, 0xc], variadicInputs: false, outputs: [0x40], variadicOutputs: false)
            ], nil
        ),
        "Max": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 8, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 12, inputs: [0x3cfe], variadicInputs: true, outputs: [0x3cfe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cfe], variadicInputs: true, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "MaxPool": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 8, inputs: [0xc02], variadicInputs: false, outputs: [0xc02, 0x80], variadicOutputs: false),
                Schema(since: 10, inputs: [0xc02], variadicInputs: false, outputs: [0xc02, 0x80], variadicOutputs: false),
                Schema(since: 11, inputs: [0xc02], variadicInputs: false, outputs: [0xc02, 0x80], variadicOutputs: false),
                Schema(since: 12, inputs: [0xc0e], variadicInputs: false, outputs: [0xc0e, 0x80], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c0e], variadicInputs: false, outputs: [0x10c0e, 0x80], variadicOutputs: false)
            ], nil
        ),
        "MaxRoiPool": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02, 0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "MaxUnpool": (
            [
                Schema(since: 9, inputs: [0xc02, 0x80, 0x80], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 11, inputs: [0xc02, 0x80, 0x80], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x10c02, 0x80, 0x80], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Mean": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 8, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: true, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "MeanVarianceNormalization": (
            [
                Schema(since: 9, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "MelWeightMatrix": (
            [
                Schema(
                    since: 17, inputs: [0xc0, 0xc0, 0xc0, 0x10c02, 0x10c02], variadicInputs: false, outputs: [0x13cfe],
                    variadicOutputs: false)
            ], nil
        ),
        "Min": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 8, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 12, inputs: [0x3cfe], variadicInputs: true, outputs: [0x3cfe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cfe], variadicInputs: true, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "Mish": (
            [
                Schema(since: 18, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Mod": (
            [
                Schema(since: 10, inputs: [0x3cfe, 0x3cfe], variadicInputs: false, outputs: [0x3cfe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false),
                Schema(since: 28, inputs: [0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "Mul": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 7, inputs: [0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2, 0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 14, inputs: [0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "Multinomial": (
            [
                Schema(since: 7, inputs: [0xc02], variadicInputs: false, outputs: [0xc0], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0xc0], variadicOutputs: false)
            ], nil
        ),
        "Neg": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xcea], variadicInputs: false, outputs: [0xcea], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10cea], variadicInputs: false, outputs: [0x10cea], variadicOutputs: false)
            ], nil
        ),
        "NegativeLogLikelihoodLoss": (
            [
                Schema(since: 12, inputs: [0xc02, 0xc0, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0xc02, 0xc0, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x10c02, 0xc0, 0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false
                )
            ], nil
        ),
        "NonMaxSuppression": (
            [
                Schema(
                    since: 10, inputs: [0x2, 0x2, 0x80, 0x2, 0x2], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(
                    since: 11, inputs: [0x2, 0x2, 0x80, 0x2, 0x2], variadicInputs: false, outputs: [0x80], variadicOutputs: false)
            ], nil
        ),
        "NonZero": (
            [
                Schema(since: 9, inputs: [0xfffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false)
            ], nil
        ),
        "Not": (
            [
                Schema(since: 1, inputs: [0x200], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "OneHot": (
            [
                Schema(
                    since: 9, inputs: [0x3cfe, 0x3cfe, 0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(
                    since: 11, inputs: [0x3cfe, 0x3cfe, 0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(
                    since: 28, inputs: [0x3cfe, 0x3cfe, 0x1fffe], variadicInputs: false, outputs: [0x1fffe],
                    variadicOutputs: false)
            ], nil
        ),
        "Optional": (
            [
                Schema(since: 15, inputs: [0xfffe], variadicInputs: false, outputs: [UInt64.max], variadicOutputs: false),
                Schema(since: 28, inputs: [0x1ffffffe], variadicInputs: false, outputs: [UInt64.max], variadicOutputs: false)
            ], nil
        ),
        "OptionalGetElement": (
            [
                Schema(since: 15, inputs: [UInt64.max], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 18, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 28, inputs: [0x1ffffffe], variadicInputs: false, outputs: [0x1ffffffe], variadicOutputs: false)
            ], nil
        ),
        "OptionalHasElement": (
            [
                Schema(since: 15, inputs: [UInt64.max], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 18, inputs: [0xfffe], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 28, inputs: [0x1ffffffe], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "Or": (
            [
                Schema(since: 1, inputs: [0x200, 0x200], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 7, inputs: [0x200, 0x200], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "PRelu": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 7, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 9, inputs: [0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 16, inputs: [0x13cc2, 0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false)
            ], nil
        ),
        "Pad": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 2, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(
                    since: 11, inputs: [0x3cfe, 0x80, 0x3cfe], variadicInputs: false, outputs: [0x3cfe], variadicOutputs: false),
                Schema(
                    since: 13, inputs: [0x1fffe, 0x80, 0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false
                ),
                Schema(
                    since: 18, inputs: [0x1fffe, 0x80, 0x1fffe, 0xc0], variadicInputs: false, outputs: [0x1fffe],
                    variadicOutputs: false),
                Schema(
                    since: 19, inputs: [0x1fffe, 0x80, 0x1fffe, 0xc0], variadicInputs: false, outputs: [0x1fffe],
                    variadicOutputs: false),
                Schema(
                    since: 21, inputs: [0x7ffffe, 0x80, 0x7ffffe, 0xc0], variadicInputs: false, outputs: [0x7ffffe],
                    variadicOutputs: false),
                Schema(
                    since: 23, inputs: [0xfffffe, 0x80, 0xfffffe, 0xc0], variadicInputs: false, outputs: [0xfffffe],
                    variadicOutputs: false),
                Schema(
                    since: 24, inputs: [0x1fffffe, 0x80, 0x1fffffe, 0xc0], variadicInputs: false, outputs: [0x1fffffe],
                    variadicOutputs: false),
                Schema(
                    since: 25, inputs: [0x7fffffe, 0x80, 0x7fffffe, 0xc0], variadicInputs: false, outputs: [0x7fffffe],
                    variadicOutputs: false)
            ], nil
        ),
        "Pow": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 7, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 12, inputs: [0xcc2, 0x3cfe], variadicInputs: false, outputs: [0xcc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10cc2, 0x3cfe], variadicInputs: false, outputs: [0x10cc2], variadicOutputs: false),
                Schema(since: 15, inputs: [0x10cc2, 0x13cfe], variadicInputs: false, outputs: [0x10cc2], variadicOutputs: false)
            ], nil
        ),
        "QLinearConv": (
            [
                Schema(
                    since: 10, inputs: [0xc, 0x2, 0xc, 0xc, 0x2, 0xc, 0x2, 0xc, 0x40], variadicInputs: false, outputs: [0xc],
                    variadicOutputs: false)
            ], nil
        ),
        "QLinearMatMul": (
            [
                Schema(
                    since: 10, inputs: [0xc, 0x2, 0xc, 0xc, 0x2, 0xc, 0x2, 0xc], variadicInputs: false, outputs: [0xc],
                    variadicOutputs: false),
                Schema(
                    since: 21, inputs: [0x1e000c, 0x10402, 0x1e000c, 0x1e000c, 0x10402, 0x1e000c, 0x10402, 0x1e000c],
                    variadicInputs: false, outputs: [0x1e000c], variadicOutputs: false)
            ], nil
        ),
        "QuantizeLinear": (
            [
                Schema(since: 10, inputs: [0x42, 0x2, 0xc], variadicInputs: false, outputs: [0xc], variadicOutputs: false),
                Schema(since: 13, inputs: [0x42, 0x2, 0xc], variadicInputs: false, outputs: [0xc], variadicOutputs: false),
                Schema(
                    since: 19, inputs: [0x10442, 0x10442, 0x1e000c], variadicInputs: false, outputs: [0x1e000c],
                    variadicOutputs: false),
                Schema(
                    since: 21, inputs: [0x10442, 0x10442, 0x7e003c], variadicInputs: false, outputs: [0x7e003c],
                    variadicOutputs: false),
                Schema(
                    since: 23, inputs: [0x10442, 0x10442, 0xfe003c], variadicInputs: false, outputs: [0xfe003c],
                    variadicOutputs: false),
                Schema(
                    since: 24, inputs: [0x10442, 0x1010442, 0xfe003c], variadicInputs: false, outputs: [0xfe003c],
                    variadicOutputs: false),
                Schema(
                    since: 25, inputs: [0x10442, 0x1010442, 0x6fe003c], variadicInputs: false, outputs: [0x6fe003c],
                    variadicOutputs: false),
                Schema(
                    since: 28, inputs: [0x10442, 0x1010442, 0x1efe003c], variadicInputs: false, outputs: [0x1efe003c],
                    variadicOutputs: false)
            ], nil
        ),
        "RMSNormalization": (
            [
                Schema(since: 23, inputs: [0x10c02, 0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "RNN": (
            [
                Schema(
                    since: 1, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0x40, 0xc02], variadicInputs: false, outputs: [0xc02, 0xc02],
                    variadicOutputs: false),
                Schema(
                    since: 7, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0x40, 0xc02], variadicInputs: false, outputs: [0xc02, 0xc02],
                    variadicOutputs: false),
                Schema(
                    since: 14, inputs: [0xc02, 0xc02, 0xc02, 0xc02, 0x40, 0xc02], variadicInputs: false, outputs: [0xc02, 0xc02],
                    variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x10c02, 0x10c02, 0x10c02, 0x10c02, 0x40, 0x10c02], variadicInputs: false,
                    outputs: [0x10c02, 0x10c02], variadicOutputs: false)
            ], nil
        ),
        "RandomNormal": (
            [
                Schema(since: 1, inputs: [], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "RandomNormalLike": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x1fffe], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "RandomUniform": (
            [
                Schema(since: 1, inputs: [], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "RandomUniformLike": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x1fffe], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Range": (
            [
                Schema(since: 11, inputs: [0x8e2, 0x8e2, 0x8e2], variadicInputs: false, outputs: [0x8e2], variadicOutputs: false),
                Schema(
                    since: 27, inputs: [0x10ce2, 0x10ce2, 0x10ce2], variadicInputs: false, outputs: [0x10ce2],
                    variadicOutputs: false)
            ], nil
        ),
        "Reciprocal": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "ReduceL1": (
            [
                Schema(since: 1, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 18, inputs: [0x13cc2, 0x80], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false)
            ], nil
        ),
        "ReduceL2": (
            [
                Schema(since: 1, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 18, inputs: [0x13cc2, 0x80], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false)
            ], nil
        ),
        "ReduceLogSum": (
            [
                Schema(since: 1, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 18, inputs: [0x13cc2, 0x80], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 28, inputs: [0x10c02, 0x80], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "ReduceLogSumExp": (
            [
                Schema(since: 1, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 18, inputs: [0x13cc2, 0x80], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 28, inputs: [0x10c02, 0x80], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "ReduceMax": (
            [
                Schema(since: 1, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 12, inputs: [0x3cce], variadicInputs: false, outputs: [0x3cce], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cce], variadicInputs: false, outputs: [0x13cce], variadicOutputs: false),
                Schema(since: 18, inputs: [0x13cce, 0x80], variadicInputs: false, outputs: [0x13cce], variadicOutputs: false),
                Schema(since: 20, inputs: [0x13ece, 0x80], variadicInputs: false, outputs: [0x13ece], variadicOutputs: false)
            ], nil
        ),
        "ReduceMean": (
            [
                Schema(since: 1, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 18, inputs: [0x13cc2, 0x80], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false)
            ], nil
        ),
        "ReduceMin": (
            [
                Schema(since: 1, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 12, inputs: [0x3cce], variadicInputs: false, outputs: [0x3cce], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cce], variadicInputs: false, outputs: [0x13cce], variadicOutputs: false),
                Schema(since: 18, inputs: [0x13cce, 0x80], variadicInputs: false, outputs: [0x13cce], variadicOutputs: false),
                Schema(since: 20, inputs: [0x13ece, 0x80], variadicInputs: false, outputs: [0x13ece], variadicOutputs: false)
            ], nil
        ),
        "ReduceProd": (
            [
                Schema(since: 1, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 18, inputs: [0x13cc2, 0x80], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false)
            ], nil
        ),
        "ReduceSum": (
            [
                Schema(since: 1, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2, 0x80], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false)
            ], nil
        ),
        "ReduceSumSquare": (
            [
                Schema(since: 1, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 18, inputs: [0x13cc2, 0x80], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false)
            ], nil
        ),
        "RegexFullMatch": (
            [
                Schema(since: 20, inputs: [0x100], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        ),
        "Relu": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false),
                Schema(since: 14, inputs: [0x10cea], variadicInputs: false, outputs: [0x10cea], variadicOutputs: false)
            ], nil
        ),
        "Reshape": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 5, inputs: [0xfffe, 0x80], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 14, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 19, inputs: [0x1ffffe, 0x80], variadicInputs: false, outputs: [0x1ffffe], variadicOutputs: false),
                Schema(since: 21, inputs: [0x7ffffe, 0x80], variadicInputs: false, outputs: [0x7ffffe], variadicOutputs: false),
                Schema(since: 23, inputs: [0xfffffe, 0x80], variadicInputs: false, outputs: [0xfffffe], variadicOutputs: false),
                Schema(since: 24, inputs: [0x1fffffe, 0x80], variadicInputs: false, outputs: [0x1fffffe], variadicOutputs: false),
                Schema(since: 25, inputs: [0x7fffffe, 0x80], variadicInputs: false, outputs: [0x7fffffe], variadicOutputs: false)
            ], nil
        ),
        "Resize": (
            [
                Schema(since: 10, inputs: [0xfffe, 0x2], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(
                    since: 11, inputs: [0xfffe, 0xc02, 0x2, 0x80], variadicInputs: false, outputs: [0xfffe],
                    variadicOutputs: false),
                Schema(
                    since: 13, inputs: [0x1fffe, 0xc02, 0x2, 0x80], variadicInputs: false, outputs: [0x1fffe],
                    variadicOutputs: false),
                Schema(
                    since: 18, inputs: [0x1fffe, 0xc02, 0x2, 0x80], variadicInputs: false, outputs: [0x1fffe],
                    variadicOutputs: false),
                Schema(
                    since: 19, inputs: [0x1fffe, 0xc02, 0x2, 0x80], variadicInputs: false, outputs: [0x1fffe],
                    variadicOutputs: false)
            ], nil
        ),
        "ReverseSequence": (
            [
                Schema(since: 10, inputs: [0xfffe, 0x80], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 28, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "RoiAlign": (
            [
                Schema(since: 10, inputs: [0xc02, 0xc02, 0x80], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 16, inputs: [0xc02, 0xc02, 0x80], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(
                    since: 22, inputs: [0x10c02, 0x10c02, 0x80], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false
                )
            ], nil
        ),
        "RotaryEmbedding": (
            [
                Schema(
                    since: 23, inputs: [0x10402, 0x10402, 0x10402, 0x80], variadicInputs: false, outputs: [0x10402],
                    variadicOutputs: false)
            ], nil
        ),
        "Round": (
            [
                Schema(since: 11, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "STFT": (
            [
                Schema(
                    since: 17, inputs: [0x10c02, 0xc0, 0x10c02, 0xc0], variadicInputs: false, outputs: [0x10c02],
                    variadicOutputs: false)
            ], nil
        ),
        "Scan": (
            [
                Schema(since: 8, inputs: [0x80, 0xfffe], variadicInputs: true, outputs: [0xfffe], variadicOutputs: true),
                Schema(since: 9, inputs: [0xfffe], variadicInputs: true, outputs: [0xfffe], variadicOutputs: true),
                Schema(since: 11, inputs: [0xfffe], variadicInputs: true, outputs: [0xfffe], variadicOutputs: true),
                Schema(since: 16, inputs: [0x1fffe], variadicInputs: true, outputs: [0x1fffe], variadicOutputs: true),
                Schema(since: 19, inputs: [0x1ffffe], variadicInputs: true, outputs: [0x1ffffe], variadicOutputs: true),
                Schema(since: 21, inputs: [0x7ffffe], variadicInputs: true, outputs: [0x7ffffe], variadicOutputs: true),
                Schema(since: 23, inputs: [0xfffffe], variadicInputs: true, outputs: [0xfffffe], variadicOutputs: true),
                Schema(since: 24, inputs: [0x1fffffe], variadicInputs: true, outputs: [0x1fffffe], variadicOutputs: true),
                Schema(since: 25, inputs: [0x7fffffe], variadicInputs: true, outputs: [0x7fffffe], variadicOutputs: true)
            ], nil
        ),
        "Scatter": (
            [
                Schema(
                    since: 9, inputs: [0xfffe, 0xc0, 0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(
                    since: 11, inputs: [0xfffe, 0xc0, 0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false)
            ], 11
        ),
        "ScatterElements": (
            [
                Schema(
                    since: 11, inputs: [0xfffe, 0xc0, 0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(
                    since: 13, inputs: [0x1fffe, 0xc0, 0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false
                ),
                Schema(
                    since: 16, inputs: [0x1fffe, 0xc0, 0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false
                ),
                Schema(
                    since: 18, inputs: [0x1fffe, 0xc0, 0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false
                )
            ], nil
        ),
        "ScatterND": (
            [
                Schema(
                    since: 11, inputs: [0xfffe, 0x80, 0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(
                    since: 13, inputs: [0x1fffe, 0x80, 0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false
                ),
                Schema(
                    since: 16, inputs: [0x1fffe, 0x80, 0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false
                ),
                Schema(
                    since: 18, inputs: [0x1fffe, 0x80, 0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false
                )
            ], nil
        ),
        "Selu": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "SequenceAt": (
            [
                Schema(since: 11, inputs: [UInt64.max, 0xc0], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false)
            ], nil
        ),
        "SequenceConstruct": (
            [
                Schema(since: 11, inputs: [0xfffe], variadicInputs: true, outputs: [UInt64.max], variadicOutputs: false)
            ], nil
        ),
        "SequenceEmpty": (
            [
                Schema(since: 11, inputs: [], variadicInputs: false, outputs: [UInt64.max], variadicOutputs: false)
            ], nil
        ),
        "SequenceErase": (
            [
                Schema(
                    since: 11, inputs: [UInt64.max, 0xc0], variadicInputs: false, outputs: [UInt64.max], variadicOutputs: false)
            ], nil
        ),
        "SequenceInsert": (
            [
                Schema(
                    since: 11, inputs: [UInt64.max, 0xfffe, 0xc0], variadicInputs: false, outputs: [UInt64.max],
                    variadicOutputs: false)
            ], nil
        ),
        "SequenceLength": (
            [
                Schema(since: 11, inputs: [UInt64.max], variadicInputs: false, outputs: [0x80], variadicOutputs: false)
            ], nil
        ),
        "SequenceMap": (
            [
                Schema(
                    since: 17, inputs: [UInt64.max, 0xfffe], variadicInputs: true, outputs: [UInt64.max], variadicOutputs: true)
            ], nil
        ),
        "Shape": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 15, inputs: [0x1fffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 19, inputs: [0x1ffffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 21, inputs: [0x7ffffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 23, inputs: [0xfffffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 24, inputs: [0x1fffffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 25, inputs: [0x7fffffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false)
            ], nil
        ),
        "Shrink": (
            [
                Schema(since: 9, inputs: [0x3cfe], variadicInputs: false, outputs: [0x3cfe], variadicOutputs: false)
            ], nil
        ),
        "Sigmoid": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Sign": (
            [
                Schema(since: 9, inputs: [0x3cfe], variadicInputs: false, outputs: [0x3cfe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cfe], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "Sin": (
            [
                Schema(since: 7, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Sinh": (
            [
                Schema(since: 9, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Size": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 19, inputs: [0x1ffffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 21, inputs: [0x7ffffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 23, inputs: [0xfffffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 24, inputs: [0x1fffffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false),
                Schema(since: 25, inputs: [0x7fffffe], variadicInputs: false, outputs: [0x80], variadicOutputs: false)
            ], nil
        ),
        "Slice": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(
                    since: 10, inputs: [0xfffe, 0xc0, 0xc0, 0xc0, 0xc0], variadicInputs: false, outputs: [0xfffe],
                    variadicOutputs: false),
                Schema(
                    since: 11, inputs: [0xfffe, 0xc0, 0xc0, 0xc0, 0xc0], variadicInputs: false, outputs: [0xfffe],
                    variadicOutputs: false),
                Schema(
                    since: 13, inputs: [0x1fffe, 0xc0, 0xc0, 0xc0, 0xc0], variadicInputs: false, outputs: [0x1fffe],
                    variadicOutputs: false)
            ], nil
        ),
        "Softmax": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 11, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "SoftmaxCrossEntropyLoss": (
            [
                Schema(
                    since: 12, inputs: [0xc02, 0xc0, 0xc02], variadicInputs: false, outputs: [0xc02, 0xc02],
                    variadicOutputs: false),
                Schema(
                    since: 13, inputs: [0x10c02, 0xc0, 0x10c02], variadicInputs: false, outputs: [0x10c02, 0x10c02],
                    variadicOutputs: false)
            ], nil
        ),
        "Softplus": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Softsign": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "SpaceToDepth": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 28, inputs: [0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "Split": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: true),
                Schema(since: 2, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: true),
                Schema(since: 11, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: true),
                Schema(since: 13, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: true),
                Schema(since: 18, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: true)
            ], nil
        ),
        "SplitToSequence": (
            [
                Schema(since: 11, inputs: [0xfffe, 0xc0], variadicInputs: false, outputs: [UInt64.max], variadicOutputs: false),
                Schema(since: 24, inputs: [0x1fffe, 0xc0], variadicInputs: false, outputs: [UInt64.max], variadicOutputs: false)
            ], nil
        ),
        "Sqrt": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Squeeze": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 11, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 21, inputs: [0x7ffffe, 0x80], variadicInputs: false, outputs: [0x7ffffe], variadicOutputs: false),
                Schema(since: 23, inputs: [0xfffffe, 0x80], variadicInputs: false, outputs: [0xfffffe], variadicOutputs: false),
                Schema(since: 24, inputs: [0x1fffffe, 0x80], variadicInputs: false, outputs: [0x1fffffe], variadicOutputs: false),
                Schema(since: 25, inputs: [0x7fffffe, 0x80], variadicInputs: false, outputs: [0x7fffffe], variadicOutputs: false)
            ], nil
        ),
        "StringConcat": (
            [
                Schema(since: 20, inputs: [0x100, 0x100], variadicInputs: false, outputs: [0x100], variadicOutputs: false)
            ], nil
        ),
        "StringNormalizer": (
            [
                Schema(since: 10, inputs: [0x100], variadicInputs: false, outputs: [0x100], variadicOutputs: false)
            ], nil
        ),
        "StringSplit": (
            [
                Schema(since: 20, inputs: [0x100], variadicInputs: false, outputs: [0x100, 0x80], variadicOutputs: false)
            ], nil
        ),
        "Sub": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 7, inputs: [0x3cc2, 0x3cc2], variadicInputs: false, outputs: [0x3cc2], variadicOutputs: false),
                Schema(since: 13, inputs: [0x13cc2, 0x13cc2], variadicInputs: false, outputs: [0x13cc2], variadicOutputs: false),
                Schema(since: 14, inputs: [0x13cfe, 0x13cfe], variadicInputs: false, outputs: [0x13cfe], variadicOutputs: false)
            ], nil
        ),
        "Sum": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 8, inputs: [0xc02], variadicInputs: true, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: true, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "SwiGLU": (
            [
                Schema(since: 28, inputs: [0x10c02, 0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Swish": (
            [
                Schema(since: 24, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Tan": (
            [
                Schema(since: 7, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Tanh": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 13, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "TensorScatter": (
            [
                Schema(
                    since: 24, inputs: [0x1fffffe, 0x1fffffe, 0x80], variadicInputs: false, outputs: [0x1fffffe],
                    variadicOutputs: false)
            ], nil
        ),
        "TfIdfVectorizer": (
            [
                Schema(since: 9, inputs: [0x1c0], variadicInputs: false, outputs: [0x2], variadicOutputs: false)
            ], nil
        ),
        "ThresholdedRelu": (
            [
                Schema(since: 10, inputs: [0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 22, inputs: [0x10c02], variadicInputs: false, outputs: [0x10c02], variadicOutputs: false)
            ], nil
        ),
        "Tile": (
            [
                Schema(since: 1, inputs: [0xc02, 0xc02, 0xc02], variadicInputs: false, outputs: [0xc02], variadicOutputs: false),
                Schema(since: 6, inputs: [0xfffe, 0x80], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "TopK": (
            [
                Schema(since: 1, inputs: [0xc02], variadicInputs: false, outputs: [0xc02, 0x80], variadicOutputs: false),
                Schema(since: 10, inputs: [0xc02, 0x80], variadicInputs: false, outputs: [0xc02, 0x80], variadicOutputs: false),
                Schema(since: 11, inputs: [0x3cfe, 0x80], variadicInputs: false, outputs: [0x3cfe, 0x80], variadicOutputs: false),
                Schema(
                    since: 24, inputs: [0x13cfe, 0x80], variadicInputs: false, outputs: [0x13cfe, 0x80], variadicOutputs: false)
            ], nil
        ),
        "Transpose": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 21, inputs: [0x7ffffe], variadicInputs: false, outputs: [0x7ffffe], variadicOutputs: false),
                Schema(since: 23, inputs: [0xfffffe], variadicInputs: false, outputs: [0xfffffe], variadicOutputs: false),
                Schema(since: 24, inputs: [0x1fffffe], variadicInputs: false, outputs: [0x1fffffe], variadicOutputs: false),
                Schema(since: 25, inputs: [0x7fffffe], variadicInputs: false, outputs: [0x7fffffe], variadicOutputs: false)
            ], nil
        ),
        "Trilu": (
            [
                Schema(since: 14, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false)
            ], nil
        ),
        "Unique": (
            [
                Schema(
                    since: 11, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe, 0x80, 0x80, 0x80],
                    variadicOutputs: false),
                Schema(
                    since: 28, inputs: [0x1fffe], variadicInputs: false, outputs: [0x1fffe, 0x80, 0x80, 0x80],
                    variadicOutputs: false)
            ], nil
        ),
        "Unsqueeze": (
            [
                Schema(since: 1, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 11, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 13, inputs: [0x1fffe, 0x80], variadicInputs: false, outputs: [0x1fffe], variadicOutputs: false),
                Schema(since: 21, inputs: [0x7ffffe, 0x80], variadicInputs: false, outputs: [0x7ffffe], variadicOutputs: false),
                Schema(since: 23, inputs: [0xfffffe, 0x80], variadicInputs: false, outputs: [0xfffffe], variadicOutputs: false),
                Schema(since: 24, inputs: [0x1fffffe, 0x80], variadicInputs: false, outputs: [0x1fffffe], variadicOutputs: false),
                Schema(since: 25, inputs: [0x7fffffe, 0x80], variadicInputs: false, outputs: [0x7fffffe], variadicOutputs: false)
            ], nil
        ),
        "Upsample": (
            [
                Schema(since: 1, inputs: [0xec2], variadicInputs: false, outputs: [0xec2], variadicOutputs: false),
                Schema(since: 7, inputs: [0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 9, inputs: [0xfffe, 0x2], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(since: 10, inputs: [0xfffe, 0x2], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false)
            ], 10
        ),
        "Where": (
            [
                Schema(
                    since: 9, inputs: [0x200, 0xfffe, 0xfffe], variadicInputs: false, outputs: [0xfffe], variadicOutputs: false),
                Schema(
                    since: 16, inputs: [0x200, 0x1fffe, 0x1fffe], variadicInputs: false, outputs: [0x1fffe],
                    variadicOutputs: false)
            ], nil
        ),
        "Xor": (
            [
                Schema(since: 1, inputs: [0x200, 0x200], variadicInputs: false, outputs: [0x200], variadicOutputs: false),
                Schema(since: 7, inputs: [0x200, 0x200], variadicInputs: false, outputs: [0x200], variadicOutputs: false)
            ], nil
        )
    ]
}
