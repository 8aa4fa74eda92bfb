/// Every op family's registration, in one list.
let opFamilies: [(inout KernelRegistry) -> Void] = [
    BinaryOps.register,
    UnaryOps.register,
    RecurrentOps.register,
    ControlFlowOps.register,
    ConvOps.register,
    MatMulOps.register,
    PoolOps.register,
    ShapeOps.register, IndexingOps.register,
    ReduceOps.register, SoftmaxOps.register, EinsumOps.register,
    NormalizationOps.register, ResizeOps.register,
    QuantizationOps.register, ByteLookup.register
]

extension KernelRegistry {
    /// Every op family the interpreter has.
    static let standard: KernelRegistry = {
        var r = KernelRegistry()
        for family in opFamilies { family(&r) }
        return r
    }()
}
