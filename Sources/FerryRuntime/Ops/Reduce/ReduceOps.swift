/// Reductions and their relatives: Reduce*, ArgMax/ArgMin, TopK, CumSum.
enum ReduceOps {
    static func register(into r: inout KernelRegistry) {
        let reductions: [(String, ReduceKind)] = [
            ("ReduceMean", .mean), ("ReduceMax", .max), ("ReduceMin", .min), ("ReduceProd", .prod),
            ("ReduceL1", .l1), ("ReduceL2", .l2), ("ReduceLogSum", .logSum), ("ReduceLogSumExp", .logSumExp),
            ("ReduceSumSquare", .sumSquare)
        ]
        for (op, kind) in reductions {
            r.register(op) { spec in try ReduceKernel(kind, spec, axesInputSince: 18) }
        }
        r.register("ReduceSum") { spec in try ReduceKernel(.sum, spec, axesInputSince: 13) }
        r.register("ArgMax") { spec in try ReduceArgKernel(largest: true, spec) }
        r.register("ArgMin") { spec in try ReduceArgKernel(largest: false, spec) }
        r.register("TopK") { spec in try ReduceTopKKernel(spec) }
        r.register("CumSum") { spec in try ReduceCumSumKernel(spec) }
    }
}
