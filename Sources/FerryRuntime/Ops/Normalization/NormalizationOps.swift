/// Normalization ops: BatchNormalization, InstanceNormalization, LayerNormalization,
/// GroupNormalization, LRN, LpNormalization and MeanVarianceNormalization.
enum NormalizationOps {
    static func register(into r: inout KernelRegistry) {
        r.register("BatchNormalization", batchNormalization)
        r.register("InstanceNormalization", instanceNormalization)
        r.register("LayerNormalization", layerNormalization)
        r.register("GroupNormalization", groupNormalization)
        r.register("LRN", lrn)
        r.register("LpNormalization", lpNormalization)
        r.register("MeanVarianceNormalization", meanVarianceNormalization)
    }
}
