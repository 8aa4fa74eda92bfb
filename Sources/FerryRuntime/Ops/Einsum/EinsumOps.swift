/// Einsum.
enum EinsumOps {
    static func register(into r: inout KernelRegistry) {
        r.register("Einsum") { spec in try EinsumKernel(spec) }
    }
}
