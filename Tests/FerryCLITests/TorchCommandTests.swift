import FerryTestSupport
import Foundation
import Testing

/// PyTorch checkpoints through the CLI: inspect shows the non-tensor entries, convert writes the
/// tensors and the entries as safetensors metadata, and what Ferry cannot or will not do ends
/// with one line and exit 1, writing nothing.
@Suite struct TorchCommandTests {
    let checkpoint = "Fixtures/torch/state_dict.pt"

    @Test func inspectShowsTensorsAndEntries() throws {
        let r = try ferry("inspect", checkpoint, "--tensors")
        #expect(r.status == 0, "\(r.stderr)")
        for text in ["PYTORCH (tensors only)", "ferry.tensors_from", "key 'model'", "epoch", "fc.weight", "float16"] {
            #expect(r.stdout.contains(text), "\(text) missing from:\n\(r.stdout)")
        }
    }

    @Test func convertWritesSafetensorsWithTheEntries() throws {
        let dir = try TestSupport.temporaryDirectory()
        let out = dir + "/weights.safetensors"
        let r = try ferry("convert", checkpoint, out)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("5 tensors from key 'model' of \(checkpoint)"), "\(r.stdout)")
        let back = try ferry("inspect", out, "--tensors")
        #expect(back.status == 0)
        #expect(back.stdout.contains("bn.num_batches_tracked") && back.stdout.contains("epoch"), "\(back.stdout)")
        let picked = try ferry("convert", checkpoint, dir + "/other.safetensors", "--key", "tags")
        #expect(picked.status == 1 && picked.stderr.contains("holds no tensors"), "\(picked.stderr)")
    }

    @Test func checkpointsWrittenReadBackTheSame() throws {
        let dir = try TestSupport.temporaryDirectory()
        let pt = dir + "/again.pt", st = dir + "/again.safetensors"
        for (from, to) in [("Fixtures/torch/tied.pt", pt), (pt, st)] {
            let r = try ferry("convert", from, to)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let first = try ferry("inspect", "Fixtures/torch/tied.pt", "--tensors"), last = try ferry("inspect", st, "--tensors")
        let rows = { (s: String) in s.split(separator: "\n").filter { $0.hasPrefix("wte ") || $0.hasPrefix("lm_head ") }.sorted()
        }
        #expect(rows(first.stdout).count == 2 && rows(first.stdout) == rows(last.stdout), "\(last.stdout)")
        // the tie survives the round trip: the written checkpoint's two names share one storage
        #expect(last.stdout.contains("ferry.alias.lm_head"), "\(last.stdout)")
        // safetensors stores the tied tensor once: lm_head is only the alias record
        let data = try Data(contentsOf: URL(fileURLWithPath: st))
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + length)) as? [String: Any])
        let metadata = header["__metadata__"] as? [String: String]
        #expect(header["wte"] != nil && header["lm_head"] == nil && metadata?["ferry.alias.lm_head"] == "wte", "\(header.keys)")
    }

    @Test func npzArchivesHoldTheSameArrays() throws {
        let dir = try TestSupport.temporaryDirectory()
        let npz = dir + "/weights.npz"
        #expect(try ferry("convert", checkpoint, npz).status == 0)
        let a = try ferry("inspect", checkpoint, "--tensors"), b = try ferry("inspect", npz, "--tensors")
        let rows = { (s: String) in s.split(separator: "\n").filter { $0.contains(" initializer") }.sorted() }
        #expect(rows(a.stdout).count == 5 && rows(a.stdout) == rows(b.stdout), "\(b.stdout)")
    }

    @Test func refusalsAreOneLineAndWriteNothing() throws {
        let dir = try TestSupport.temporaryDirectory()
        // A pickle whose only content is os.system("touch MARKER"), in a torch-style archive.
        let marker = dir + "/ran"
        var pickle: [UInt8] = [0x80, 0x02] + Array("cos\nsystem\n".utf8)
        let command = Array("touch \(marker)".utf8)
        pickle += [0x8c, UInt8(command.count)] + command + [0x85, UInt8(ascii: "R"), UInt8(ascii: ".")]
        let hostile = dir + "/hostile.pt"
        try writeStoredZip(hostile, members: [("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))])
        for (input, output) in [(hostile, dir + "/a.safetensors"), ("Fixtures/onnx/valid/small_cnn.onnx", dir + "/b.pt")] {
            let r = try ferry("convert", input, output)
            #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
            #expect(
                r.stderr.split(separator: "\n").count == 1 && (r.stderr.contains(input) || r.stderr.contains(output)),
                "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// A zip archive of uncompressed members (CRC-32 included, as readers expect).
    func writeStoredZip(_ path: String, members: [(String, [UInt8])]) throws {
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        func crc32(_ bytes: [UInt8]) -> Int {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
            }
            return Int(c ^ 0xFFFF_FFFF)
        }
        var file: [UInt8] = [], directory: [UInt8] = []
        for (name, data) in members {
            let n = Array(name.utf8), offset = file.count, crc = crc32(data)
            file +=
                le(0x0403_4b50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(data.count, 4)
                + le(data.count, 4) + le(n.count, 2) + le(0, 2) + n + data
            directory +=
                le(0x0201_4b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4)
                + le(data.count, 4) + le(data.count, 4) + le(n.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2)
                + le(0, 4) + le(offset, 4) + n
        }
        let end =
            le(0x0605_4b50, 4) + le(0, 2) + le(0, 2) + le(members.count, 2) + le(members.count, 2)
            + le(directory.count, 4) + le(file.count, 4) + le(0, 2)
        FileManager.default.createFile(atPath: path, contents: Data(file + directory + end))
    }
}
