import CHDF5
import FerryIR

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A dataset of an open file.
struct LiveDataset {
    let file: LiveFile
    /// Absolute path inside the file.
    let path: String
    let handle: HDF5Handle
    /// Reached through an external link: its data lies in another file.
    var inOtherFile = false

    /// Opens the dataset `name` of the object `parent`; `path` is its absolute path.
    static func open(file: LiveFile, path: String, parent: hid_t, name: String) throws -> LiveDataset {
        let dapl = H5Pcreate(ferry_h5p_dataset_access())
        defer { H5Pclose(dapl) }
        if file.allowExternal {
            // Allowed external storage and virtual sources resolve next to this file, not the working directory.
            H5Pset_efile_prefix(dapl, "${ORIGIN}")
            H5Pset_virtual_prefix(dapl, "${ORIGIN}")
        } else {
            _ = ferry_h5_forbid_external_links(dapl)
        }
        let handle = try file.objectHandle(H5Dopen2(parent, name, dapl), close: H5Dclose, object: path, "open dataset")
        return LiveDataset(file: file, path: path, handle: handle)
    }

    /// The dataset's shape (empty for a scalar).
    var shape: [Int] {
        get throws {
            let space = H5Dget_space(handle.id)
            guard space >= 0 else { throw file.fail(path, "read shape") }
            defer { H5Sclose(space) }
            return try dims(of: space)
        }
    }

