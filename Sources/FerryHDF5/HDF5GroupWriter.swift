import FerryIR

/// A group of a file being written (see `HDF5File.writeAtomically`): subgroups, attributes and
/// datasets are created in it. Writing stays in this process: Ferry makes these files.
public struct HDF5GroupWriter {
    let group: LiveGroup

    /// Absolute path inside the file ("/" for the root).
    public var path: String { group.path }

    /// Creates the subgroup `name` (one component).
    public func createGroup(_ name: String) throws -> HDF5GroupWriter { HDF5GroupWriter(group: try group.createGroup(name)) }

    /// The subgroup `name`, created if missing.
    public func groupCreatingIfNeeded(_ name: String) throws -> HDF5GroupWriter {
        HDF5GroupWriter(group: try group.groupCreatingIfNeeded(name))
    }

    /// Sets (replaces) an attribute of the group.
    public func setAttribute(_ name: String, _ value: HDF5Value) throws { try group.setAttribute(name, value) }

    /// Writes `tensor` as dataset `name` (one component); `compress` stores it chunked with the
    /// shuffle and deflate filters.
    public func writeDataset(_ name: String, _ tensor: Tensor, compress: Bool = false) throws {
        try group.writeDataset(name, tensor, compress: compress)
    }
}

extension HDF5File {
    /// Writes a new file at `path` through `body` atomically: into a temporary file next to it,
    /// renamed into place only when `body` succeeds. Never replaces a file in `protectedFiles`,
    /// nor an existing file unless `replace`.
    public static func writeAtomically(
        _ path: String, replace: Bool, protectedFiles: [String] = [],
        _ body: (HDF5GroupWriter) throws -> Void
    ) throws {
        if let id = fileIdentity(path), protectedFiles.contains(where: { fileIdentity($0) == id }) {
            throw HDF5Error.io(.outputIsInput(path: path))
        }
        let out: AtomicFile
        do { out = try AtomicFile(path: path, replace: replace) } catch let e as FileError { throw HDF5Error.io(e) }
        do {
            let file = try LiveFile.create(out.temporaryPath, displayPath: path)
            try body(HDF5GroupWriter(group: try file.root))
            try file.flush()
        }
        do { try out.commit() } catch let e as FileError { throw HDF5Error.io(e) }
    }
}
