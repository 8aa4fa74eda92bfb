#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a memory fault into the one-line error and exit status 1 that every other failure gives:
/// a mapped input shrinking underneath Ferry (SIGBUS), or libhdf5 faulting on a damaged file read
/// with `--hdf5-in-process` (by default libhdf5 reads in its helper process, where a fault is an
/// ordinary error and this handler is not involved). The handler only writes a preformatted
/// message and exits (async-signal-safe).
enum CrashGuard {
    private nonisolated(unsafe) static var message: UnsafeMutablePointer<CChar>?
    private nonisolated(unsafe) static var length = 0

    /// Reports `file` as the input at fault should a fatal signal arrive.
    static func guardReading(_ file: String) {
        let text =
            "error: \(file): reading failed inside a library: the file is damaged or hostile (or changed while being read); nothing was written\n"
        let copy = strdup(text)
        length = strlen(copy!)
        message = copy
        for sig in [SIGSEGV, SIGBUS, SIGFPE] {
            signal(sig) { _ in
                if let m = CrashGuard.message { _ = write(2, m, CrashGuard.length) }
                _exit(1)
            }
        }
    }
}