    private func dims(of space: hid_t) throws -> [Int] {
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw file.fail(path, "read shape") }
        var d = [hsize_t](repeating: 0, count: Int(rank))
        H5Sget_simple_extent_dims(space, &d, nil)
        guard d.allSatisfy({ $0 <= hsize_t(Int.max) }), let shape = Optional(d.map { Int($0) }),
            Tensor.elementCount(of: shape) != nil
        else {
            throw HDF5Error.invalid(file: file.path, object: path, reason: "shape \(d) is too large")
        }
        return shape
    }

    /// Refuses layouts that read other files: virtual datasets and external raw storage.
    private func checkStorage() throws {
        let dcpl = H5Dget_create_plist(handle.id)
        guard dcpl >= 0 else { throw file.fail(path, "read storage layout") }
        defer { H5Pclose(dcpl) }
        if file.allowExternal {
            for i in 0..<max(0, H5Pget_external_count(dcpl)) {
                var name = [CChar](repeating: 0, count: 4096)
                ferry_h5_external_file(dcpl, UInt32(i), &name, name.count)
                file.noteExternal(String(cString: name))
            }
            return
        }
        if H5Pget_layout(dcpl) == H5D_VIRTUAL {
            throw HDF5Error.refusedExternal(file: file.path, object: path, kind: "a virtual dataset")
        }
        if H5Pget_external_count(dcpl) > 0 {
            throw HDF5Error.refusedExternal(file: file.path, object: path, kind: "external raw storage")
        }
    }

    /// The dataset's data. With `placing`, data that can be used as stored (see `storedOffset`) is
    /// given as its place in the file for the reader to view; otherwise it is read (such data then
    /// viewed in this process's mapping of the file).
    func contents(placing: Bool) throws -> HDF5Snapshot.DatasetData {
        try checkStorage()
        let ftype = H5Dget_type(handle.id)
        guard ftype >= 0 else { throw file.fail(path, "read type") }
        defer { H5Tclose(ftype) }
        guard let mapping = HDF5TypeMapping.forFile(ftype) else {
            throw HDF5Error.unsupportedType(file: file.path, object: path, type: HDF5TypeMapping.describe(ftype))
        }
        let shape = try self.shape
        let count = Tensor.elementCount(of: shape)!
        if mapping.element == .string {
            // Each stored string takes at least one byte of the dataset's storage (16 for variable-length ones).
            let perString = H5Tis_variable_str(ftype) > 0 ? 16 : max(1, H5Tget_size(ftype))
            try checkPlausible(bytes: count.multipliedReportingOverflow(by: perString).partialValue, shape: shape)
            guard
                let strings = readStrings(
                    fileType: ftype, count: count,
                    read: { mem, buf in
                        H5Dread(handle.id, mem, ferry_h5s_all(), ferry_h5s_all(), ferry_h5p_default(), buf)
                    })
            else { throw file.fail(path, "read") }
            return .tensor(
                Tensor(name: "", elementType: .string, shape: shape, storage: .strings(strings.map { Array($0.utf8) })))
        }
        guard let bytes = mapping.element.byteCount(elements: count) else {
            throw HDF5Error.invalid(file: file.path, object: path, reason: "shape \(shape) is too large")
        }
        try checkPlausible(bytes: bytes, shape: shape)
        let elementSize = max(1, mapping.element.bitWidth / 8)
        if let offset = storedOffset(fileType: ftype, memoryType: mapping.memory.id, bytes: bytes, elementSize: elementSize) {
            if placing { return .placed(offset: offset, elementType: mapping.element, shape: shape) }
            if let view = file.view(offset: offset, count: bytes) {
                return .tensor(Tensor(name: "", elementType: mapping.element, shape: shape, storage: .bytes(view)))
            }
        }
        // libhdf5 writes every byte, so the buffer is not zero-filled first.
        let data = try TensorBytes(count: bytes) { out in
            guard count > 0 else { return }
            let rc = H5Dread(handle.id, mapping.memory.id, ferry_h5s_all(), ferry_h5s_all(), ferry_h5p_default(), out.baseAddress)
            guard rc >= 0 else { throw file.fail(path, "read") }
        }
        return .tensor(Tensor(name: "", elementType: mapping.element, shape: shape, storage: .bytes(data)))
    }

    /// Refuses shapes the file cannot back: unfiltered data must be stored in full, and filtered
    /// (compressed) data may expand at most 1024-fold; a damaged dataspace fails here rather than
    /// asking for terabytes of memory.
    private func checkPlausible(bytes: Int, shape: [Int]) throws {
        guard bytes > 1 << 20 else { return }
        let stored = Int(clamping: H5Dget_storage_size(handle.id))
        let dcpl = H5Dget_create_plist(handle.id)
        defer { H5Pclose(dcpl) }
        let filtered = H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_nfilters(dcpl) > 0
        let limit = filtered ? stored.multipliedReportingOverflow(by: 1024).partialValue : stored
        guard bytes <= limit || H5Pget_external_count(dcpl) > 0 || H5Pget_layout(dcpl) == H5D_VIRTUAL else {
            throw HDF5Error.invalid(
                file: file.path, object: path,
                reason: "shape \(shape) needs \(bytes) bytes but the file stores \(stored)\(filtered ? " (compressed)" : "")")
        }
    }

    /// Where the dataset's bytes lie in its file (or in-memory image) when they can be used as
    /// they are: contiguous, unfiltered, stored in exactly the memory type, aligned for it, inside
    /// the file, and large enough for viewing them to pay off. Never for data in another file.
    private func storedOffset(fileType: hid_t, memoryType: hid_t, bytes: Int, elementSize: Int) -> Int? {
        guard !inOtherFile, bytes >= 4096, H5Tequal(fileType, memoryType) > 0 else { return nil }
        let dcpl = H5Dget_create_plist(handle.id)
        defer { H5Pclose(dcpl) }
        guard H5Pget_layout(dcpl) == H5D_CONTIGUOUS, H5Pget_nfilters(dcpl) == 0, H5Pget_external_count(dcpl) == 0 else {
            return nil
        }
        let offset = H5Dget_offset(handle.id)
        guard offset != ferry_haddr_undef(), offset <= UInt64(Int.max) else { return nil }
        let start = Int(offset)
        guard start % elementSize == 0, let size = file.size, start <= size, bytes <= size - start else { return nil }
        return start
    }

    /// Names of the dataset's attributes.
    func attributeNames() throws -> [String] { try HDF5Attributes.names(of: handle.id, file: file, object: path) }

    /// The attribute `name`, or nil when absent.
    func attribute(_ name: String) throws -> HDF5Value? {
        try HDF5Attributes.read(name, of: handle.id, file: file, object: path)
    }

    /// True when the dataset is chunked with at least one filter (e.g. deflate).
    var isFiltered: Bool {
        let dcpl = H5Dget_create_plist(handle.id)
        defer { H5Pclose(dcpl) }
        return H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_nfilters(dcpl) > 0
    }

    static func create(in group: LiveGroup, name: String, tensor: Tensor, compress: Bool) throws -> LiveDataset {
        let file = group.file, path = group.childPath(name)
        // The bytes must be exactly what the shape says: libhdf5 reads shape x element size bytes.
        do { try tensor.validate() } catch let e as IRError {
            throw HDF5Error.invalid(file: file.path, object: path, reason: e.description)
        }
        let dims = tensor.shape.map { hsize_t($0) }
        let space = dims.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(ferry_h5p_dataset_create())
        defer { H5Pclose(dcpl) }
        let count = Tensor.elementCount(of: tensor.shape) ?? 0
        if compress && !dims.isEmpty && count > 0 && tensor.elementType != .string {
            var chunk = chunkShape(tensor.shape, elementBytes: max(1, tensor.elementType.bitWidth / 8))
            H5Pset_chunk(dcpl, Int32(chunk.count), &chunk)
            H5Pset_shuffle(dcpl)
            H5Pset_deflate(dcpl, 4)
        }
        let type: HDF5Handle
        if tensor.elementType == .string {
            let t = H5Tcopy(ferry_h5t_c_s1())
            H5Tset_size(t, ferry_h5t_variable())
            H5Tset_cset(t, H5T_CSET_UTF8)
            type = HDF5Handle(t, close: H5Tclose)
        } else if let t = HDF5TypeMapping.memoryType(for: tensor.elementType) {
            type = t
        } else {
            throw HDF5Error.unsupportedType(
                file: file.path, object: path, type: "\(tensor.elementType.name) has no HDF5 equivalent")
        }
        let id = H5Dcreate2(group.handle.id, name, type.id, space, ferry_h5p_default(), dcpl, ferry_h5p_default())
        let dataset = LiveDataset(
            file: file, path: path, handle: try file.objectHandle(id, close: H5Dclose, object: path, "create dataset"))
        let rc: herr_t
        switch tensor.storage {
        case .bytes(let b):
            rc =
                count == 0
                ? 0
                : b.withUnsafeBytes {
                    H5Dwrite(id, type.id, ferry_h5s_all(), ferry_h5s_all(), ferry_h5p_default(), $0.baseAddress)
                }
        case .strings(let s):
            rc = withCStringArray(s.map { String(decoding: $0, as: UTF8.self) }) { ptrs in
                H5Dwrite(id, type.id, ferry_h5s_all(), ferry_h5s_all(), ferry_h5p_default(), ptrs)
            }
        }
        guard rc >= 0 else { throw file.fail(path, "write dataset") }
        return dataset
    }

    /// Chunks of at most ~1 MiB: the trailing axes whole, leading axes split.
    private static func chunkShape(_ shape: [Int], elementBytes: Int) -> [hsize_t] {
        var chunk = shape.map { max($0, 1) }
        var i = 0
        while chunk.reduce(elementBytes, *) > 1 << 20 && i < chunk.count {
            if chunk[i] > 1 { chunk[i] = (chunk[i] + 1) / 2 } else { i += 1 }
        }
        return chunk.map { hsize_t($0) }
    }
}

/// Calls `body` with a C array of NUL-terminated copies of `strings`.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafeMutableRawPointer) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var ptrs = copies.map { UnsafePointer<CChar>($0) }
    if ptrs.isEmpty { ptrs = [nil] }
    return ptrs.withUnsafeMutableBytes { body($0.baseAddress!) }
}
