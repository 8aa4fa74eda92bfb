/// Control flow: If, Loop and Scan, whose subgraphs are compiled once when the node is planned.
enum ControlFlowOps {
    static func register(into r: inout KernelRegistry) {
        r.register("If") { spec in try ControlIfKernel(spec) }
        r.register("Loop") { spec in try ControlLoopKernel(spec) }
        r.register("Scan", since: 8) { spec in try ControlScan8Kernel(spec) }
        r.register("Scan", since: 9) { spec in try ControlScanKernel(spec) }
    }
}
