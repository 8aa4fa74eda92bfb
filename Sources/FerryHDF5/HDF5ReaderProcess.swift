import CHDF5
import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The reader helper: a process that opens one HDF5 file with libhdf5 under limits (CPU time,
/// address space, no file writes), walks it into an `HDF5Snapshot` and sends that on descriptor
/// 3, then exits. A file that makes libhdf5 fault or loop costs the helper, not the caller, which
/// gets `HDF5Error.readerFailed` naming the file. Any executable can serve: the `ferry` CLI serves
/// itself, the package's `ferry-hdf5-reader` serves other programs (see `executablePath`).
public enum HDF5ReaderHelper {
    /// The first argument that makes an executable serve (see `serveIfAsked`).
    public static let argument = "--ferry-hdf5-reader"

    /// The executable started as the helper. Unset, it is `$FERRY_HDF5_READER` when set, else
    /// this program when it called `serveIfAsked`, else `ferry-hdf5-reader` next to it.
    nonisolated(unsafe) public static var executablePath: String?

    /// Call first in `main`, before any thread starts: when `arguments` ask for the helper, this
    /// program serves and exits; otherwise it becomes the helper that HDF5 reading starts (so it
    /// needs no `ferry-hdf5-reader` beside it).
    public static func serveIfAsked(_ arguments: [String] = CommandLine.arguments) {
        guard arguments.count == 7, arguments[1] == argument else {
            if executablePath == nil { executablePath = HDF5ReaderProcess.runningExecutable() }
            return
        }
        let (kind, path, allowExternal) = (arguments[2], arguments[3], arguments[4] == "1")
        limit(cpuSeconds: Int(arguments[5]) ?? 1, addressSpace: Int(arguments[6]) ?? 1 << 32)
        let reply = Result { () throws -> HDF5Snapshot in
            HDF5Library.prepareThread()
            let file: LiveFile
            if kind == "image" {
                let mapped = try MappedFile(fd: 4, path: path)
                file = try LiveFile.open(image: TensorBuffer(viewing: mapped, offset: 0, count: mapped.count), path: path)
            } else {
                file = try LiveFile.open(path, allowExternal: allowExternal)
            }
            return try HDF5Snapshot.walk(file, placing: true)
        }.mapError { $0 as? HDF5Error ?? .io($0 as? FileError ?? .notRegularFile(path: path)) }
        let bytes = HDF5SnapshotCoding.encode(reply)
        var length = UInt64(bytes.count).littleEndian
        let ok = withUnsafeBytes(of: &length) { writeAll(3, $0) } && bytes.withUnsafeBytes { writeAll(3, $0) }
        exit(ok ? 0 : 2)
    }

    /// Applies the helper's limits to the calling process: CPU seconds, address space, no file
    /// writes (a write past size 0 fails instead of raising SIGXFSZ), no core dumps.
    private static func limit(cpuSeconds: Int, addressSpace: Int) {
        func set(_ resource: Int32, _ soft: Int, _ hard: Int) {
            var r = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
            #if os(Linux)
                _ = setrlimit(__rlimit_resource_t(resource), &r)
            #else
                _ = setrlimit(resource, &r)
            #endif
        }
        #if os(Linux)
            let (cpu, space, size, core) = (
                Int32(RLIMIT_CPU.rawValue), Int32(RLIMIT_AS.rawValue), Int32(RLIMIT_FSIZE.rawValue), Int32(RLIMIT_CORE.rawValue)
            )
        #else
            let (cpu, space, size, core) = (RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_CORE)
        #endif
        signal(SIGXFSZ, SIG_IGN)
        set(cpu, cpuSeconds, cpuSeconds + 5)
        // A sanitizer's shadow memory reserves terabytes of address space (make sanitize's builds).
        if dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") == nil
            && dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") == nil
        {
            set(space, addressSpace, addressSpace)
        }
        set(size, 0, 0)
        set(core, 0, 0)
    }
}

/// read(2), by a name the helper's own `read` methods do not hide.
private func readBytes(_ fd: Int32, _ to: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, to, count) }

/// Writes all of `bytes` to `fd`; false on failure.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        done += n
    }
    return true
}

