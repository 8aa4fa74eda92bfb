import FerryIR

/// What the quantizer does to a float model before choosing what to quantize: the optimizer's
/// passes without activation fusion (constants folded, so weights held by Constant nodes or
/// computed from constants become initializers; batch norms folded into their Conv/Gemm; Identity
/// and Dropout removed).
enum QuantizationPreparation {
    static func prepare(_ model: Model, notes: inout [String]) throws -> Model {
        var m = model
        let report = try Optimizer(fuseActivations: false, foldLimit: ConstantFolding.weightsLimit).optimize(&m)
        let done = report.passes.filter { $0.rewrites > 0 }.map { "\($0.name) \($0.rewrites)" }
        if !done.isEmpty { notes.append("prepared by the optimizer: " + done.joined(separator: ", ")) }
        return m
    }
}
