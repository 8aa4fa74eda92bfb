import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Recycles activation memory: a value's block returns here when the last value using it goes away
/// (liveness decided by the plan: the executor drops each value after its last reader), and the next
/// allocation of a similar size takes it back. Tracks live and peak bytes, and refuses blocks that
/// would take the live bytes over `limit`.
final class BufferPool: @unchecked Sendable {
    /// Why a buffer was not given.
    enum Failure: Error {
        /// The live bytes would pass the pool's limit.
        case overLimit(live: Int, limit: Int)
        /// The system has no memory for it.
        case outOfMemory
    }

    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var lock = pthread_mutex_t()
    private(set) var liveBytes = 0
    private(set) var peakBytes = 0
    /// Bytes held by blocks waiting for reuse.
    private(set) var cachedBytes = 0
    /// False for pools whose freed blocks go straight back to the system (plan-time constants,
    /// which are computed once).
    private let reusesBlocks: Bool
    /// Most bytes live at once (nil: no limit).
    let limit: Int?

    init(reusesBlocks: Bool = true, limit: Int? = nil) {
        self.reusesBlocks = reusesBlocks
        self.limit = limit
        pthread_mutex_init(&lock, nil)
    }

    deinit {
        for (_, blocks) in free { for p in blocks { Glibc_free(p) } }
        pthread_mutex_destroy(&lock)
    }

    /// Rounds a request to a size class (steps of 1/8 of the power of two below it) so nearby
    /// sizes share blocks.
    static func sizeClass(_ n: Int) -> Int {
        if n <= 256 { return 256 }
        let top = Int.bitWidth - 1 - (n - 1).leadingZeroBitCount
        let step = 1 << max(top - 3, 6)
        return (n + step - 1) / step * step
    }

    /// A writable buffer of `count` bytes (contents undefined).
    func buffer(count: Int) -> Result<TensorBuffer, Failure> {
        let wanted = BufferPool.sizeClass(count)
        pthread_mutex_lock(&lock)
        if let limit, liveBytes > limit - wanted {
            let live = liveBytes
            pthread_mutex_unlock(&lock)
            return .failure(.overLimit(live: live, limit: limit))
        }
        var block: UnsafeMutableRawPointer?
        var capacity = wanted
        // Best fit: the smallest cached block at least as large and at most twice the size.
        if let size = free.keys.filter({ $0 >= wanted && $0 <= 2 * wanted && !(free[$0]!.isEmpty) }).min() {
            block = free[size]!.removeLast()
            cachedBytes -= size
            capacity = size
        }
        liveBytes += capacity
        peakBytes = max(peakBytes, liveBytes)
        pthread_mutex_unlock(&lock)
        guard let p = block ?? TensorBuffer.tryAllocate(capacity) else {
            pthread_mutex_lock(&lock)
            liveBytes -= capacity
            pthread_mutex_unlock(&lock)
            return .failure(.outOfMemory)
        }
        return .success(TensorBuffer(lending: p, count: count, capacity: capacity) { [self] p, cap in self.recycle(p, cap) })
    }

    private func recycle(_ p: UnsafeMutableRawPointer, _ capacity: Int) {
        pthread_mutex_lock(&lock)
        liveBytes -= capacity
        // Cached blocks never outweigh the peak of live ones (sizes that stop recurring go back).
        let keep = reusesBlocks && cachedBytes + capacity <= max(peakBytes, 16 << 20)
        if keep {
            free[capacity, default: []].append(p)
            cachedBytes += capacity
        }
        pthread_mutex_unlock(&lock)
        if !keep { Glibc_free(p) }
    }

    /// Starts a new peak measurement from the bytes live now.
    func resetPeak() {
        pthread_mutex_lock(&lock)
        peakBytes = liveBytes
        pthread_mutex_unlock(&lock)
    }
}

@inline(__always) private func Glibc_free(_ p: UnsafeMutableRawPointer) { free(p) }
