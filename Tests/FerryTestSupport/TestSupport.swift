import Foundation

/// Helpers shared by Ferry's test targets.
public enum TestSupport {
    /// The repository root (found from this file's location).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Path of a file under `Fixtures/`.
    public static func fixture(_ relative: String) -> String {
        root.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
    }

    /// The folder holding this test process's temporary folders, removed when the process exits.
    private static let processDirectory: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-tests-\(UUID().uuidString)")
        atexit { try? FileManager.default.removeItem(at: TestSupport.processDirectory) }
        return dir
    }()

    /// A new empty temporary folder (inside one per test process, removed at exit).
    public static func temporaryDirectory() throws -> String {
        let dir = processDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// Parses a JSON fixture.
    public static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture(relative))))
    }

    /// Bytes from a hex string.
    public static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.makeIterator()
        while let a = it.next(), let b = it.next() {
            out.append(UInt8(String([a, b]), radix: 16)!)
        }
        return out
    }

    /// The whole content of a file.
    public static func contents(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }
}
