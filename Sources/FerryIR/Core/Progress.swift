/// Progress of long work (calibration, the accuracy-target search, pruning, constant folding,
/// writing many tensors), reported by the library as it goes and shown by whoever listens: the
/// command line draws one line on a terminal. Nobody listens unless an application installs a
/// listener, so a report costs a library caller one check.
public enum Progress {
    /// Receives each report: the task ("calibrating"), steps done, steps in all.
    public typealias Listener = (_ task: String, _ done: Int, _ total: Int) -> Void

    nonisolated(unsafe) private static var listener: Listener?

    /// Installs the listener for the rest of the process (before the work starts).
    public static func listen(_ l: Listener?) { listener = l }

    /// Reports that `done` of `total` steps of `task` are finished.
    public static func report(_ task: String, done: Int, total: Int) { listener?(task, done, total) }

    /// Runs `body` on each element, reporting each one finished as a step of `task`.
    public static func forEach<S: Collection>(_ items: S, _ task: String, _ body: (S.Element) throws -> Void) rethrows {
        let total = items.count
        for (i, item) in items.enumerated() {
            try body(item)
            report(task, done: i + 1, total: total)
        }
    }
}
