/// Softmax, LogSoftmax and Hardmax.
enum SoftmaxOps {
    static func register(into r: inout KernelRegistry) {
        r.register("Softmax") { spec in try SoftmaxKernel(.softmax, spec) }
        r.register("LogSoftmax") { spec in try SoftmaxKernel(.logSoftmax, spec) }
        r.register("Hardmax") { spec in try SoftmaxKernel(.hardmax, spec) }
    }
}
