import CKernels
import FerryIR

/// A constant right-hand float matrix (a layer's weights: Gemm's or MatMul's B, a recurrent layer's
/// W and R) packed once, at plan time, for `ferry_sgemm_packed_b`: products with it never pack or
/// transpose it again, and one to four rows of A (batch-1 layers, recurrent steps) run as
/// matrix-vector products that stream it once.
final class PackedRightMatrix {
    /// Rows (the shared dimension) and columns of the matrix.
    let k: Int, n: Int
    private let buffer: TensorBuffer

    /// Gemm and MatMul pack constant matrices up to this size only. The packed copy lives beside
    /// the model's own weights while the session is planned, so packing the large fully connected
    /// layers of older CNNs (VGG-19's first is 411 MB) would raise peak memory by their size; run
    /// at batch 1 they are matrix-vector products that BLAS streams in place as fast.
    static let gemmLimitBytes = 16 << 20

    /// True when Gemm and MatMul pack constant `b` (float32, a non-empty matrix within the limit).
    static func packs(_ b: Value) -> Bool {
        b.type == .float && b.rank == 2 && b.count > 0 && b.count * 4 <= gemmLimitBytes
    }

    /// Packs the k x n matrix at `w` (`ld` elements per stored row), stored as n x k when
    /// `transposed`, times `scale`.
    init(_ w: UnsafePointer<Float>, ld: Int, transposed: Bool, k: Int, n: Int, scale: Float = 1) {
        self.k = k
        self.n = n
        buffer = TensorBuffer(count: max(64, ferry_sgemm_packed_b_size(n, k) * 4)) { _ in }
        let packed = buffer.baseAddress.assumingMemoryBound(to: Float.self)
        ferry_sgemm_pack_b(w, ld, transposed ? 1 : 0, k, n, packed)
        if scale != 1 { for i in 0..<ferry_sgemm_packed_b_size(n, k) { packed[i] *= scale } }
    }

    /// Columns per task when threads share the columns: whole panels of 16.
    private static let panel = 16
    /// Matrices up to this size stay in a core's cache between tasks that share the rows.
    private static let cachedBytes = 512 << 10

    /// What runs on each block of C right after it is computed, while it is in cache (bias,
    /// activation): the block's rows and columns.
    typealias Finish = (_ rows: Range<Int>, _ columns: Range<Int>) -> Void

    /// C[m x n] = A[m x k] · this (added to C when `accumulate`), on `ctx`'s threads when given:
    /// tall products split their rows, short ones their columns; `finish` then runs on each block.
    func multiply(
        _ a: UnsafePointer<Float>, rows m: Int, lda: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, ctx: ExecutionContext? = nil, finish: Finish? = nil
    ) {
        guard m > 0, n > 0 else { return }
        let threads = ctx?.threads ?? 1
        if threads == 1 || productWork(m, n, k) < minimumParallelWork {
            // Blocks of rows (whole 6-row panels) whose output stays in cache for `finish`.
            let step = finish == nil ? m : max(6, outputTileBytes / (4 * n) / 6 * 6)
            for r0 in stride(from: 0, to: m, by: step) {
                let rows = r0..<min(m, r0 + step)
                product(a + r0 * lda, rows: rows.count, lda: lda, columns: 0..<n, c + r0 * ldc, ldc: ldc, accumulate: accumulate)
                finish?(rows, 0..<n)
            }
        } else if m >= 24 * threads {
            // Rows in multiples of the GEMM's 6-row panels, each task packing only its own rows of A
            // and reading all of this matrix: four tasks per thread while it fits the core's cache,
            // else one (each task streams it from memory once more).
            let tasks = k * n * 4 <= Self.cachedBytes ? 4 * threads : threads
            let grain = 6 * max(1, m / (6 * tasks))
            parallelRanges(m, threads: threads, grain: grain) { r in
                self.product(
                    a + r.lowerBound * lda, rows: r.count, lda: lda, columns: 0..<self.n, c + r.lowerBound * ldc, ldc: ldc,
                    accumulate: accumulate)
                finish?(r, 0..<self.n)
            }
        } else {
            // One block of columns per thread: each task packs all of A.
            let panels = (n + Self.panel - 1) / Self.panel
            parallelBlocks(panels, threads: threads) { r in
                let columns = r.lowerBound * Self.panel..<min(self.n, r.upperBound * Self.panel)
                self.product(a, rows: m, lda: lda, columns: columns, c, ldc: ldc, accumulate: accumulate)
                finish?(0..<m, columns)
            }
        }
    }

    private func product(
        _ a: UnsafePointer<Float>, rows m: Int, lda: Int, columns: Range<Int>, _ c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool
    ) {
        // Scratch (A packed) only for more rows than the matrix-vector path takes: a recurrent
        // step allocates nothing.
        let scratchCount = ferry_sgemm_packed_b_scratch(m, k)
        let scratch = scratchCount > 0 ? UnsafeMutablePointer<Float>.allocate(capacity: scratchCount) : nil
        defer { scratch?.deallocate() }
        ferry_sgemm_packed_b(
            m, k, a, lda, buffer.baseAddress.assumingMemoryBound(to: Float.self), columns.lowerBound, columns.upperBound, c,
            ldc, accumulate ? 1 : 0, scratch)
    }
}
