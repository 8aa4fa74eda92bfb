import CHDF5
import FerryIR

/// A group of a file open in libhdf5 in this process (reading walks it into an `HDF5Snapshot`;
/// writing goes through `HDF5GroupWriter`).
struct LiveGroup {
    let file: LiveFile
    /// Absolute path inside the file ("/" for the root).
    let path: String
    let handle: HDF5Handle
    /// Reached through an external link: its data lies in another file.
    var inOtherFile = false

    /// Opens the group `name` of the object `parent`; `path` is its absolute path.
    static func open(file: LiveFile, path: String, parent: hid_t, name: String) throws -> LiveGroup {
        let handle = try file.objectHandle(
            H5Gopen2(parent, name, file.linkAccess.id), close: H5Gclose, object: path, "open group")
        return LiveGroup(file: file, path: path, handle: handle)
    }

    func childPath(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    /// The members, in HDF5's name order, listed in one pass over the group.
    func members() throws -> [HDF5Member] {
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
    func kind(of name: String) -> HDF5MemberKind {
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

    /// The direct member `name` as a group (soft links followed; external links only when the
    /// file allows them, which its link access list enforces).
    func group(_ name: String) throws -> LiveGroup {
        try LiveGroup.open(file: file, path: childPath(name), parent: handle.id, name: name)
    }

    /// The direct member `name` as a dataset.
    func dataset(_ name: String) throws -> LiveDataset {
        try LiveDataset.open(file: file, path: childPath(name), parent: handle.id, name: name)
    }

    // MARK: attributes

    /// Names of the group's attributes.
    func attributeNames() throws -> [String] { try HDF5Attributes.names(of: handle.id, file: file, object: path) }

    /// The attribute `name`, or nil when absent.
    func attribute(_ name: String) throws -> HDF5Value? {
        try HDF5Attributes.read(name, of: handle.id, file: file, object: path)
    }

    /// Sets (replaces) an attribute.
    func setAttribute(_ name: String, _ value: HDF5Value) throws {
        try HDF5Attributes.write(name, value, on: handle.id, file: file, object: path)
    }

    // MARK: writing

    /// Creates the subgroup `name` (one component).
    func createGroup(_ name: String) throws -> LiveGroup {
        let id = H5Gcreate2(handle.id, name, ferry_h5p_default(), ferry_h5p_default(), ferry_h5p_default())
        let path = childPath(name)
        return LiveGroup(file: file, path: path, handle: try file.objectHandle(id, close: H5Gclose, object: path, "create group"))
    }

    /// The subgroup `name`, created if missing.
    func groupCreatingIfNeeded(_ name: String) throws -> LiveGroup {
        kind(of: name) == .group ? try group(name) : try createGroup(name)
    }

    /// Writes `tensor` as dataset `name` (one component); `compress` stores it chunked with the
    /// shuffle and deflate filters.
    @discardableResult
    func writeDataset(_ name: String, _ tensor: Tensor, compress: Bool = false) throws -> LiveDataset {
        try LiveDataset.create(in: self, name: name, tensor: tensor, compress: compress)
    }
}
