import FerryIR

/// What a group member is.
public enum HDF5MemberKind: Equatable, Sendable {
    case group
    case dataset
    /// A soft link (a path inside the same file).
    case softLink
    /// A link into another file.
    case externalLink
    /// A named datatype or anything else that holds no tensor.
    case other
}

/// A named member of a group.
public struct HDF5Member: Equatable, Sendable {
    public var name: String
    public var kind: HDF5MemberKind
}

/// A group of an `HDF5File`.
public struct HDF5Group {
    public let file: HDF5File
    /// Absolute path inside the file ("/" for the root).
    public let path: String
    /// The group's node in the file's snapshot (one per object, however many paths reach it).
    let node: Int

    func childPath(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    private var listing: Result<[HDF5Snapshot.Member], HDF5Error> {
        guard case .group(let members) = file.snapshot.nodes[node].body else {
            return .failure(.invalid(file: file.path, object: path, reason: "is not a group"))
        }
        return members
    }

    /// The members, in HDF5's name order.
    public func members() throws -> [HDF5Member] {
        try listing.get().map { HDF5Member(name: $0.name, kind: $0.kind) }
    }

    /// The kind of the direct member `name` (`.other` when there is none).
    public func kind(of name: String) -> HDF5MemberKind {
        (try? listing.get())?.first { $0.name == name }?.kind ?? .other
    }

    /// True when a member with this relative path exists and can be read (external links count only if allowed).
    public func contains(_ relative: String) -> Bool { (try? resolve(relative)) != nil }

    /// The subgroup at `relative` (which may contain '/').
    public func group(_ relative: String) throws -> HDF5Group {
        let (node, path) = try resolve(relative)
        guard case .group = file.snapshot.nodes[node].body else {
            throw HDF5Error.invalid(file: file.path, object: path, reason: "is a dataset, not a group")
        }
        return HDF5Group(file: file, path: path, node: node)
    }

    /// The dataset at `relative` (which may contain '/').
    public func dataset(_ relative: String) throws -> HDF5Dataset {
        let (node, path) = try resolve(relative)
        guard case .dataset = file.snapshot.nodes[node].body else {
            throw HDF5Error.invalid(file: file.path, object: path, reason: "is a group, not a dataset")
        }
        return HDF5Dataset(file: file, path: path, node: node)
    }

    /// The direct member `name`: a group or a dataset.
    func child(_ name: String) throws -> Either {
        let (node, path) = try resolve(name)
        if case .group = file.snapshot.nodes[node].body { return .group(HDF5Group(file: file, path: path, node: node)) }
        return .dataset(HDF5Dataset(file: file, path: path, node: node))
    }

    /// A member that is a group or a dataset.
    enum Either {
        case group(HDF5Group)
        case dataset(HDF5Dataset)
    }

    /// The node and path at `relative`; fails at the first component that is missing, unreadable,
    /// or a link the file may not follow.
    private func resolve(_ relative: String) throws -> (Int, String) {
        let parts = relative.split(separator: "/").map(String.init)
        guard !parts.isEmpty else { throw HDF5Error.invalid(file: file.path, object: path, reason: "empty member path") }
        var group = self
        var found = (node, path)
        for part in parts {
            let child = group.childPath(part)
            guard let member = try group.listing.get().first(where: { $0.name == part }) else {
                throw HDF5Error.invalid(file: file.path, object: child, reason: "no such group or dataset")
            }
            guard let target = member.target else {
                throw HDF5Error.invalid(file: file.path, object: child, reason: "is neither a group nor a dataset")
            }
            found = (try target.get(), child)
            group = HDF5Group(file: file, path: child, node: found.0)
        }
        return found
    }

    /// Names of the group's attributes.
    public func attributeNames() throws -> [String] { try file.attributeNames(of: node) }

    /// The attribute `name`, or nil when absent.
    public func attribute(_ name: String) throws -> HDF5Value? { try file.attribute(name, of: node) }
}

/// A dataset of an `HDF5File`.
public struct HDF5Dataset {
    public let file: HDF5File
    /// Absolute path inside the file.
    public let path: String
    let node: Int

    private var data: Result<HDF5Snapshot.DatasetData, HDF5Error> {
        guard case .dataset(let data, _) = file.snapshot.nodes[node].body else {
            return .failure(.invalid(file: file.path, object: path, reason: "is a group, not a dataset"))
        }
        return data
    }

    /// The dataset's shape (empty for a scalar).
    public var shape: [Int] {
        get throws {
            switch try data.get() {
            case .tensor(let t): return t.shape
            case .placed(_, _, let shape): return shape
            }
        }
    }

    /// The dataset's element type.
    public var elementType: ElementType {
        get throws {
            switch try data.get() {
            case .tensor(let t): return t.elementType
            case .placed(_, let type, _): return type
            }
        }
    }

    /// The whole dataset as a tensor named `name`.
    public func read(name: String) throws -> Tensor {
        var tensor = try file.tensor(try data.get(), object: path)
        tensor.name = name
        return tensor
    }

    /// True when the dataset is chunked with at least one filter (e.g. deflate).
    public var isFiltered: Bool {
        guard case .dataset(_, let filtered) = file.snapshot.nodes[node].body else { return false }
        return filtered
    }

    /// Names of the dataset's attributes.
    public func attributeNames() throws -> [String] { try file.attributeNames(of: node) }

    /// The attribute `name`, or nil when absent.
    public func attribute(_ name: String) throws -> HDF5Value? { try file.attribute(name, of: node) }
}
