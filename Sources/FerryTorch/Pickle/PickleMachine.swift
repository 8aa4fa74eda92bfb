import Foundation

/// Runs a pickle (protocols 0 to 5) without running anything it names: GLOBAL and STACK_GLOBAL
/// give names, and REDUCE, NEWOBJ, INST and OBJ on a name ask `build` for a value; what `build`
/// does not know (anything outside the reader's allow-list) becomes an inert `PickleObject`.
/// Persistent ids go to `persistentLoad`. Counts are bounded: objects, memo entries and marks.
struct PickleMachine {
    /// Bounds on what one pickle may make.
    struct Limits {
        var objects = 4_000_000
        var memo = 4_000_000
        var marks = 1 << 16
    }

    /// The value an allow-listed callable returns for these arguments, or nil for an inert object.
    typealias Build = (_ module: String, _ name: String, _ arguments: [PickleValue], _ arena: PickleArena) throws -> PickleValue?

    /// A failure at a byte position of the pickle.
    struct Failure: Error {
        let position: Int
        let reason: String
    }

    let arena = PickleArena()
    var limits = Limits()
    /// Bytes read so far (after a run: the pickle's length, up to and including STOP).
    var consumed: Int { position }
    private let bytes: UnsafeRawBufferPointer
    private let build: Build
    private let persistentLoad: (PickleValue) throws -> PickleValue
    private var position = 0
    private var opcodeStart = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(_ bytes: UnsafeRawBufferPointer, build: @escaping Build, persistentLoad: @escaping (PickleValue) throws -> PickleValue) {
        self.bytes = bytes
        self.build = build
        self.persistentLoad = persistentLoad
    }

    /// The pickled value (what STOP leaves on the stack). On success the caller tears the arena
    /// down when done with the value; on failure it is already torn down.
    mutating func run() throws -> PickleValue {
        do { return try execute() } catch {
            stack = []
            memo = [:]
            arena.tearDown()
            throw error
        }
    }

    private mutating func execute() throws -> PickleValue {
        while true {
            opcodeStart = position
            let op = try byte()
            if op == UInt8(ascii: ".") {
                guard let top = stack.popLast() else { throw failure("STOP with an empty stack") }
                return top
            }
            try execute(op)
            if stack.count > limits.objects || arena.count > limits.objects {
                throw failure("more than \(limits.objects) objects")
            }
        }
    }

