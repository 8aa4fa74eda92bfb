/// A value the restricted unpickler builds. Nothing in it can run: classes and functions named by
/// the pickle stay names (`global`), and what a non-allow-listed callable would have built is an
/// inert `PickleObject` recording the call.
///
/// Containers are classes because pickle mutates them after memoising them (APPEND, SETITEM,
/// BUILD) and every reference must see the change. They live in the machine's `PickleArena`,
/// which takes them apart when the unpickling is done, so that a deeply nested or cyclic pickle
/// is never released recursively.
public enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer beyond Int64, as decimal text.
    case bigInt(String)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleContainer)
    case list(PickleContainer)
    case set(PickleContainer)
    case dict(PickleDict)
    /// A class or function reference (GLOBAL / STACK_GLOBAL), never resolved to code.
    case global(module: String, name: String)
    case object(PickleObject)
    /// What the reader's allow-list built (a tensor, a storage), opaque to the machine.
    case external(AnyObject)

    /// The value's kind for messages: "int", "dict", "argparse.Namespace", ...
    public var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .set: return "set"
        case .dict: return "dict"
        case .global(let m, let n): return "\(m).\(n) (a name)"
        case .object(let o): return o.type
        case .external: return "tensor"
        }
    }
}

/// The items of a tuple, list or set.
public final class PickleContainer {
    public internal(set) var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
}

/// A dict's entries in insertion order (keys compared only when looked up).
public final class PickleDict {
    public internal(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    init() {}

    /// The value of a string key, if there is one.
    public subscript(key: String) -> PickleValue? {
        for e in entries { if case .string(let k) = e.key, k == key { return e.value } }
        return nil
    }
}

/// What a callable outside the allow-list would have built: its name, the arguments it was given
/// and the state BUILD would have set. Never called; `ferry inspect` shows it.
public final class PickleObject {
    public let type: String
    public internal(set) var arguments: [PickleValue]
    public internal(set) var state: PickleValue?
    init(type: String, arguments: [PickleValue]) {
        self.type = type
        self.arguments = arguments
    }
}

/// Every container one unpickling made; `tearDown` empties them all, so that releasing the
/// values afterwards never recurses through a deep or cyclic structure. The machine tears down
/// when it fails; after a successful run its caller does, once it has taken what it needs.
final class PickleArena {
    private(set) var count = 0
    private var containers: [PickleContainer] = []
    private var dicts: [PickleDict] = []
    private var objects: [PickleObject] = []

    func container(_ items: [PickleValue]) -> PickleContainer {
        let c = PickleContainer(items)
        containers.append(c)
        count += 1
        return c
    }

    func dict() -> PickleDict {
        let d = PickleDict()
        dicts.append(d)
        count += 1
        return d
    }

    func object(type: String, arguments: [PickleValue]) -> PickleObject {
        let o = PickleObject(type: type, arguments: arguments)
        objects.append(o)
        count += 1
        return o
    }

    func tearDown() {
        for c in containers { c.items = [] }
        for d in dicts { d.entries = [] }
        for o in objects {
            o.arguments = []
            o.state = nil
        }
        containers = []
        dicts = []
        objects = []
    }
}
