import Dispatch

/// Multiply-adds below which a kernel stays on one thread (waking a second costs tens of
/// microseconds; this is about 25 microseconds of work).
let minimumParallelWork = 1 << 21

/// Elements per task for element-wise loops.
let elementGrain = 1 << 16

/// Splits `0..<total` into at most `threads` contiguous chunks of at least `grain` items and runs
/// `body` on each, concurrently when there is more than one.
@inline(__always)
func parallelRanges(_ total: Int, threads: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    guard total > 0 else { return }
    let chunks = min(threads, max(1, total / max(grain, 1)))
    if chunks <= 1 {
        body(0..<total)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = total * c / chunks, hi = total * (c + 1) / chunks
        if lo < hi { body(lo..<hi) }
    }
}
