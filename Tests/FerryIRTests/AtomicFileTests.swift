import FerryIR
import FerryTestSupport
import Foundation
import Testing

@Suite struct AtomicFileTests {
    private func write(_ text: String, to path: String, replace: Bool) throws {
        let f = try AtomicFile(path: path, replace: replace)
        try Array(text.utf8).withUnsafeBytes { try f.write($0) }
        try f.commit()
    }

    @Test func commitPutsTheFileInPlace() throws {
        let dir = try TestSupport.temporaryDirectory()
        try write("hello", to: dir + "/out.txt", replace: false)
        #expect(try String(contentsOfFile: dir + "/out.txt", encoding: .utf8) == "hello")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.txt"])
    }

    @Test func anExistingFileIsKeptUnlessReplacing() throws {
        let dir = try TestSupport.temporaryDirectory()
        try write("first", to: dir + "/out.txt", replace: false)
        #expect(throws: FileError.self) { try write("second", to: dir + "/out.txt", replace: false) }
        #expect(try String(contentsOfFile: dir + "/out.txt", encoding: .utf8) == "first")
        try write("third", to: dir + "/out.txt", replace: true)
        #expect(try String(contentsOfFile: dir + "/out.txt", encoding: .utf8) == "third")
    }

    @Test func anUncommittedFileLeavesNothingBehind() throws {
        let dir = try TestSupport.temporaryDirectory()
        do {
            let f = try AtomicFile(path: dir + "/out.txt", replace: false)
            try Array("partial".utf8).withUnsafeBytes { try f.write($0) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func replacingASymlinkNeverWritesThroughIt() throws {
        let dir = try TestSupport.temporaryDirectory()
        try "precious".write(toFile: dir + "/target.txt", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.txt", withDestinationPath: dir + "/target.txt")
        try write("new", to: dir + "/link.txt", replace: true)
        #expect(try String(contentsOfFile: dir + "/target.txt", encoding: .utf8) == "precious")
        #expect(lstatKind(dir + "/link.txt") == S_IFREG)
    }
}
