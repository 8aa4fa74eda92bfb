import CHDF5
import FerryIR

/// Everything Ferry reads from an HDF5 file, walked once by libhdf5 (in the reader helper, or in
/// this process for trusted files): each group and dataset once (hard links and loops share a
/// node), their attributes, and the datasets' data, either as tensors or as the place of bytes
/// stored as they are in the file. Failures stay with the object they concern, so reading one
/// part of a damaged file fails only where it is damaged.
struct HDF5Snapshot {
    /// A dataset's data.
    enum DatasetData {
        case tensor(Tensor)
        /// Bytes stored in the file as they are, `elementType` and `shape` at `offset`.
        case placed(offset: Int, elementType: ElementType, shape: [Int])
    }

    /// A named member of a group and the node it leads to (nil for named datatypes and other
    /// objects that hold no data).
    struct Member {
        var name: String
        var kind: HDF5MemberKind
        var target: Result<Int, HDF5Error>?
    }

    /// One attribute: its value or why it could not be read.
    struct Attribute {
        var name: String
        var value: Result<HDF5Value, HDF5Error>
    }

    enum Body {
        case group(Result<[Member], HDF5Error>)
        case dataset(Result<DatasetData, HDF5Error>, filtered: Bool)
    }

    /// A group or dataset: its absolute path (the first one it was reached by), attributes and body.
    struct Node {
        var path: String
        var attributes: Result<[Attribute], HDF5Error>
        var body: Body
    }

    /// Node 0 is the root group.
    var nodes: [Node]
    /// Other files data was read from (only when external data was allowed).
    var externalFiles: [String]
}

extension HDF5Snapshot {
    /// Walks `file` with libhdf5; `placing` gives data stored as it is by its place in the file
    /// (for a reader in another process, which maps the file itself) instead of reading it.
    static func walk(_ file: LiveFile, placing: Bool) throws -> HDF5Snapshot {
        var walker = Walker(file: file, placing: placing)
        _ = walker.visit(group: try file.root, depth: 0)
        return HDF5Snapshot(nodes: walker.nodes, externalFiles: file.externalFiles)
    }

    /// Deepest group nesting read.
    static let maxDepth = 256

    private struct Walker {
        let file: LiveFile
        let placing: Bool
        var nodes: [Node] = []
        /// Node of each object already walked, by object key.
        var seen: [UInt64: Int] = [:]

        init(file: LiveFile, placing: Bool) {
            self.file = file
            self.placing = placing
        }

        /// `body`'s result, or the error it threw (libhdf5 failures are all HDF5Errors).
        private func capture<T>(_ object: String, _ operation: String, _ body: () throws -> T) -> Result<T, HDF5Error> {
            do { return .success(try body()) } catch { return .failure(error as? HDF5Error ?? file.fail(object, operation)) }
        }

        /// Adds a node for the group (or returns the node it already has) and walks its members.
        mutating func visit(group: LiveGroup, depth: Int) -> Int {
            let key = group.handle.objectKey
            if let key, let known = seen[key] { return known }
            let index = nodes.count
            nodes.append(
                Node(
                    path: group.path, attributes: attributes(of: group.path, group.attributeNames, group.attribute),
                    body: .group(.success([]))))
            if let key { seen[key] = index }
            guard depth < HDF5Snapshot.maxDepth else {
                let reason = "groups nest deeper than \(HDF5Snapshot.maxDepth) levels"
                nodes[index].body = .group(.failure(.invalid(file: file.path, object: group.path, reason: reason)))
                return index
            }
            switch capture(group.path, "list group", group.members) {
            case .failure(let error):
                nodes[index].body = .group(.failure(error))
            case .success(let listed):
                var members: [Member] = []
                for member in listed {
                    members.append(Member(name: member.name, kind: member.kind, target: follow(member, of: group, depth: depth)))
                }
                nodes[index].body = .group(.success(members))
            }
            return index
        }

        /// The node a member leads to (nil for objects that hold no data).
        private mutating func follow(_ member: HDF5Member, of group: LiveGroup, depth: Int) -> Result<Int, HDF5Error>? {
            let path = group.childPath(member.name)
            var external = group.inOtherFile
            switch member.kind {
            case .other:
                return nil
            case .dataset:
                return dataset(member.name, of: group, external: external)
            case .group, .softLink:
                break
            case .externalLink:
                guard file.allowExternal else {
                    return .failure(.refusedExternal(file: file.path, object: path, kind: "an external link"))
                }
                var target = [CChar](repeating: 0, count: 4096)
                ferry_h5_elink_file(group.handle.id, member.name, &target, target.count)
                file.noteExternal(String(cString: target))
                external = true
            }
            // A link leads to a group or a dataset; only opening it tells which.
            switch capture(path, "open group", { try group.group(member.name) }) {
            case .success(var sub):
                sub.inOtherFile = external
                return .success(visit(group: sub, depth: depth + 1))
            case .failure(let error):
                return member.kind == .group ? .failure(error) : dataset(member.name, of: group, external: external)
            }
        }

        /// Adds a node for the dataset (or returns the node it already has), its data read or placed.
        private mutating func dataset(_ name: String, of group: LiveGroup, external: Bool) -> Result<Int, HDF5Error> {
            let path = group.childPath(name)
            return capture(path, "open dataset", { try group.dataset(name) }).map { found in
                var dataset = found
                dataset.inOtherFile = external
                let key = dataset.handle.objectKey
                if let key, let known = seen[key] { return known }
                let data = capture(path, "read") { try dataset.contents(placing: placing) }
                let node = Node(
                    path: path, attributes: attributes(of: path, dataset.attributeNames, dataset.attribute),
                    body: .dataset(data, filtered: dataset.isFiltered))
                nodes.append(node)
                if let key { seen[key] = nodes.count - 1 }
                return nodes.count - 1
            }
        }

        /// The object's attributes, each read or failed on its own.
        private func attributes(
            of path: String, _ names: () throws -> [String], _ read: (String) throws -> HDF5Value?
        ) -> Result<[Attribute], HDF5Error> {
            capture(path, "list attributes", names).map { list in
                list.compactMap { name in
                    switch capture(path, "read attribute '\(name)'", { try read(name) }) {
                    case .success(nil): return nil
                    case .success(let value?): return Attribute(name: name, value: .success(value))
                    case .failure(let error): return Attribute(name: name, value: .failure(error))
                    }
                }
            }
        }
    }
}
