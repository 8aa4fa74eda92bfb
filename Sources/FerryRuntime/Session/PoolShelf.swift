#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The activation pools of one session: a run takes an idle pool (or a new one) and gives it back
/// when it ends, so a pool serves one run at a time. Serial runs reuse one pool and its cached
/// blocks; runs at the same time each have their own, with its own peak and memory limit.
final class PoolShelf: @unchecked Sendable {
    private var idle: [BufferPool] = []
    private var lock = pthread_mutex_t()
    private var peak = 0
    /// The memory limit of each pool.
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
        pthread_mutex_init(&lock, nil)
    }

    deinit { pthread_mutex_destroy(&lock) }

    /// An idle pool, its peak reset to the bytes live in it now.
    func take() -> BufferPool {
        pthread_mutex_lock(&lock)
        let pool = idle.popLast()
        pthread_mutex_unlock(&lock)
        let taken = pool ?? BufferPool(limit: limit)
        taken.resetPeak()
        return taken
    }

    /// Returns a pool after its run, recording the run's peak.
    func giveBack(_ pool: BufferPool) {
        let runPeak = pool.peakBytes
        pthread_mutex_lock(&lock)
        peak = runPeak
        idle.append(pool)
        pthread_mutex_unlock(&lock)
    }

    /// The peak of the last run given back.
    var lastPeak: Int {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return peak
    }
}
