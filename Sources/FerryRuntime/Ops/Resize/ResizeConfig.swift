import FerryIR

/// Resize's interpolation modes.
enum ResizeMode {
    case nearest, linear, cubic
}

/// How an output coordinate maps back to an input coordinate (`coordinate_transformation_mode`).
enum ResizeCoordinates {
    case halfPixel, halfPixelSymmetric, pytorchHalfPixel, alignCorners, asymmetric, tfHalfPixelForNearest, tfCropAndResize
}

/// How nearest mode rounds a fractional input coordinate; `legacy` is Upsample's and Resize-10's rule
/// (floor when the axis grows, ceil when it shrinks).
enum ResizeRounding {
    case roundPreferFloor, roundPreferCeil, floor, ceil, legacy
}

/// `keep_aspect_ratio_policy`: how `sizes` is reconciled with the input's aspect ratio.
enum ResizeAspectPolicy {
    case stretch, notLarger, notSmaller
}

/// Resize and Upsample attributes, parsed once per node.
struct ResizeConfig {
    var mode: ResizeMode
    var coordinates: ResizeCoordinates = .asymmetric
    var rounding: ResizeRounding = .legacy
    var cubicA = -0.75
    var excludeOutside = false
    var extrapolation = 0.0
    var antialias = false
    /// The axes `scales`, `sizes` and `roi` refer to (opset 18+); nil means all of them.
    var axes: [Int]?
    var policy: ResizeAspectPolicy = .stretch

    /// Resize at the node's opset (10: nearest/linear with asymmetric coordinates; 11+: the full set).
    init(resize spec: NodeSpec) throws {
        mode = try ResizeConfig.mode(try spec.string("mode", "nearest"), allowCubic: spec.opset >= 11)
        guard spec.opset >= 11 else { return }
        switch try spec.string("coordinate_transformation_mode", "half_pixel") {
        case "half_pixel": coordinates = .halfPixel
        case "half_pixel_symmetric": coordinates = .halfPixelSymmetric
        case "pytorch_half_pixel": coordinates = .pytorchHalfPixel
        case "align_corners": coordinates = .alignCorners
        case "asymmetric": coordinates = .asymmetric
        case "tf_half_pixel_for_nearest": coordinates = .tfHalfPixelForNearest
        case "tf_crop_and_resize": coordinates = .tfCropAndResize
        case let other: throw KernelError.invalid("unknown coordinate_transformation_mode '\(other)'")
        }
        switch try spec.string("nearest_mode", "round_prefer_floor") {
        case "round_prefer_floor": rounding = .roundPreferFloor
        case "round_prefer_ceil": rounding = .roundPreferCeil
        case "floor": rounding = .floor
        case "ceil": rounding = .ceil
        case let other: throw KernelError.invalid("unknown nearest_mode '\(other)'")
        }
        cubicA = Double(try spec.float("cubic_coeff_a", -0.75))
        excludeOutside = try spec.int("exclude_outside", 0) != 0
        extrapolation = Double(try spec.float("extrapolation_value", 0))
        guard spec.opset >= 18 else { return }
        antialias = try spec.int("antialias", 0) != 0
        axes = try spec.ints("axes")
        switch try spec.string("keep_aspect_ratio_policy", "stretch") {
        case "stretch": policy = .stretch
        case "not_larger": policy = .notLarger
        case "not_smaller": policy = .notSmaller
        case let other: throw KernelError.invalid("unknown keep_aspect_ratio_policy '\(other)'")
        }
    }

    /// Upsample: nearest or linear with asymmetric coordinates.
    init(upsample spec: NodeSpec) throws {
        mode = try ResizeConfig.mode(try spec.string("mode", "nearest"), allowCubic: false)
    }

    private static func mode(_ name: String, allowCubic: Bool) throws -> ResizeMode {
        switch name {
        case "nearest": return .nearest
        case "linear", "bilinear": return .linear
        case "cubic" where allowCubic: return .cubic
        default: throw KernelError.invalid("unknown mode '\(name)'")
        }
    }
}
