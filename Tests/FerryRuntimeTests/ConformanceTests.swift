import FerryIR
import FerryONNX
import FerryTestSupport
import Foundation
import Testing

@testable import FerryRuntime

/// Runs the ONNX backend node conformance cases (written into `.build/onnx-conformance` by
/// `make test` from the `onnx` package) and checks that every case in
/// `Fixtures/conformance/manifest.txt` passes with the tolerance listed there.
///
/// `FERRY_CONFORMANCE=DIR` points elsewhere; `FERRY_CONFORMANCE_FILTER=TEXT` runs only cases whose
/// name contains TEXT and prints why each failing one failed.
@Suite struct ConformanceTests {
    struct Expectation {
        let rtol: Double
        let atol: Double
    }

    /// The folder of node cases: `FERRY_CONFORMANCE/node`, else `.build/onnx-conformance/node`.
    static var nodeDir: String {
        let dir =
            ProcessInfo.processInfo.environment["FERRY_CONFORMANCE"]
            ?? TestSupport.root.appendingPathComponent(".build/onnx-conformance").path
        return dir + "/node"
    }

    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: ConformanceTests.nodeDir),
            "no conformance cases at \(ConformanceTests.nodeDir) (make conformance writes them; needs ../shared)"))
    func backendNodeCases() throws {
        let env = ProcessInfo.processInfo.environment
        let nodeDir = Self.nodeDir
        let manifest = try Self.manifest()
        let filter = env["FERRY_CONFORMANCE_FILTER"]
        let cases = try FileManager.default.contentsOfDirectory(atPath: nodeDir).sorted()
            .filter { filter == nil || $0.contains(filter!) }
        var passed: [String] = [], failed: [(String, String)] = []
        for name in cases {
            let expect = manifest[name] ?? Expectation(rtol: 1e-3, atol: 1e-7)
            if let reason = Self.run(case: nodeDir + "/" + name, expect) {
                failed.append((name, reason))
            } else {
                passed.append(name)
            }
        }
        print("conformance: \(passed.count) passed, \(failed.count) failed")
        let listedFailures = failed.filter { manifest[$0.0] != nil }
        if filter != nil {
            for (name, reason) in failed { print("  FAIL \(name): \(reason)") }
        }
        let missing = filter == nil ? manifest.keys.filter { !cases.contains($0) }.sorted() : []
        // The full list (unfiltered runs only) feeds tools/update_conformance_manifest.py.
        if filter == nil {
            try? passed.joined(separator: "\n").appending("\n").write(
                toFile: TestSupport.root.appendingPathComponent(".build/conformance-passed.txt").path, atomically: true,
                encoding: .utf8)
        }
        for (name, reason) in listedFailures { Issue.record("\(name): \(reason)") }
        for name in missing { Issue.record("\(name): listed in the manifest but not among the generated cases") }
    }

    /// `case rtol atol` per line; `#` starts a comment.
    static func manifest() throws -> [String: Expectation] {
        let text = try String(contentsOfFile: TestSupport.fixture("conformance/manifest.txt"), encoding: .utf8)
        var out: [String: Expectation] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ")
            guard f.count == 3, let r = Double(f[1]), let a = Double(f[2]) else { continue }
            out[String(f[0])] = Expectation(rtol: r, atol: a)
        }
        return out
    }

    /// nil when the case passes, else why it failed.
    static func run(case dir: String, _ expect: Expectation) -> String? {
        do {
            let model = try ONNXReader(path: dir + "/model.onnx").read().model
            let session = try InferenceSession(model: model, options: SessionOptions(threads: 1))
            let sets = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("test_data_set_") }.sorted()
            for set in sets {
                let base = dir + "/" + set + "/"
                var feeds: [String: Tensor] = [:]
                for (j, info) in model.graph.inputs.enumerated()
                where FileManager.default.fileExists(atPath: base + "input_\(j).pb") {
                    feeds[info.name] = try ONNXTensorFile.read(base + "input_\(j).pb")
                }
                let outputs = try session.run(feeds)
                for (j, out) in outputs.enumerated() {
                    let path = base + "output_\(j).pb"
                    guard FileManager.default.fileExists(atPath: path) else { continue }
                    if let problem = compare(out.tensor, try ONNXTensorFile.read(path), expect) {
                        return "\(set) output '\(out.name)': \(problem)"
                    }
                }
            }
            return nil
        } catch {
            return String(describing: error)
        }
    }

    /// Compares like numpy's assert_allclose (NaNs equal); integers and bools exactly.
    static func compare(_ got: Tensor, _ want: Tensor, _ e: Expectation) -> String? {
        guard got.elementType == want.elementType else {
            return "type \(got.elementType.name), expected \(want.elementType.name)"
        }
        guard got.shape == want.shape else { return "shape \(got.shape), expected \(want.shape)" }
        guard case .bytes(let gb) = got.storage, case .bytes(let wb) = want.storage else {
            return got.storage == want.storage ? nil : "strings differ"
        }
        func check(_ g: [Double], _ w: [Double]) -> String? {
            for i in 0..<min(g.count, w.count) {
                if g[i].isNaN && w[i].isNaN { continue }
                if g[i] == w[i] { continue }
                if abs(g[i] - w[i]) > e.atol + e.rtol * abs(w[i]) { return "element \(i) is \(g[i]), expected \(w[i])" }
            }
            return nil
        }
        switch got.elementType {
        case .float: return check(gb.toArray(of: Float.self).map(Double.init), wb.toArray(of: Float.self).map(Double.init))
        case .double: return check(gb.toArray(of: Double.self), wb.toArray(of: Double.self))
        case .float16:
            return check(
                gb.toArray(of: UInt16.self).map { Double(Float(halfBits: $0)) },
                wb.toArray(of: UInt16.self).map { Double(Float(halfBits: $0)) })
        case .bfloat16:
            return check(
                gb.toArray(of: UInt16.self).map { Double(Float(bfloat16Bits: $0)) },
                wb.toArray(of: UInt16.self).map { Double(Float(bfloat16Bits: $0)) })
        default:
            return gb == wb ? nil : "values differ"
        }
    }
}
