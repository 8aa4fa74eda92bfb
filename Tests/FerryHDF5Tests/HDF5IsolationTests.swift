import FerryIR
import FerryTestSupport
import Foundation
import Testing

@testable import FerryHDF5

/// Reading through the reader helper process (the default) against reading in this process, and
/// files that make libhdf5 fault or hang (`Fixtures/hdf5/hostile`, found by mutation fuzzing).
@Suite struct HDF5IsolationTests {
    static let files = [
        "hdf5/tree.h5", "hdf5/loops.h5", "keras/conv2d.h5", "keras/bidirectional.h5", "keras/conv2d.weights.h5",
        "keras/bidirectional.weights.legacy.h5", "keras/bidirectional.fixedstr.h5"
    ]

    @Test(arguments: files)
    func theHelperReadsWhatThisProcessReads(file: String) throws {
        let path = TestSupport.fixture(file)
        let isolated = try HDF5File.open(path), local = try HDF5File.open(path, reading: .inProcess)
        let tensors = try HDF5TensorTree.read(isolated)
        #expect(!tensors.isEmpty)
        #expect(tensors == (try HDF5TensorTree.read(local)))
        #expect(try HDF5TensorTree.metadata(isolated) == (try HDF5TensorTree.metadata(local)))
        #expect(try isolated.root.attributeNames() == (try local.root.attributeNames()))
    }

    @Test func aKerasArchiveImageIsReadByTheHelper() throws {
        let path = TestSupport.fixture("keras/conv2d.keras")
        let image = try MappedFile(path: TestSupport.fixture("keras/conv2d.weights.h5"))
        let buffer = TensorBuffer(viewing: image, offset: 0, count: image.count)
        let isolated = try HDF5File.open(image: buffer, path: path)
        let local = try HDF5File.open(image: buffer, path: path, reading: .inProcess)
        #expect(try HDF5TensorTree.read(isolated) == (try HDF5TensorTree.read(local)))
    }

    static let hostile = ((try? FileManager.default.contentsOfDirectory(atPath: TestSupport.fixture("hdf5/hostile"))) ?? [])
        .filter { $0.hasSuffix(".h5") }.sorted()

    /// Each fixture makes libhdf5 1.10 fault (`crash_*`) or hang (`hang_*`: loop, or allocate
    /// until the machine swaps) when read in process; through the helper it ends in one line
    /// naming the file, within the time limit.
    @Test(arguments: hostile)
    func filesThatBreakLibhdf5EndInOneLine(file: String) throws {
        let path = TestSupport.fixture("hdf5/hostile/" + file)
        let start = Date()
        let error = #expect(throws: HDF5Error.self) {
            try Self.readEverything(try HDF5File.open(path, reading: HDF5Reading(inHelper: true, timeoutSeconds: 3)))
        }
        let text = String(describing: try #require(error))
        #expect(text.hasPrefix(path) && !text.contains("\n"), "\(text)")
        #expect(Date().timeIntervalSince(start) < 20)
    }

    /// libhdf5 loops forever on this file: the helper is stopped at the time limit.
    @Test func aHelperThatHangsIsStoppedAtTheTimeLimit() throws {
        let path = TestSupport.fixture("hdf5/hostile/hang_tree_a.h5")
        let start = Date()
        let error = #expect(throws: HDF5Error.self) {
            try Self.readEverything(try HDF5File.open(path, reading: HDF5Reading(inHelper: true, timeoutSeconds: 1)))
        }
        let text = String(describing: try #require(error))
        #expect(text.contains("timed out after 1 s") || text.contains("CPU time"), "\(text)")
        #expect(Date().timeIntervalSince(start) < 10)
    }

    /// Reads every dataset and every attribute of the file, as an importer might.
    static func readEverything(_ file: HDF5File) throws {
        _ = try HDF5TensorTree.read(file)
        var visited = Set<String>()
        func visit(_ group: HDF5Group) throws {
            guard visited.insert(group.path).inserted else { return }
            for name in try group.attributeNames() { _ = try group.attribute(name) }
            for member in try group.members() where member.kind == .group || member.kind == .dataset {
                if member.kind == .group { try visit(try group.group(member.name)) }
                let dataset = try? group.dataset(member.name)
                for name in try dataset?.attributeNames() ?? [] { _ = try dataset?.attribute(name) }
            }
        }
        try visit(try file.root)
    }

    @Test func theFixturesIncludeFaultsAndHangs() {
        #expect(Self.hostile.contains { $0.hasPrefix("crash") })
        #expect(Self.hostile.contains { $0.hasPrefix("hang") })
    }

    /// The reply comes from a process that parsed a hostile file: any damage to it is an error,
    /// never a trap (truncations, bit flips and overwritten counts of a real reply).
    @Test func damagedRepliesAreRefused() throws {
        let file = try LiveFile.open(TestSupport.fixture("hdf5/tree.h5"))
        let encoded = HDF5SnapshotCoding.encode(.success(try HDF5Snapshot.walk(file, placing: true)))
        let whole = encoded.withUnsafeBytes { TensorBuffer(copying: $0) }
        #expect(try HDF5SnapshotCoding.decode(whole, file: "f").nodes.count > 5)
        var generator = SystemRandomNumberGenerator()
        var refused = 0
        for trial in 0..<3000 {
            var bytes = encoded
            switch trial % 3 {
            case 0: bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
            case 1:
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
            default:
                let at = Int.random(in: 0..<(bytes.count - 8), using: &generator)
                let value = [UInt64.max, 1 << 62, 1 << 31, UInt64(bytes.count)].randomElement(using: &generator)!
                withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[at + i] = b } }
            }
            let buffer = bytes.withUnsafeBytes { TensorBuffer(copying: $0) }
            do { _ = try HDF5SnapshotCoding.decode(buffer, file: "f") } catch { refused += 1 }
        }
        #expect(refused >= 1000)
    }
}