/// Starts the reader helper on one file and takes its snapshot, within a wall-clock limit.
enum HDF5ReaderProcess {
    /// The snapshot of the file at `path` (or of `image`, named `path`), read by the helper.
    static func read(path: String, image: TensorBuffer?, allowExternal: Bool, reading: HDF5Reading) throws -> HDF5Snapshot {
        let size: Int
        if let image {
            size = image.count
        } else {
            guard fileExists(path) else { throw HDF5Error.io(.system(path: path, operation: "open", errno: ENOENT)) }
            size = FerryIR.fileSize(path) ?? 0
        }
        let timeout = reading.timeout(forFileOf: size)
        guard let executable = helperExecutable() else {
            throw HDF5Error.readerUnavailable(
                file: path,
                reason:
                    "no helper to start: call HDF5ReaderHelper.serveIfAsked() first in main, or put ferry-hdf5-reader beside this program or name it in FERRY_HDF5_READER (or read trusted files in process)"
            )
        }
        var imageFD: Int32 = -1
        defer { if imageFD >= 0 { close(imageFD) } }
        if let image { imageFD = try sharedCopy(image, path: path) }
        // The helper may use 4 GiB beyond four times the file: decompressing data takes room.
        let space = size.multipliedReportingOverflow(by: 4).partialValue.addingReportingOverflow(4 << 30).partialValue
        let arguments = [
            executable, HDF5ReaderHelper.argument, image == nil ? "path" : "image", path, allowExternal ? "1" : "0",
            String(Int(timeout.rounded(.up)) + 1), String(max(space, 4 << 30))
        ]
        let child = try Child(executable: executable, arguments: arguments, imageFD: imageFD, file: path)
        let deadline = monotonicSeconds() + timeout
        var length: UInt64 = 0
        let header = withUnsafeMutableBytes(of: &length) { child.read(into: $0, deadline: deadline) }
        guard header == .done else { throw child.failure(header, timeout: timeout) }
        // The snapshot holds at most what libhdf5 may expand the file's data to (1024-fold).
        let cap = size.multipliedReportingOverflow(by: 1025).partialValue.addingReportingOverflow(256 << 20).partialValue
        let count = Int(clamping: UInt64(littleEndian: length))
        guard count <= cap, let block = TensorBuffer.tryAllocate(max(count, 1)) else {
            child.stop()
            throw HDF5Error.readerFailed(file: path, reason: "sent a reply of \(count) bytes (over its limit)")
        }
        let buffer = TensorBuffer(adoptingMallocBlock: block, count: count)
        let body = child.read(into: UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: count), deadline: deadline)
        guard body == .done else { throw child.failure(body, timeout: timeout) }
        child.stop()
        return try HDF5SnapshotCoding.decode(buffer, file: path)
    }

    /// `$FERRY_HDF5_READER`, `HDF5ReaderHelper.executablePath`, or `ferry-hdf5-reader` beside this program.
    private static func helperExecutable() -> String? {
        if let env = getenv("FERRY_HDF5_READER"), env.pointee != 0 { return String(cString: env) }
        if let set = HDF5ReaderHelper.executablePath { return set }
        guard let own = runningExecutable() else { return nil }
        let candidate = splitPath(own).directory + "/ferry-hdf5-reader"
        return access(candidate, X_OK) == 0 ? candidate : nil
    }

    static func runningExecutable() -> String? {
        #if os(Linux)
            var buf = [CChar](repeating: 0, count: 4097)
            let n = readlink("/proc/self/exe", &buf, 4096)
            return n > 0 ? String(cString: buf) : nil
        #else
            var size: UInt32 = 4096
            var buf = [CChar](repeating: 0, count: 4097)
            return _NSGetExecutablePath(&buf, &size) == 0 ? String(cString: buf) : nil
        #endif
    }

    /// A descriptor of an unnamed shared-memory copy of `image`, for the helper to map.
    private static func sharedCopy(_ image: TensorBuffer, path: String) throws -> Int32 {
        let name = "/ferry-hdf5-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw HDF5Error.io(.system(path: path, operation: "shm_open", errno: errno)) }
        shm_unlink(name)
        guard ftruncate(fd, off_t(image.count)) == 0,
            writeAll(fd, UnsafeRawBufferPointer(start: image.baseAddress, count: image.count))
        else {
            let code = errno
            close(fd)
            throw HDF5Error.io(.system(path: path, operation: "copy to shared memory", errno: code))
        }
        return fd
    }

    private static func monotonicSeconds() -> Double { Double(monotonicNanos()) * 1e-9 }

    /// How reading from the helper ended.
    enum ReadOutcome: Equatable {
        case done, closed, timedOut, failed(Int32)
    }

    /// A started helper: its process and the read end of its reply pipe.
    final class Child {
        let pid: pid_t
        let fd: Int32
        let file: String
        private var reaped = false

        init(executable: String, arguments: [String], imageFD: Int32, file: String) throws {
            self.file = file
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw HDF5Error.readerUnavailable(file: file, reason: "pipe: errno \(errno)") }
            // The child's ends go to descriptors 3 and 4; above 10 first, so dup2 never maps one onto itself.
            let writeEnd = fcntl(ends[1], F_DUPFD_CLOEXEC, 10)
            close(ends[1])
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            let image = imageFD >= 0 ? fcntl(imageFD, F_DUPFD_CLOEXEC, 10) : -1
            defer {
                close(writeEnd)
                if image >= 0 { close(image) }
            }
            #if canImport(Darwin)
                var actions: posix_spawn_file_actions_t? = nil
            #else
                var actions = posix_spawn_file_actions_t()
            #endif
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, writeEnd, 3)
            if image >= 0 { posix_spawn_file_actions_adddup2(&actions, image, 4) }
            #if os(Linux)
                // Nothing else of this process goes along (other threads' HDF5 files and their locks).
                guard ferry_spawn_close_from(&actions, 5) == 0 else {
                    close(ends[0])
                    throw HDF5Error.readerUnavailable(
                        file: file, reason: "this C library cannot keep descriptors from the helper")
                }
            #endif
            let argv = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid = pid_t()
            let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
            guard rc == 0 else {
                close(ends[0])
                throw HDF5Error.readerUnavailable(
                    file: file, reason: "cannot start \(executable): \(String(cString: strerror(rc)))")
            }
            self.pid = pid
            fd = ends[0]
        }

        /// Fills `out` from the pipe before `deadline` (monotonic seconds).
        func read(into out: UnsafeMutableRawBufferPointer, deadline: Double) -> ReadOutcome {
            var done = 0
            while done < out.count {
                let left = deadline - HDF5ReaderProcess.monotonicSeconds()
                guard left > 0 else { return .timedOut }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&p, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
                if ready < 0 && errno == EINTR { continue }
                guard ready >= 0 else { return .failed(errno) }
                if ready == 0 { continue }
                let n = readBytes(fd, out.baseAddress! + done, out.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { return .failed(errno) }
                guard n > 0 else { return .closed }
                done += n
            }
            return .done
        }

        /// Ends the helper (killed if still running) and collects its exit status.
        @discardableResult
        func stop() -> Int32 {
            guard !reaped else { return 0 }
            reaped = true
            close(fd)
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == 0 {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
            return status
        }

        /// The error for a reply that did not arrive in full.
        func failure(_ outcome: ReadOutcome, timeout: Double) -> HDF5Error {
            switch outcome {
            case .timedOut:
                stop()
                let tenths = (timeout * 10).rounded() / 10
                let shown = tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
                return .readerFailed(file: file, reason: "timed out after \(shown) s")
            case .failed(let code):
                stop()
                return .readerUnavailable(file: file, reason: "reading its reply failed (errno \(code))")
            case .closed, .done:
                break
            }
            // The pipe closed: the helper has ended; collect its status.
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            reaped = true
            close(fd)
            let signal = status & 0x7f
            switch signal {
            case 0:
                return .readerFailed(file: file, reason: "failed (the reader helper exited with status \((status >> 8) & 0xff))")
            case SIGXCPU: return .readerFailed(file: file, reason: "used up its CPU time limit")
            default: return .readerFailed(file: file, reason: "crashed (signal \(signal), \(String(cString: strsignal(signal))))")
            }
        }

        deinit { stop() }
    }
}
