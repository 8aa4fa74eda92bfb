import CKernels

/// Multiply-adds below which a kernel stays on one thread (waking a second costs tens of
/// microseconds; this is about 25 microseconds of work).
let minimumParallelWork = 1 << 21

/// The work of an m x k by k x n product to weigh against `minimumParallelWork`: its multiply-adds,
/// eight times over when one side has at most four rows or columns (the other matrix is then
/// streamed once, a load per multiply-add: memory-bound work worth sharing from an eighth of the size).
func productWork(_ m: Int, _ n: Int, _ k: Int) -> Int { m * n * k * (min(m, n) <= 4 ? 8 : 1) }

/// Elements per task for element-wise loops.
let elementGrain = 1 << 16

/// Elements per task for loops over rows, planes or segments (`ExecutionContext.parallel(_:itemElements:_:)`).
let rowGrainElements = 1 << 14

/// Bytes of a GEMM's output computed before its output pass (bias, activation) runs on them, so
/// that the pass finds them in the core's cache.
let outputTileBytes = 1 << 18

/// Splits `0..<total` into contiguous chunks of at least `grain` items and runs `body` on each, on up
/// to `threads` threads (Ferry's worker threads, see `ferry_parallel_for`).
@inline(__always)
func parallelRanges(_ total: Int, threads: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    guard total > 0 else { return }
    // Up to four chunks per thread, so a thread that starts late (or is preempted) leaves its share
    // to the others instead of holding everyone up.
    let chunks = min(threads == 1 ? 1 : threads * 4, max(1, total / max(grain, 1)))
    if chunks <= 1 {
        body(0..<total)
        return
    }
    withoutActuallyEscaping(body) { body in
        var job = ParallelJob(total: total, chunks: chunks, body: body)
        withUnsafeMutablePointer(to: &job) { pointer in
            ferry_parallel_for(
                chunks, threads,
                { context, chunk in
                    let job = context!.assumingMemoryBound(to: ParallelJob.self).pointee
                    let lo = job.total * chunk / job.chunks, hi = job.total * (chunk + 1) / job.chunks
                    if lo < hi { job.body(lo..<hi) }
                }, pointer)
        }
    }
}

/// Runs `body` over `0..<total` in blocks of `total / threads` items (rounded down, so an odd count
/// still takes every thread): about one block per thread, for work where each extra block costs
/// another pass over data the blocks share (a packed matrix every block multiplies by).
@inline(__always)
func parallelBlocks(_ total: Int, threads: Int, _ body: (Range<Int>) -> Void) {
    parallelRanges(total, threads: threads, grain: max(1, total / max(1, threads)), body)
}

/// One `parallelRanges` call, as the C worker pool sees it.
private struct ParallelJob {
    let total: Int
    let chunks: Int
    let body: (Range<Int>) -> Void
}
