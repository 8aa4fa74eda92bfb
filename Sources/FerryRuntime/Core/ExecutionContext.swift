import FerryIR

/// What kernels get while they run: memory, threads, and the options of the session.
final class ExecutionContext {
    let pool: BufferPool
    /// Threads a kernel may use (1 = run on the calling thread).
    let threads: Int
    /// When the run must end (`monotonicNanos`), and the limit in seconds it came from.
    private let deadline: (nanos: UInt64, seconds: Double)?

    init(pool: BufferPool, threads: Int, timeoutSeconds: Double? = nil) {
        self.pool = pool
        self.threads = threads
        deadline = timeoutSeconds.map { (monotonicNanos() + UInt64(max(0, $0) * 1e9), $0) }
    }

    /// Fails once the run's time limit has passed (the executor checks before every step, loops
    /// before every iteration).
    func checkDeadline() throws {
        guard let deadline, monotonicNanos() > deadline.nanos else { return }
        throw KernelError.invalid("still running when the time limit of \(deadline.seconds) s ran out")
    }

    /// A new value of `type` and `shape` with undefined contents, from the pool.
    func allocate(_ type: ElementType, _ shape: [Int]) throws -> Value {
        guard let n = Tensor.elementCount(of: shape) else {
            throw KernelError.invalid("invalid output shape \(shape)")
        }
        let (bytes, o) = n.multipliedReportingOverflow(by: elementSize(type))
        guard !o, bytes < 1 << 44 else { throw KernelError.invalid("output of shape \(shape) is too large") }
        switch pool.buffer(count: bytes) {
        case .success(let buffer):
            return Value(type: type, shape: shape, buffer: buffer)
        case .failure(.overLimit(let live, let limit)):
            throw KernelError.invalid(
                "an output of shape \(shape) (\(bytes) bytes) would take the activations past the memory limit of \(limit) bytes (\(live) in use)"
            )
        case .failure(.outOfMemory):
            throw KernelError.invalid("out of memory for an output of shape \(shape) (\(bytes) bytes)")
        }
    }

    /// A new value filled with zero bytes.
    func zeros(_ type: ElementType, _ shape: [Int]) throws -> Value {
        let v = try allocate(type, shape)
        v.buffer.baseAddress.initializeMemory(as: UInt8.self, repeating: 0, count: v.buffer.count)
        return v
    }

    /// Runs `body` over chunks of `0..<total` on up to `threads` threads; `grain` is the number of
    /// items worth a task. Fewer than four grains of work stay on the calling thread: handing a small
    /// op to a second thread costs more than it saves.
    @inline(__always) func parallel(_ total: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        parallelRanges(total, threads: total / max(grain, 1) >= 4 ? threads : 1, grain: grain, body)
    }

    /// Runs `body` over chunks of `0..<total` items that together cost `work` multiply-adds: on all
    /// threads when that is at least `minimumParallelWork`, however few the items (two recurrent
    /// directions, two column blocks of a large product), else on the calling thread.
    @inline(__always) func parallel(_ total: Int, work: Int, _ body: (Range<Int>) -> Void) {
        parallelRanges(total, threads: work >= minimumParallelWork ? threads : 1, body)
    }

    /// Runs `body` over chunks of `0..<total` items of `itemElements` elements each, `rowGrainElements`
    /// elements (or one item) per grain.
    @inline(__always) func parallel(_ total: Int, itemElements: Int, _ body: (Range<Int>) -> Void) {
        parallel(total, grain: max(1, rowGrainElements / max(itemElements, 1)), body)
    }
}