    private mutating func execute(_ op: UInt8) throws {
        switch op {
        case 0x80: // PROTO
            let v = try byte()
            guard v <= 5 else { throw failure("protocol \(v) is newer than 5") }
        case 0x95: _ = try integer(8) // FRAME
        case UInt8(ascii: "("):
            guard marks.count < limits.marks else { throw failure("more than \(limits.marks) open marks") }
            marks.append(stack.count)
        case UInt8(ascii: "0"): _ = try pop()
        case UInt8(ascii: "1"): _ = try popToMark()
        case UInt8(ascii: "2"): push(try top())
        // Numbers
        case UInt8(ascii: "I"):
            let text = try line()
            if text == "01" || text == "00" { push(.bool(text == "01")) } else { push(try parseInt(text)) }
        case UInt8(ascii: "J"): push(.int(Int64(Int32(truncatingIfNeeded: try integer(4)))))
        case UInt8(ascii: "K"): push(.int(Int64(try byte())))
        case UInt8(ascii: "M"): push(.int(Int64(try integer(2))))
        case UInt8(ascii: "L"):
            var text = try line()
            if text.hasSuffix("L") { text.removeLast() }
            push(try parseInt(text))
        case 0x8a: push(try littleEndianInteger(count: Int(try byte())))
        case 0x8b: push(try littleEndianInteger(count: try length(4)))
        case UInt8(ascii: "F"):
            guard let v = Double(try line().trimmingCharacters(in: .whitespaces)) else { throw failure("FLOAT is not a number") }
            push(.float(v))
        case UInt8(ascii: "G"):
            var bits: UInt64 = 0
            for b in try take(8) { bits = bits << 8 | UInt64(b) }
            push(.float(Double(bitPattern: bits)))
        // Strings and bytes
        case UInt8(ascii: "S"): push(.string(unquoted(try line())))
        case UInt8(ascii: "V"): push(.string(try line()))
        case UInt8(ascii: "T"): push(.string(text(try take(try length(4)))))
        case UInt8(ascii: "U"): push(.string(text(try take(Int(try byte())))))
        case UInt8(ascii: "X"): push(.string(text(try take(try length(4)))))
        case 0x8c: push(.string(text(try take(Int(try byte())))))
        case 0x8d: push(.string(text(try take(try length(8)))))
        case UInt8(ascii: "B"): push(.bytes(Array(try take(try length(4)))))
        case UInt8(ascii: "C"): push(.bytes(Array(try take(Int(try byte())))))
        case 0x8e, 0x96: push(.bytes(Array(try take(try length(8)))))
        case UInt8(ascii: "N"): push(.none)
        case 0x88: push(.bool(true))
        case 0x89: push(.bool(false))
        // Containers
        case UInt8(ascii: ")"): push(.tuple(arena.container([])))
        case UInt8(ascii: "t"): push(.tuple(arena.container(try popToMark())))
        case 0x85, 0x86, 0x87:
            let n = Int(op - 0x84)
            guard stack.count >= n else { throw failure("TUPLE\(n) with \(stack.count) values on the stack") }
            let items = Array(stack.suffix(n))
            stack.removeLast(n)
            push(.tuple(arena.container(items)))
        case UInt8(ascii: "]"): push(.list(arena.container([])))
        case UInt8(ascii: "l"): push(.list(arena.container(try popToMark())))
        case UInt8(ascii: "a"):
            let v = try pop()
            try append([v], to: try top())
        case UInt8(ascii: "e"):
            let items = try popToMark()
            try append(items, to: try top())
        case UInt8(ascii: "}"): push(.dict(arena.dict()))
        case UInt8(ascii: "d"):
            let d = arena.dict()
            try setItems(try popToMark(), in: .dict(d))
            push(.dict(d))
        case UInt8(ascii: "s"):
            let v = try pop(), k = try pop()
            try setItems([k, v], in: try top())
        case UInt8(ascii: "u"):
            let items = try popToMark()
            try setItems(items, in: try top())
        case 0x8f: push(.set(arena.container([])))
        case 0x90:
            let items = try popToMark()
            guard case .set(let s) = try top() else { throw failure("ADDITEMS on a non-set (\(try top().kind))") }
            s.items += items
        case 0x91: push(.set(arena.container(try popToMark())))
        // Memo
        case UInt8(ascii: "p"): try remember(try memoIndex(try line()))
        case UInt8(ascii: "q"): try remember(Int(try byte()))
        case UInt8(ascii: "r"): try remember(Int(try integer(4)))
        case 0x94: try remember(memo.count)
        case UInt8(ascii: "g"): try recall(try memoIndex(try line()))
        case UInt8(ascii: "h"): try recall(Int(try byte()))
        case UInt8(ascii: "j"): try recall(Int(try integer(4)))
        // Names and calls: nothing is ever run
        case UInt8(ascii: "c"):
            let module = try line(), name = try line()
            push(.global(module: module, name: name))
        case 0x93:
            let name = try pop(), module = try pop()
            guard case .string(let m) = module, case .string(let n) = name else {
                throw failure("STACK_GLOBAL needs two strings, got \(module.kind) and \(name.kind)")
            }
            push(.global(module: m, name: n))
        case UInt8(ascii: "R"):
            let arguments = try pop()
            push(try call(try pop(), arguments: try items(of: arguments, opcode: "REDUCE")))
        case 0x81:
            let arguments = try pop()
            push(try call(try pop(), arguments: try items(of: arguments, opcode: "NEWOBJ")))
        case 0x92:
            _ = try pop() // keyword arguments
            let arguments = try pop()
            push(try call(try pop(), arguments: try items(of: arguments, opcode: "NEWOBJ_EX")))
        case UInt8(ascii: "i"):
            let module = try line(), name = try line()
            push(try call(.global(module: module, name: name), arguments: try popToMark()))
        case UInt8(ascii: "o"):
            var items = try popToMark()
            guard !items.isEmpty else { throw failure("OBJ without a class") }
            let callable = items.removeFirst()
            push(try call(callable, arguments: items))
        case UInt8(ascii: "b"):
            let state = try pop()
            switch try top() {
            case .object(let o): o.state = state
            case .dict, .external: break // an OrderedDict's _metadata, a tensor's state: not needed
            case let other: throw failure("BUILD on a non-object (\(other.kind))")
            }
        case UInt8(ascii: "P"): push(try load(.string(try line())))
        case UInt8(ascii: "Q"): push(try load(try pop()))
        case 0x82, 0x83, 0x84: throw failure("extension registry codes (EXT1/2/4) are not supported")
        case 0x97, 0x98: throw failure("out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported")
        default:
            throw failure(String(format: "unknown opcode 0x%02x", op))
        }
    }

    // MARK: Stack and memo

    private mutating func push(_ v: PickleValue) { stack.append(v) }

    private mutating func pop() throws -> PickleValue {
        if let m = marks.last, m == stack.count { throw failure("a value was popped past a mark") }
        guard let v = stack.popLast() else { throw failure("the stack is empty") }
        return v
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last else { throw failure("the stack is empty") }
        return v
    }

