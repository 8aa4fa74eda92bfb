import CFuzzDriver
import Ferry
@_spi(Fuzzing) import FerryHDF5
import FerryIR
import FerryKeras
import FerryONNX
import Foundation

// ferry-fuzz: Ferry's readers as fuzz targets.
//
//   ferry-fuzz TARGET FILE|DIR...          reads each file (a directory: every file in it) with
//                                          TARGET; any error is fine, a crash (or a hang) is a
//                                          finding
//   ferry-fuzz TARGET --mutate N FILE|DIR...
//                                          N seeded mutations of those files (bit flips, byte and
//                                          8-byte integer overwrites, truncations, splices), each
//                                          read like a file: the short fuzz run `make test` makes
//   ferry-fuzz TARGET --fuzz [LIBFUZZER]   coverage-guided fuzzing (the `make fuzz` build only)

/// One reader under test: the file suffix it reads and how (errors are expected and ignored).
struct FuzzTarget {
    let suffix: String
    /// Mutations change a seed model's structure (and write it back) instead of its bytes.
    var structural = false
    let read: (String) throws -> Void
}

let targets: [String: FuzzTarget] = [
    "onnx": FuzzTarget(suffix: ".onnx") { try ModelValidator.validate(try ModelIO.load($0, format: .onnx).model) },
    // Models that parse but are damaged: validation, optimize, export to .h5, planning, a run.
    "onnx-structure": FuzzTarget(suffix: ".onnx", structural: true) {
        exercise(try ModelIO.load($0, format: .onnx).model, scratch: $0)
    },
    "safetensors": FuzzTarget(suffix: ".safetensors") { _ = try ModelIO.load($0, format: .safetensors) },
    // The archive directory, the pickle machine and the tensor rebuilds of PyTorch checkpoints.
    "torch": FuzzTarget(suffix: ".pt") { _ = try ModelIO.load($0, format: .pytorch) },
    "npy": FuzzTarget(suffix: ".npy") { _ = try NumPyFile.read($0) },
    "npz": FuzzTarget(suffix: ".npz") { _ = try NumPyFile.readArchive($0) },
    "keras-config": FuzzTarget(suffix: ".json") {
        // Foundation's Data(contentsOf:) leaks a page on an empty file.
        let json = FerryIR.fileSize($0) == 0 ? Data() : try Data(contentsOf: URL(fileURLWithPath: $0))
        _ = try KerasFile.importConfig(json, file: $0)
    },
    // These two start the HDF5 reader helper for every input.
    "keras": FuzzTarget(suffix: ".keras") { _ = try ModelIO.load($0, format: .keras) },
    "hdf5": FuzzTarget(suffix: ".h5") { _ = try ModelIO.load($0, format: .hdf5) },
    // The parent's side of the helper protocol: a reply (what a helper that parsed a hostile file
    // might send) decoded and walked as a tensor tree and a Keras model; placed data is viewed in
    // the Keras fixture the seed replies' offsets point into.
    "hdf5-reply": FuzzTarget(suffix: ".reply") {
        let bytes = FerryIR.fileSize($0) == 0 ? Data() : try Data(contentsOf: URL(fileURLWithPath: $0))
        let file = try bytes.withUnsafeBytes { try HDF5File.open(reply: TensorBuffer(copying: $0), path: replyDataFile) }
        _ = try? HDF5TensorTree.metadata(file)
        _ = try? HDF5TensorTree.read(file)
        if KerasFile.isFullModel(file) { _ = try KerasFile.importLegacy(file) }
    }
]

/// The file the `hdf5-reply` target's placed data lies in (the seed replies are this file's).
let replyDataFile = "Fixtures/keras/conv2d.h5"

/// The target of this run and the file each input is written to.
enum Harness {
    nonisolated(unsafe) static var target: FuzzTarget!
    nonisolated(unsafe) static var scratch = ""

    /// Reads one input (its errors are expected: only a crash or a hang is a finding).
    static func read(_ path: String) { try? target.read(path) }

