import FerryIR

/// Runs the optimization passes over a model until none of them changes anything, and reports
/// what each one did. Passes work on the main graph; nested graphs (If/Loop/Scan bodies) are left
/// as they are, and values they capture from the main graph are never removed or renamed.
public struct Optimizer {
    /// The names of every pass, in the order they run: what `--skip` accepts.
    public static let passNames = standardPasses(foldLimit: ConstantFolding.defaultGrowthLimit).map(\.name)

    /// The passes this optimizer runs, in order.
    public let passes: [OptimizationPass]
    /// Rounds after which the optimizer stops even if a pass still changes something.
    public var maxRounds = 16

    /// The standard pipeline: all passes but those named in `skip` (names from `passNames`);
    /// `fuseActivations` false leaves Conv + activation pairs apart (FusedConv is an onnxruntime
    /// contrib op, not standard ONNX); `foldLimit` is `ConstantFolding.maxGrowthBytes`.
    public init(skip: Set<String> = [], fuseActivations: Bool = true, foldLimit: Int = ConstantFolding.defaultGrowthLimit) throws
    {
        if let unknown = skip.subtracting(Optimizer.passNames).sorted().first {
            throw PassError.invalidOption(
                option: "skip", reason: "no pass is called \(unknown) (passes: \(Optimizer.passNames.joined(separator: ", ")))")
        }
        guard foldLimit >= 0, foldLimit <= ConstantFolding.largestGrowthLimit else {
            throw PassError.invalidOption(option: "foldLimit", reason: "\(foldLimit) is outside [0, 2^40]")
        }
        passes = Optimizer.standardPasses(foldLimit: foldLimit).filter {
            !skip.contains($0.name) && (fuseActivations || !($0 is ActivationFusion))
        }
    }

    /// Every pass, in the order the standard pipeline runs them.
    private static func standardPasses(foldLimit: Int) -> [OptimizationPass] {
        [
            IdentityElimination(), ConstantFolding(maxGrowthBytes: foldLimit), BatchNormFolding(), TransposeFolding(),
            ReshapeCollapse(), InitializerDedup(), ActivationFusion(), DeadCodeElimination()
        ]
    }

    /// An optimizer running exactly `passes`.
    public init(passes: [OptimizationPass]) {
        self.passes = passes
    }

    /// Optimizes `model` in place.
    public func optimize(_ model: inout Model) throws -> OptimizationReport {
        var report = OptimizationReport(passes: passes.map { (name: $0.name, rewrites: 0) })
        for _ in 0..<maxRounds {
            report.rounds += 1
            var changed = false
            for (i, pass) in passes.enumerated() {
                let n = try pass.apply(to: &model)
                report.passes[i].rewrites += n
                changed = changed || n > 0
            }
            if !changed { break }
        }
        return report
    }
}

/// What an optimizer run did.
public struct OptimizationReport {
    /// Each pass with the number of rewrites it made over all rounds.
    public var passes: [(name: String, rewrites: Int)]
    /// Rounds run (the last one changed nothing unless the round limit was reached).
    public var rounds = 0
}
