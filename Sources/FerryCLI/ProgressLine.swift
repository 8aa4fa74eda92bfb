import ArgumentParser
import FerryIR
import Foundation

/// `--quiet`, and the progress line long commands draw on standard error when it is a terminal:
/// `calibrating: ranges 37/64, 3.1 s, about 2.3 s left`, redrawn at most ten times a second and
/// cleared when the task ends. Nothing is drawn when standard error is not a terminal.
struct ProgressOptions: ParsableArguments {
    @Flag(help: "No progress line on the terminal.")
    var quiet = false

    /// Starts listening to `Progress` reports when standard error is a terminal and not --quiet.
    func start() {
        guard !quiet, isatty(STDERR_FILENO) == 1 else { return }
        let line = ProgressLine()
        Progress.listen { task, done, total in line.show(task, done: done, total: total) }
    }
}

/// The state of the progress line: the task shown, when it started, when it was last drawn.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var task = ""
    private var started = Date()
    private var drawn = Date.distantPast

    func show(_ task: String, done: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        if task != self.task {
            self.task = task
            started = now
            drawn = .distantPast
        }
        if done >= total {
            write("\r\u{1B}[K")
            self.task = ""
            return
        }
        guard now.timeIntervalSince(drawn) >= 0.1 else { return }
        drawn = now
        let elapsed = now.timeIntervalSince(started)
        var text = "\(task) \(done)/\(total), \(String(format: "%.1f", elapsed)) s"
        if done > 0 { text += String(format: ", about %.1f s left", elapsed / Double(done) * Double(total - done)) }
        write("\r\u{1B}[K" + text)
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
