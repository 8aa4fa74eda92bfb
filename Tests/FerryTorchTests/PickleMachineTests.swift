import Foundation
import Testing

@testable import FerryTorch

/// The restricted unpickler on hand-made pickles: values, names that are never called, limits,
/// and malformed or hostile streams that must fail with a reason, never crash.
@Suite struct PickleMachineTests {
    /// Pickle bytes, opcode by opcode.
    struct Pickle {
        var bytes: [UInt8] = [0x80, 4]
        mutating func op(_ c: Character) { bytes.append(c.asciiValue!) }
        mutating func op(_ b: UInt8) { bytes.append(b) }
        /// SHORT_BINUNICODE
        mutating func string(_ s: String) {
            bytes += [0x8c, UInt8(s.utf8.count)] + Array(s.utf8)
        }
        mutating func global(_ module: String, _ name: String) {
            op("c")
            bytes += Array("\(module)\n\(name)\n".utf8)
        }
    }

    func run(_ p: Pickle, limits: PickleMachine.Limits = .init(), build: PickleMachine.Build? = nil) throws -> (
        PickleValue, PickleArena
    ) {
        var bytes = p.bytes
        bytes.append(UInt8(ascii: "."))
        return try bytes.withUnsafeBytes { raw in
            var m = PickleMachine(
                raw, build: build ?? { _, _, _, _ in nil },
                persistentLoad: { _ in throw RebuildError(reason: "no storages here") })
            m.limits = limits
            return (try m.run(), m.arena)
        }
    }

    func failure(_ p: Pickle, limits: PickleMachine.Limits = .init()) -> String? {
        do {
            _ = try run(p, limits: limits)
            return nil
        } catch let f as PickleMachine.Failure {
            return f.reason
        } catch {
            return "\(error)"
        }
    }

    @Test func plainValuesComeBackAsPickled() throws {
        // {'a': 1, 'b': [1.5, 'x'], 'c': (True, None), 'd': -1 (LONG1), 'e': 70000 (BININT)}
        var p = Pickle()
        p.op("}")
        p.op("(")
        p.string("a")
        p.bytes += [UInt8(ascii: "K"), 1]
        p.string("b")
        p.op("]")
        p.op("(")
        p.op("G")
        p.bytes += withUnsafeBytes(of: (1.5).bitPattern.bigEndian) { Array($0) }
        p.string("x")
        p.op("e")
        p.string("c")
        p.op(0x88)
        p.op("N")
        p.op(0x86)
        p.string("d")
        p.bytes += [0x8a, 1, 0xff]
        p.string("e")
        p.bytes += [UInt8(ascii: "J")] + withUnsafeBytes(of: Int32(70000).littleEndian) { Array($0) }
        p.op("u")
        let (v, _) = try run(p)
        guard case .dict(let d) = v else {
            Issue.record("not a dict: \(v.kind)")
            return
        }
        guard case .int(1)? = d["a"], case .list(let b)? = d["b"], case .tuple(let c)? = d["c"], case .int(-1)? = d["d"],
            case .int(70000)? = d["e"]
        else {
            Issue.record("entries \(d.entries.map { "\($0.key) \($0.value)" })")
            return
        }
        guard b.items.count == 2, case .float(1.5) = b.items[0], case .string("x") = b.items[1] else {
            Issue.record("list")
            return
        }
        guard c.items.count == 2, case .bool(true) = c.items[0], case .none = c.items[1] else {
            Issue.record("tuple")
            return
        }
    }

