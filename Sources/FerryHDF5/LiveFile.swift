import CHDF5
import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An HDF5 file open in libhdf5 in this process: read by walking it into an `HDF5Snapshot`
/// (here or in the reader helper), written through `HDF5GroupWriter`. Reading never follows
/// external links, external raw storage or virtual datasets unless `allowExternal` is set: such
/// data would come from other files.
final class LiveFile {
    /// The path as given (used in messages).
    let path: String
    /// Follow external links, external storage and virtual datasets.
    let allowExternal: Bool
    let handle: HDF5Handle
    /// Link access list used for every open: refuses external links unless allowed.
    let linkAccess: HDF5Handle
    /// Other files data was read from (with `allowExternal`): external link targets and external
    /// raw storage files, as paths next to this file. Writers must never replace these.
    var externalFiles: [String] = []

    /// Records another file read through this one.
    func noteExternal(_ name: String) {
        guard !name.isEmpty else { return }
        let full = name.hasPrefix("/") ? name : splitPath(path).directory + "/" + name
        if !externalFiles.contains(full) { externalFiles.append(full) }
    }

    private init(path: String, id: hid_t, allowExternal: Bool, image: TensorBuffer? = nil) throws {
        self.path = path
        self.allowExternal = allowExternal
        // The file's handle holds its in-memory image until the library has closed the file.
        handle = HDF5Handle(id, close: H5Fclose, owner: image)
        self.image = image
        let lapl = H5Pcreate(ferry_h5p_link_access())
        if !allowExternal { _ = ferry_h5_forbid_external_links(lapl) }
        linkAccess = HDF5Handle(lapl, close: H5Pclose)
    }

    /// Opens an existing file read-only.
    static func open(_ path: String, allowExternal: Bool = false) throws -> LiveFile {
        HDF5Library.prepareThread()
        guard fileExists(path) else { throw HDF5Error.io(.system(path: path, operation: "open", errno: ENOENT)) }
        guard H5Fis_hdf5(path) > 0 else {
            _ = HDF5Library.errorDetail()
            throw HDF5Error.notHDF5(file: path)
        }
        let id = H5Fopen(path, ferry_h5f_acc_rdonly(), ferry_h5p_default())
        guard id >= 0 else {
            throw HDF5Error.library(file: path, object: "/", operation: "open", detail: HDF5Library.errorDetail())
        }
        return try LiveFile(path: path, id: id, allowExternal: allowExternal)
    }

    /// Opens an HDF5 file held in memory (e.g. a member of a `.keras` archive) without copying it;
    /// `path` names it in messages. Contiguous datasets are read as views of `image`.
    static func open(image: TensorBuffer, path: String) throws -> LiveFile {
        HDF5Library.prepareThread()
        let id = ferry_h5_open_image(image.baseAddress, image.count)
        guard id >= 0 else {
            _ = HDF5Library.errorDetail()
            throw HDF5Error.notHDF5(file: path)
        }
        let file = try LiveFile(path: path, id: id, allowExternal: false, image: image)
        file.mappable = false
        return file
    }

    /// Creates (or truncates) a file for writing. Callers write to a temporary path and rename;
    /// `displayPath` is the name messages use (the final path).
    static func create(_ path: String, displayPath: String? = nil) throws -> LiveFile {
        HDF5Library.prepareThread()
        let id = H5Fcreate(path, ferry_h5f_acc_trunc(), ferry_h5p_default(), ferry_h5p_default())
        guard id >= 0 else {
            throw HDF5Error.library(
                file: displayPath ?? path, object: "/", operation: "create", detail: HDF5Library.errorDetail())
        }
        let file = try LiveFile(path: displayPath ?? path, id: id, allowExternal: false)
        file.mappable = false
        return file
    }

    /// The file mapped read-only, for viewing contiguous datasets in place (nil for in-memory images).
    lazy var mapped: MappedFile? = mappable ? try? MappedFile(path: path) : nil
    private var mappable = true
    /// The bytes of a file opened from memory (the file reads them in place; datasets view them).
    let image: TensorBuffer?

    /// The size in bytes of the file (or image) when known: stored data must lie inside it.
    var size: Int? { image?.count ?? mapped?.count }

    /// A view of `count` bytes at `offset` of the mapped file or image (nil when they are not inside it).
    func view(offset: Int, count: Int) -> TensorBytes? {
        storedBytesView(image: image, mapped: mapped, offset: offset, count: count)
    }

    /// The root group.
    var root: LiveGroup {
        get throws { try LiveGroup.open(file: self, path: "/", parent: handle.id, name: "/") }
    }

    /// Flushes everything written so far.
    func flush() throws {
        guard H5Fflush(handle.id, H5F_SCOPE_GLOBAL) >= 0 else {
            throw HDF5Error.library(file: path, object: "/", operation: "flush", detail: HDF5Library.errorDetail())
        }
    }

    func fail(_ object: String, _ operation: String) -> HDF5Error {
        .library(file: path, object: object, operation: operation, detail: HDF5Library.errorDetail())
    }

    /// The handle of an object this file opens or creates: `id` is the library's answer (negative when
    /// `operation` failed on `object`), closed by `close` once the last copy of the handle is gone.
    func objectHandle(_ id: hid_t, close: @escaping (hid_t) -> herr_t, object: String, _ operation: String) throws -> HDF5Handle {
        guard id >= 0 else { throw fail(object, operation) }
        return HDF5Handle(id, close: close, owner: self)
    }
}

/// A view of `count` bytes at `offset` of `image`, or else of `mapped` (those pages prefaulted):
/// the data of a dataset stored as it is, read where it lies. Nil when they are not inside it.
func storedBytesView(image: TensorBuffer?, mapped: MappedFile?, offset: Int, count: Int) -> TensorBytes? {
    guard let size = image?.count ?? mapped?.count, offset >= 0, count >= 0, offset <= size, count <= size - offset else {
        return nil
    }
    if let image { return TensorBytes(TensorBuffer(viewing: image, offset: offset, count: count)) }
    guard let mapped else { return nil }
    mapped.prefault(offset..<(offset + count))
    return TensorBytes(TensorBuffer(viewing: mapped, offset: offset, count: count))
}
