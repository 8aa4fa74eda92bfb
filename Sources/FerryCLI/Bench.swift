import ArgumentParser
import Ferry
import FerryIR
import FerryRuntime
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `ferry bench MODEL`: latency of the interpreter on a model.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure inference latency: min/median/p90 over repeated runs, runs per second, peak memory.",
        discussion:
            "Inputs come from --input files or are random (fixed seed) with --shape for symbolic axes. --profile adds the time per op type and the slowest nodes."
    )

    @Argument(help: "The model file.")
    var model: String

    @OptionGroup var inputOptions: InputOptions

    @Option(help: "Timed runs.")
    var runs = 20

    @Option(help: "Untimed runs first.")
    var warmup = 3

    @OptionGroup var execution: ExecutionOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Time every node; print the time per op type and the slowest nodes (with --json: a \"profile\" object).")
    var profile = false

    @Option(help: "With --profile: how many of the slowest nodes to list.")
    var slowest = 10

    @OptionGroup var reading: ReadingOptions

    @OptionGroup var progress: ProgressOptions

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
        guard slowest >= 0 else { throw ValidationError("--slowest must be 0 or more") }
    }

    func run() throws {
        progress.start()
        let (session, planSeconds) = try plannedSession(model, reading: reading, execution: execution)
        let feeds = try inputOptions.feeds(for: session, random: true)
        var times: [Double] = []
        var peakActivations = 0
        let profiler = profile ? Profiler() : nil
        try inputOptions.explainingDefaultedAxes(of: session) {
            for i in 0..<warmup {
                _ = try session.run(feeds.tensors)
                Progress.report("warm-up runs", done: i + 1, total: warmup)
            }
            for i in 0..<runs {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try session.run(feeds.tensors, profiler: profiler)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                peakActivations = max(peakActivations, session.peakActivationBytes)
                Progress.report("timed runs", done: i + 1, total: runs)
            }
        }
        let sorted = times.sorted()
        let median =
            sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let p90 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.9).rounded(.up)) - 1)]
        let mean = times.reduce(0, +) / Double(times.count)
        let report = BenchReport(
            model: model, inputs: feeds.summaries(session, seed: inputOptions.seed), threads: session.options.threads,
            isa: KernelISA.active, runs: runs, planSeconds: planSeconds,
            latencyMS: .init(min: sorted[0], median: median, p90: p90, mean: mean),
            runsPerSecond: 1000 / mean, peakRSSBytes: peakRSS(), peakActivationBytes: peakActivations,
            profile: profiler.map { ProfileReport($0, runs: runs, slowest: slowest) })
        if json {
            try printJSON(report)
        } else {
            print(
                "\(model): \(runs) runs, \(report.threads) thread\(report.threads == 1 ? "" : "s"), kernels \(report.isa), plan \(String(format: "%.1f", planSeconds * 1000)) ms"
            )
            print(InputSummary.line(report.inputs))
            print(
                String(
                    format: "latency ms: min %.3f  median %.3f  p90 %.3f  mean %.3f  (%.1f runs/s)", sorted[0], median, p90, mean,
                    1000 / mean))
            print(
                String(
                    format: "peak memory: RSS %.1f MB, activations %.1f MB", Double(report.peakRSSBytes) / 1e6,
                    Double(peakActivations) / 1e6))
        }
        if !json, let profile = report.profile { printProfile(profile) }
    }

    private func printProfile(_ profile: ProfileReport) {
        print("\nper op type (ms per run, share):")
        for row in profile.opTypes {
            let name = row.op.count >= 24 ? row.op : row.op + String(repeating: " ", count: 24 - row.op.count)
            print("  " + name + String(format: " %9.3f  %5.1f%%  (%d nodes)", row.ms, 100 * row.share, row.nodes))
        }
        print("slowest nodes (ms per run):")
        for n in profile.slowestNodes {
            print(String(format: "  %9.3f  %@ (%@)", n.ms, n.node as NSString, n.op as NSString))
        }
    }
}

/// Peak resident memory of this process, in bytes: VmHWM from /proc/self/status (getrusage's
/// ru_maxrss would start from the parent's size when a large process launched this one).
func peakRSS() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
    return kb * 1024
}

/// `ferry bench --json` output.
struct BenchReport: Encodable {
    struct Latency: Encodable {
        let min: Double, median: Double, p90: Double, mean: Double
    }
    let model: String
    /// The inputs timed: name, dtype, shape, file or random.
    let inputs: [InputSummary]
    let threads: Int
    /// The kernels' instruction-set paths (FERRY_ISA limits them).
    let isa: String
    let runs: Int
    let planSeconds: Double
    let latencyMS: Latency
    let runsPerSecond: Double
    let peakRSSBytes: Int
    let peakActivationBytes: Int
    /// With --profile: where the time went.
    let profile: ProfileReport?
}

/// `ferry bench --profile`: milliseconds per run for each op type and for the slowest nodes.
struct ProfileReport: Encodable {
    struct OpType: Encodable {
        let op: String, ms: Double, share: Double, nodes: Int
    }
    struct NodeTime: Encodable {
        let node: String, op: String, ms: Double
    }
    let opTypes: [OpType]
    let slowestNodes: [NodeTime]

    init(_ profiler: Profiler, runs: Int, slowest: Int) {
        let total = Double(max(profiler.nodes.reduce(0) { $0 + $1.nanos }, 1))
        let perRun = { (nanos: UInt64) in Double(nanos) / 1e6 / Double(runs) }
        opTypes = profiler.byOpType.map {
            OpType(op: $0.op, ms: perRun($0.nanos), share: Double($0.nanos) / total, nodes: $0.nodes)
        }
        slowestNodes = profiler.nodes.sorted { $0.nanos > $1.nanos }.prefix(slowest).map {
            NodeTime(node: $0.node, op: $0.op, ms: perRun($0.nanos))
        }
    }
}