    /// Writes `bytes` to the scratch file.
    static func writeScratch(_ bytes: UnsafeRawBufferPointer) {
        let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("ferry-fuzz: cannot write \(scratch)") }
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            guard n > 0 else { fatalError("ferry-fuzz: cannot write \(scratch)") }
            done += n
        }
        close(fd)
    }

    /// libFuzzer's callback: the input written to the scratch file, then read.
    static let callback: ferry_fuzz_callback = { data, size in
        Harness.writeScratch(UnsafeRawBufferPointer(start: data, count: size))
        Harness.read(Harness.scratch)
        return 0
    }

    /// `seed` damaged in one to four places.
    static func mutate(_ seed: [UInt8], with random: inout SplitMix64, splice other: [UInt8]) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4:
                bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            case 4..<7:
                let values: [UInt64] = [0, UInt64(Int64.max), 1 << 32, UInt64.max, 1 << 40, random.next()]
                withUnsafeBytes(of: values.randomElement(using: &random)!.littleEndian) { word in
                    for (i, b) in word.enumerated() where at + i < bytes.count { bytes[at + i] = b }
                }
            case 7:
                bytes[at] = UInt8.random(in: 0...255, using: &random)
            case 8:
                bytes.removeSubrange(at...)
            default:
                guard !other.isEmpty else { continue }
                let from = Int.random(in: 0..<other.count, using: &random)
                let length = min(Int.random(in: 1...64, using: &random), other.count - from, bytes.count - at)
                bytes.replaceSubrange(at..<(at + length), with: other[from..<(from + length)])
            }
        }
        return bytes
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let target = targets[arguments[1]] else {
    let names = targets.keys.sorted().joined(separator: ", ")
    FileHandle.standardError.write(
        Data("usage: ferry-fuzz TARGET (FILE|DIR... | --fuzz [libFuzzer options]); targets: \(names)\n".utf8))
    exit(2)
}
Harness.target = target
let shm = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
Harness.scratch = "\(shm)/ferry-fuzz-\(getpid())\(target.suffix)"

if arguments[2] == "--fuzz" {
    var argv = ([arguments[0]] + arguments.dropFirst(3)).map { strdup($0) } + [nil]
    var argc = Int32(argv.count - 1)
    let status = argv.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
        return ferry_fuzz_run_driver(&argc, &pointer, Harness.callback)
    }
    if status == -1 {
        FileHandle.standardError.write(Data("ferry-fuzz: built without libFuzzer (make fuzz builds the fuzzing binary)\n".utf8))
        exit(2)
    }
    exit(status)
}

// Replay (or mutate): every file named, or in the directories named.
let mutations = arguments[2] == "--mutate" ? Int(arguments.count > 3 ? arguments[3] : "") : nil
if arguments[2] == "--mutate" && mutations == nil {
    FileHandle.standardError.write(Data("ferry-fuzz: --mutate takes a count\n".utf8))
    exit(2)
}
var files: [String] = []
for path in arguments.dropFirst(mutations == nil ? 2 : 4) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        FileHandle.standardError.write(Data("ferry-fuzz: \(path): no such file or directory\n".utf8))
        exit(2)
    }
    if isDirectory.boolValue {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        files += names.sorted().map { path + "/" + $0 }.filter { !$0.hasSuffix("/README.md") }
    } else {
        files.append(path)
    }
}
if let mutations {
    let seeds = try files.map { Array(try Data(contentsOf: URL(fileURLWithPath: $0))) }
    guard !seeds.isEmpty else {
        FileHandle.standardError.write(Data("ferry-fuzz: --mutate needs seed files\n".utf8))
        exit(2)
    }
    var random = SplitMix64(seed: 0xF0225)
    let models = target.structural ? try files.map { try ModelIO.load($0, format: .onnx).model } : []
    var writing = ONNXWriteOptions()
    writing.replaceExisting = true
    for _ in 0..<mutations {
        if target.structural {
            var model = models.randomElement(using: &random)!
            _ = StructureMutation.apply(&model, &random)
            do { try ONNXWriter(path: Harness.scratch, options: writing).write(model) } catch { continue }
        } else {
            let input = Harness.mutate(
                seeds.randomElement(using: &random)!, with: &random, splice: seeds.randomElement(using: &random)!)
            input.withUnsafeBytes { Harness.writeScratch($0) }
        }
        // A crash leaves this input in the scratch file.
        Harness.read(Harness.scratch)
    }
    print("ferry-fuzz \(arguments[1]): \(mutations) mutations of \(seeds.count) seeds read, none crashed")
} else {
    // Replays say how each input ended (for triage).
    for file in files {
        do {
            try target.read(file)
            print("\(file): read")
        } catch {
            print("\(file): \(String(describing: error).prefix(200))")
        }
    }
    print("ferry-fuzz \(arguments[1]): \(files.count) inputs read, none crashed")
}
unlink(Harness.scratch)
unlink(Harness.scratch + ".h5")
exit(0)