    private mutating func popToMark() throws -> [PickleValue] {
        guard let m = marks.popLast(), m <= stack.count else { throw failure("no mark to pop to") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func remember(_ index: Int) throws {
        guard memo[index] != nil || memo.count < limits.memo else { throw failure("more than \(limits.memo) memo entries") }
        memo[index] = try top()
    }

    private mutating func recall(_ index: Int) throws {
        guard let v = memo[index] else { throw failure("memo entry \(index) was never stored") }
        push(v)
    }

    private func memoIndex(_ text: String) throws -> Int {
        guard let i = Int(text), i >= 0 else { throw failure("memo index '\(text.prefix(20))' is not a number") }
        return i
    }

    private func append(_ values: [PickleValue], to target: PickleValue) throws {
        switch target {
        case .list(let l): l.items += values
        case .object(let o): o.arguments += values // a list subclass Ferry does not build
        default: throw failure("APPEND to a non-list (\(target.kind))")
        }
    }

    private func setItems(_ items: [PickleValue], in target: PickleValue) throws {
        guard items.count % 2 == 0 else { throw failure("SETITEMS with an odd number of values") }
        switch target {
        case .dict(let d):
            for k in stride(from: 0, to: items.count, by: 2) { d.entries.append((items[k], items[k + 1])) }
        case .object(let o): o.arguments += items // a dict subclass Ferry does not build
        default: throw failure("SETITEM on a non-dict (\(target.kind))")
        }
    }

    private func items(of value: PickleValue, opcode: String) throws -> [PickleValue] {
        guard case .tuple(let t) = value else { throw failure("\(opcode) arguments are a \(value.kind), not a tuple") }
        return t.items
    }

    /// What calling `callable` would make: the allow-list's value, or an inert record of the call.
    private func call(_ callable: PickleValue, arguments: [PickleValue]) throws -> PickleValue {
        switch callable {
        case .global(let module, let name):
            do {
                if let v = try build(module, name, arguments, arena) { return v }
            } catch let f as Failure {
                throw f
            } catch let e as RebuildError {
                throw failure("\(module).\(name): \(e.reason)")
            }
            return .object(arena.object(type: "\(module).\(name)", arguments: arguments))
        case .object(let o):
            return .object(arena.object(type: o.type, arguments: arguments))
        default:
            throw failure("a call of a non-callable (\(callable.kind))")
        }
    }

    /// `persistentLoad`, its complaints placed at this opcode.
    private func load(_ id: PickleValue) throws -> PickleValue {
        do { return try persistentLoad(id) } catch let e as RebuildError { throw failure("persistent id: \(e.reason)") }
    }

    // MARK: Reading

    private func failure(_ reason: String) -> Failure { Failure(position: opcodeStart, reason: reason) }

    private mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw failure("the pickle ends before STOP") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer.SubSequence {
        guard n >= 0, n <= bytes.count - position else {
            throw failure("\(n) bytes wanted, \(bytes.count - position) left")
        }
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    private mutating func integer(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for (k, b) in try take(n).enumerated() { v |= UInt64(b) << (8 * k) }
        return v
    }

    /// A length field of `n` bytes, which must fit in what is left of the pickle.
    private mutating func length(_ n: Int) throws -> Int {
        let v = try integer(n)
        guard v <= UInt64(bytes.count - position) else { throw failure("length \(v) runs past the end of the pickle") }
        return Int(v)
    }

    private mutating func line() throws -> String {
        let start = position
        while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
        guard position < bytes.count else { throw failure("a text argument has no end of line") }
        defer { position += 1 }
        return text(bytes[start..<position])
    }

    private func text(_ b: UnsafeRawBufferPointer.SubSequence) -> String {
        String(decoding: b, as: UTF8.self)
    }

    private func unquoted(_ s: String) -> String {
        guard s.count >= 2, let f = s.first, f == s.last, f == "'" || f == "\"" else { return s }
        return String(s.dropFirst().dropLast())
    }

    private func parseInt(_ text: String) throws -> PickleValue {
        if let v = Int64(text) { return .int(v) }
        guard !text.isEmpty, text.drop(while: { $0 == "-" }).allSatisfy(\.isNumber) else {
            throw failure("'\(text.prefix(20))' is not an integer")
        }
        return .bigInt(text)
    }

    /// LONG1/LONG4: two's complement, little-endian.
    private mutating func littleEndianInteger(count: Int) throws -> PickleValue {
        let b = try take(count)
        guard count > 0 else { return .int(0) }
        guard count <= 8 else { return .bigInt("an integer of \(count) bytes") }
        var v: UInt64 = 0
        for (k, x) in b.enumerated() { v |= UInt64(x) << (8 * k) }
        if count < 8 && b.last! & 0x80 != 0 { v |= ~0 << (8 * UInt64(count)) }
        return .int(Int64(bitPattern: v))
    }
}

/// Thrown by an allow-listed rebuild whose arguments are not what torch writes.
struct RebuildError: Error {
    let reason: String
}
