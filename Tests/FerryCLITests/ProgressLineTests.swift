import FerryIR
import FerryONNX
import FerryTestSupport
import Foundation
import Testing

/// The progress line: drawn on a terminal (a pseudo-terminal from util-linux's `script`), cleared
/// when the task ends; absent with --quiet or when standard error is not a terminal.
@Suite struct ProgressLineTests {
    /// Runs ferry with `arguments` on a pseudo-terminal; returns everything it wrote there.
    private func onTerminal(_ arguments: [String]) throws -> String {
        let exe = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let ferry = exe.deletingLastPathComponent().appendingPathComponent("ferry").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qfec", ([ferry] + arguments).map { "'\($0)'" }.joined(separator: " "), "/dev/null"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(String(decoding: data, as: UTF8.self))")
        return String(decoding: data, as: UTF8.self)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func calibrationDrawsAndClearsItsLine() throws {
        let dir = try TestSupport.temporaryDirectory()
        let args = ["quantize", "Fixtures/digits/digits_cnn.h5", dir + "/q.onnx", "--calibrate", "Fixtures/digits/calibration"]
        let shown = try onTerminal(args)
        #expect(shown.contains("\r\u{1B}[Kcalibrating: ranges 1/"), "\(shown.debugDescription)")
        #expect(shown.contains("\r\u{1B}[K") && shown.range(of: "about [0-9.]+ s left", options: .regularExpression) != nil)
        let quiet = try onTerminal(args.map { $0 == dir + "/q.onnx" ? dir + "/r.onnx" : $0 } + ["--quiet"])
        #expect(!quiet.contains("calibrating"), "\(quiet.debugDescription)")
        let piped = try ferry(args.map { $0 == dir + "/q.onnx" ? dir + "/s.onnx" : $0 })
        #expect(piped.status == 0 && !piped.stderr.contains("calibrating") && !piped.stdout.contains("\u{1B}"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func writingALargeModelShowsMebibytes() throws {
        let dir = try TestSupport.temporaryDirectory()
        // 8 MiB of weights: the writer reports after each MiB it hands to the file
        let weights = (0..<4).map { k in
            Tensor(name: "w\(k)", floats: [Float](repeating: Float(k), count: 1 << 19), shape: [1 << 19])
        }
        try ONNXWriter(path: dir + "/big.onnx").write(
            Model(
                irVersion: 8, opsetImports: [OpsetID(domain: "", version: 17)],
                graph: Graph(name: "weights", initializers: weights)))
        let shown = try onTerminal(["convert", dir + "/big.onnx", dir + "/copy.onnx"])
        #expect(shown.contains("\r\u{1B}[Kwriting the model (MiB) "), "\(shown.debugDescription)")
        let external = try onTerminal(["convert", dir + "/big.onnx", dir + "/ext.onnx", "--external-data", "ext.data"])
        #expect(external.contains("\r\u{1B}[Kwriting external data (MiB) "), "\(external.debugDescription)")
    }
}