    @Test func callablesOutsideTheAllowListAreNeverRun() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-pickle-\(UUID().uuidString)").path
        // os.system("touch MARKER"), and builtins.eval reached through STACK_GLOBAL and the memo
        var p = Pickle()
        p.global("os", "system")
        p.string("touch \(marker)")
        p.op(0x85)
        p.op("R")
        p.string("builtins")
        p.op(0x94)
        p.string("eval")
        p.op(0x94)
        p.op(0x93)
        p.op("0")
        p.bytes += [UInt8(ascii: "h"), 0, UInt8(ascii: "h"), 1]
        p.op(0x93)
        p.string("__import__('os').system('touch \(marker)')")
        p.op(0x85)
        p.op("R")
        p.op(0x86)
        let (v, _) = try run(p)
        #expect(!FileManager.default.fileExists(atPath: marker))
        guard case .tuple(let t) = v, t.items.count == 2, case .object(let system) = t.items[0],
            case .object(let eval) = t.items[1]
        else {
            Issue.record("\(v.kind)")
            return
        }
        #expect(system.type == "os.system")
        #expect(eval.type == "builtins.eval")
        guard case .string(let command)? = system.arguments.first else {
            Issue.record("no argument kept")
            return
        }
        #expect(command.hasPrefix("touch "))
    }

    @Test func malformedStreamsFailWithAReason() {
        var setitemOnList = Pickle()
        setitemOnList.op("]")
        setitemOnList.string("k")
        setitemOnList.string("v")
        setitemOnList.op("s")
        #expect(failure(setitemOnList)?.contains("SETITEM on a non-dict (list)") == true)

        var truncated = Pickle()
        truncated.op("}")
        truncated.bytes += [UInt8(ascii: "X"), 200, 0, 0, 0]
        truncated.bytes += Array("short".utf8)
        #expect(failure(truncated)?.contains("runs past the end") == true)

        var missingMemo = Pickle()
        missingMemo.bytes += [UInt8(ascii: "h"), 7]
        #expect(failure(missingMemo)?.contains("never stored") == true)

        var unknown = Pickle()
        unknown.op(0xff)
        #expect(failure(unknown)?.contains("unknown opcode 0xff") == true)

        var buffers = Pickle()
        buffers.op(0x97)
        #expect(failure(buffers)?.contains("out-of-band") == true)

        var reduceOnInt = Pickle()
        reduceOnInt.bytes += [UInt8(ascii: "K"), 3]
        reduceOnInt.op(")")
        reduceOnInt.op("R")
        #expect(failure(reduceOnInt)?.contains("a call of a non-callable (int)") == true)

        var noStop = Pickle()
        noStop.op("N")
        let bytes = noStop.bytes
        let reason: String? = bytes.withUnsafeBytes { raw in
            var m = PickleMachine(raw, build: { _, _, _, _ in nil }, persistentLoad: { _ in .none })
            do {
                _ = try m.run()
                return nil
            } catch let f as PickleMachine.Failure { return f.reason } catch { return "\(error)" }
        }
        #expect(reason?.contains("ends before STOP") == true)
    }

    @Test func deepNestingAndObjectFloodsAreBounded() throws {
        // 300,000 tuples nested in one another: built, then taken apart without recursion.
        var deep = Pickle()
        deep.op(")")
        deep.bytes += [UInt8](repeating: 0x85, count: 300_000)
        let (v, arena) = try run(deep)
        #expect(arena.count == 300_001)
        guard case .tuple = v else {
            Issue.record("\(v.kind)")
            return
        }
        arena.tearDown()

        var flood = Pickle()
        flood.bytes += [UInt8](repeating: UInt8(ascii: "]"), count: 2000)
        var limits = PickleMachine.Limits()
        limits.objects = 1000
        #expect(failure(flood, limits: limits)?.contains("more than 1000 objects") == true)

        var marks = Pickle()
        marks.bytes += [UInt8](repeating: UInt8(ascii: "("), count: 70_000)
        #expect(failure(marks)?.contains("open marks") == true)
    }

    @Test func allowListedCallsBuildValues() throws {
        var p = Pickle()
        p.global("collections", "OrderedDict")
        p.op(")")
        p.op("R")
        p.string("w")
        p.bytes += [UInt8(ascii: "K"), 5]
        p.op("s")
        let (v, _) = try run(p, build: TorchRebuild.build)
        guard case .dict(let d) = v, case .int(5)? = d["w"] else {
            Issue.record("\(v.kind) \(String(describing: v))")
            return
        }
    }
}
