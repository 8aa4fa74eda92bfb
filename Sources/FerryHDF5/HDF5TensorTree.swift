import FerryIR

/// Any HDF5 file whose datasets are tensors (an h5py dump of a state_dict, a weights file, ...):
/// each dataset is one tensor named by its path without the leading '/'.
public enum HDF5TensorTree {
    /// The root group's string attributes (where tensor-tree writers keep metadata).
    public static func metadata(_ file: HDF5File) throws -> [KeyValue] {
        let root = try file.root
        return try root.attributeNames().compactMap { name in
            if case .string(let value)? = try root.attribute(name) { return KeyValue(name, value) }
            return nil
        }
    }

    /// Reads every dataset of the file, in path order. Links to other files and external data
    /// are refused unless the file was opened with `allowExternal`; soft links are not followed
    /// (they name objects that have paths of their own) and a group reached twice is walked once.
    public static func read(_ file: HDF5File) throws -> [Tensor] {
        var tensors: [Tensor] = []
        var visited = Set<Int>()
        func visit(_ group: HDF5Group, prefix: String) throws {
            guard visited.insert(group.node).inserted else { return }
            for member in try group.members() where [.group, .dataset, .externalLink].contains(member.kind) {
                let name = prefix.isEmpty ? member.name : prefix + "/" + member.name
                switch try group.child(member.name) {
                case .group(let sub): try visit(sub, prefix: name)
                case .dataset(let dataset): tensors.append(try dataset.read(name: name))
                }
            }
        }
        try visit(try file.root, prefix: "")
        return tensors
    }

    /// One object of an HDF5 file as h5ls lists it: a group, or a dataset with its type and shape,
    /// and the object's attributes (each as a short text).
    public struct Entry: Sendable {
        public var path: String
        /// Nil for a group.
        public var elementType: ElementType?
        public var shape: [Int]?
        public var attributes: [KeyValue]
    }

    /// Every group and dataset of the file in path order, without reading dataset values (the
    /// walk `read` makes: external links listed, not followed).
    public static func listing(_ file: HDF5File) throws -> [Entry] {
        var entries: [Entry] = []
        var visited = Set<Int>()
        func attributes(_ names: [String], _ value: (String) throws -> HDF5Value?) throws -> [KeyValue] {
            try names.map { name in KeyValue(name, describe(try value(name))) }
        }
        func visit(_ group: HDF5Group, prefix: String) throws {
            guard visited.insert(group.node).inserted else { return }
            for member in try group.members() where [.group, .dataset].contains(member.kind) {
                let name = prefix + "/" + member.name
                switch try group.child(member.name) {
                case .group(let sub):
                    entries.append(Entry(path: name, attributes: try attributes(try sub.attributeNames(), sub.attribute)))
                    try visit(sub, prefix: name)
                case .dataset(let d):
                    entries.append(
                        Entry(
                            path: name, elementType: try d.elementType, shape: try d.shape,
                            attributes: try attributes(try d.attributeNames(), d.attribute)))
                }
            }
        }
        let root = try file.root
        entries.append(Entry(path: "/", attributes: try attributes(try root.attributeNames(), root.attribute)))
        try visit(root, prefix: "")
        return entries
    }

    /// An attribute value in a line: a string (up to 80 characters), a list's first strings, or a
    /// number array's type and first values.
    private static func describe(_ v: HDF5Value?) -> String {
        switch v {
        case .string(let s)?: return s.count > 80 ? String(s.prefix(77)) + "..." : s
        case .strings(let l)?:
            return "[" + l.prefix(4).joined(separator: ", ") + (l.count > 4 ? ", ... \(l.count) in all" : "") + "]"
        case .tensor(let t)?:
            let values = t.numericValues.map { $0.prefix(4).map { "\($0)" }.joined(separator: ", ") } ?? ""
            return "\(t.elementType.name)\(t.shape) \(values)"
        case nil: return "?"
        }
    }

    /// Writes `tensors` as datasets named by their names ('/' separates groups), atomically.
    /// Every name must be a valid HDF5 path so that reading the file back gives the same names.
    public static func write(
        _ tensors: [Tensor], to path: String, compress: Bool, replace: Bool, protectedFiles: [String] = [],
        metadata: [KeyValue] = []
    ) throws {
        var kinds: [[UInt8]: Bool] = [:] // path (as bytes, like HDF5 compares names) -> is a group
        for t in tensors {
            let parts = t.name.split(separator: "/", omittingEmptySubsequences: false)
            guard !t.name.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
                throw HDF5Error.invalid(
                    file: path, object: t.name.isEmpty ? "(unnamed tensor)" : t.name,
                    reason: "tensor name is not a valid HDF5 path (empty, '.' or '..' component)")
            }
            for i in 1..<parts.count {
                let prefix = parts[..<i].joined(separator: "/")
                if kinds[Array(prefix.utf8)] == false { throw conflict(path, prefix) }
                kinds[Array(prefix.utf8)] = true
            }
            if kinds[Array(t.name.utf8)] != nil { throw conflict(path, t.name) }
            kinds[Array(t.name.utf8)] = false
        }
        try HDF5File.writeAtomically(path, replace: replace, protectedFiles: protectedFiles) { root in
            try writeTree(tensors, into: root, compress: compress, displayPath: path)
            for entry in metadata { try root.setAttribute(entry.key, .string(entry.value)) }
        }
    }

    private static func conflict(_ file: String, _ name: String) -> HDF5Error {
        .invalid(file: file, object: name, reason: "is both a tensor and a group of tensors")
    }

    private static func writeTree(_ tensors: [Tensor], into root: HDF5GroupWriter, compress: Bool, displayPath: String) throws {
        try Progress.forEach(tensors, "writing tensors") { t in
            var group = root
            let parts = t.name.split(separator: "/").map(String.init)
            for part in parts.dropLast() { group = try group.groupCreatingIfNeeded(part) }
            do {
                try group.writeDataset(parts.last!, t, compress: compress)
            } catch HDF5Error.unsupportedType(_, let object, let type) {
                throw HDF5Error.unsupportedType(file: displayPath, object: object, type: type)
            }
        }
    }
}
