/// How weights are chosen for removal.
public enum PruneMethod: String, CaseIterable, Sendable {
    /// Unstructured: the smallest-magnitude weights become zero; shapes stay.
    case magnitude
    /// Structured: whole filters / units with the smallest L1 norms are removed, with the matching
    /// input channels of their consumers; shapes shrink.
    case channels
}

/// Where magnitude pruning ranks weights.
public enum PruneScope: String, CaseIterable, Sendable {
    /// Each weight tensor loses exactly the requested fraction.
    case layer
    /// One threshold over all prunable weights: exactly the requested fraction of all of them.
    case global
}

/// What `Pruning.prune` removes and which weights it may touch.
public struct PruneOptions: Sendable {
    /// Fraction to remove, in [0, 1): of the weights (magnitude) or of each channel group's channels.
    public var sparsity: Double
    public var method: PruneMethod
    public var scope: PruneScope
    /// Weight tensors with fewer elements are left alone: small tensors save little and are
    /// usually the most sensitive (first convolutions, depthwise kernels).
    public var minElements: Int
    /// Node names or op types kept dense (magnitude) or whose output channels are all kept
    /// (channels; their input channels still follow the layer before them).
    public var exclude: [String]
    /// Sizes of inputs whose declared shapes have symbolic axes (others run with those axes as 1),
    /// used to learn value shapes and count multiply-adds.
    public var inputShapes: [String: [Int]] = [:]

    /// The default threshold below which weight tensors are not pruned.
    public static let defaultMinElements = 1024

    public init(
        sparsity: Double, method: PruneMethod = .magnitude, scope: PruneScope = .layer,
        minElements: Int = PruneOptions.defaultMinElements, exclude: [String] = []
    ) {
        self.sparsity = sparsity
        self.method = method
        self.scope = scope
        self.minElements = minElements
        self.exclude = exclude
    }

    /// Throws `PassError.invalidOption` (naming the property) for a sparsity outside [0, 1) or a
    /// negative minimum. The pruning passes call it; a caller may too, before loading a model.
    public func validate() throws {
        guard sparsity.isFinite, sparsity >= 0, sparsity < 1 else {
            throw PassError.invalidOption(option: "sparsity", reason: "\(sparsity) is outside [0, 1)")
        }
        guard minElements >= 0 else {
            throw PassError.invalidOption(option: "minElements", reason: "\(minElements) is negative")
        }
    }

    /// How many of `count` items the sparsity removes (rounded to the nearest whole item, halves up).
    func removedCount(of count: Int) -> Int {
        min(count, Int((sparsity * Double(count)).rounded()))
    }
}
