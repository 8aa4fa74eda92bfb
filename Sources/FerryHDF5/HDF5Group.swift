import CHDF5
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

/// A group of an open file.
public struct HDF5Group {
    public let file: HDF5File
    /// Absolute path inside the file ("/" for the root).
    public let path: String
    let handle: HDF5Handle

    /// Opens the group `name` of the object `parent`; `path` is its absolute path.
    static func open(file: HDF5File, path: String, parent: hid_t, name: String) throws -> HDF5Group {
        let handle = try file.objectHandle(
            H5Gopen2(parent, name, file.linkAccess.id), close: H5Gclose, object: path, "open group")
        return HDF5Group(file: file, path: path, handle: handle)
    }

    func childPath(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    /// The members, in HDF5's name order, listed in one pass over the group.
    public func members() throws -> [HDF5Member] {
        final class Names { var list: [String] = [] }
        let names = Names()
        let status = withExtendedLifetime(names) {
            ferry_h5_list_members(
                handle.id,
                { name, context in
                    guard let name, let context else { return 1 }
                    Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().list.append(String(cString: name))
                    return 0
                }, Unmanaged.passUnretained(names).toOpaque())
        }
        guard status >= 0 else { throw file.fail(path, "list group") }
        return names.list.map { HDF5Member(name: $0, kind: kind(of: $0)) }
    }

    /// The kind of the direct member `name`, without following external links.
    public func kind(of name: String) -> HDF5MemberKind {
        var objectType: Int32 = -1
        switch ferry_h5_link_kind(handle.id, name, &objectType) {
        case 0:
            if objectType == H5O_TYPE_GROUP.rawValue { return .group }
            if objectType == H5O_TYPE_DATASET.rawValue { return .dataset }
            return .other
        case 1:
            // Soft links name objects that have paths of their own; trees list each object once.
            return .softLink
        case 64:
            return .externalLink
        default:
            _ = HDF5Library.errorDetail()
            return .other
        }
    }

    /// True when a member with this relative path exists (external links count only if allowed).
    public func contains(_ relative: String) -> Bool {
        var g = self
        let parts = relative.split(separator: "/").map(String.init)
        for (i, part) in parts.enumerated() {
            let k = g.kind(of: part)
            if k == .externalLink && !file.allowExternal { return false }
            if i == parts.count - 1 { return k != .other || H5Lexists(g.handle.id, part, ferry_h5p_default()) > 0 }
            guard k == .group, let next = try? g.group(part) else { return false }
            g = next
        }
        return true
    }

    /// Walks a relative path, refusing external links on the way unless allowed; returns the
    /// group holding the last component and that component.
    private func walk(_ relative: String) throws -> (HDF5Group, String) {
        let parts = relative.split(separator: "/").map(String.init)
        guard let last = parts.last else { throw HDF5Error.invalid(file: file.path, object: path, reason: "empty member path") }
        var g = self
        for part in parts.dropLast() {
            g = try g.group(part)
        }
        if g.kind(of: last) == .externalLink && !file.allowExternal {
            throw HDF5Error.refusedExternal(file: file.path, object: g.childPath(last), kind: "an external link")
        }
        return (g, last)
    }

    /// The subgroup at `relative` (which may contain '/').
    public func group(_ relative: String) throws -> HDF5Group {
        if relative.contains("/") {
            let (g, last) = try walk(relative)
            return try g.group(last)
        }
        if kind(of: relative) == .externalLink && !file.allowExternal {
            throw HDF5Error.refusedExternal(file: file.path, object: childPath(relative), kind: "an external link")
        }
        return try HDF5Group.open(file: file, path: childPath(relative), parent: handle.id, name: relative)
    }

    /// The dataset at `relative` (which may contain '/').
    public func dataset(_ relative: String) throws -> HDF5Dataset {
        let (g, last) = try walk(relative)
        return try HDF5Dataset.open(file: file, path: g.childPath(last), parent: g.handle.id, name: last)
    }

    /// A key identifying the group's object (the same group reached by two paths has one key).
    var objectKey: UInt64? {
        var key: UInt64 = 0
        return ferry_h5_object_key(handle.id, &key) >= 0 ? key : nil
    }

    // MARK: attributes

    /// Names of the group's attributes.
    public func attributeNames() throws -> [String] { try HDF5Attributes.names(of: handle.id, file: file, object: path) }

    /// The attribute `name`, or nil when absent.
    public func attribute(_ name: String) throws -> HDF5Value? {
        try HDF5Attributes.read(name, of: handle.id, file: file, object: path)
    }

    /// Sets (replaces) an attribute.
    public func setAttribute(_ name: String, _ value: HDF5Value) throws {
        try HDF5Attributes.write(name, value, on: handle.id, file: file, object: path)
    }

    // MARK: writing

    /// Creates the subgroup `name` (one component).
    public func createGroup(_ name: String) throws -> HDF5Group {
        let id = H5Gcreate2(handle.id, name, ferry_h5p_default(), ferry_h5p_default(), ferry_h5p_default())
        let path = childPath(name)
        return HDF5Group(file: file, path: path, handle: try file.objectHandle(id, close: H5Gclose, object: path, "create group"))
    }

    /// The subgroup `name`, created if missing.
    public func groupCreatingIfNeeded(_ name: String) throws -> HDF5Group {
        kind(of: name) == .group ? try group(name) : try createGroup(name)
    }

    /// Writes `tensor` as dataset `name` (one component); `compress` stores it chunked with the
    /// shuffle and deflate filters.
    @discardableResult
    public func writeDataset(_ name: String, _ tensor: Tensor, compress: Bool = false) throws -> HDF5Dataset {
        try HDF5Dataset.create(in: self, name: name, tensor: tensor, compress: compress)
    }
}
