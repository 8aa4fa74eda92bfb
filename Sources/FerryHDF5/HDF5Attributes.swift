import CHDF5
import FerryIR

/// Attribute reading and writing shared by groups and datasets.
enum HDF5Attributes {
    static func names(of object: hid_t, file: LiveFile, object path: String) throws -> [String] {
        let n = H5Aget_num_attrs(object)
        guard n >= 0 else { throw file.fail(path, "list attributes") }
        var out: [String] = []
        for i in 0..<Int(n) {
            let size = H5Aget_name_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), nil, 0, ferry_h5p_default())
            guard size >= 0 else { throw file.fail(path, "list attributes") }
            var buf = [CChar](repeating: 0, count: Int(size) + 1)
            _ = H5Aget_name_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), &buf, buf.count, ferry_h5p_default())
            out.append(String(cString: buf))
        }
        return out
    }

    static func read(_ name: String, of object: hid_t, file: LiveFile, object path: String) throws -> HDF5Value? {
        let part = "\(path) attribute '\(name)'"
        let exists = H5Aexists(object, name)
        guard exists >= 0 else { throw file.fail(part, "look up") }
        guard exists > 0 else { return nil }
        let attr = H5Aopen(object, name, ferry_h5p_default())
        guard attr >= 0 else { throw file.fail(part, "open") }
        defer { H5Aclose(attr) }
        let ftype = H5Aget_type(attr), space = H5Aget_space(attr)
        defer {
            H5Tclose(ftype)
            H5Sclose(space)
        }
        let rank = H5Sget_simple_extent_ndims(space)
        let count = Int(H5Sget_simple_extent_npoints(space))
        guard rank >= 0, count >= 0 else { throw file.fail(part, "read shape") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        H5Sget_simple_extent_dims(space, &dims, nil)
        if H5Tget_class(ftype) == H5T_STRING {
            guard let strings = readStrings(fileType: ftype, count: count, read: { mem, buf in H5Aread(attr, mem, buf) }) else {
                throw file.fail(part, "read")
            }
            return rank == 0 ? .string(strings.first ?? "") : .strings(strings)
        }
        guard let mapping = HDF5TypeMapping.forFile(ftype), mapping.element != .string else {
            throw HDF5Error.unsupportedType(file: file.path, object: part, type: HDF5TypeMapping.describe(ftype))
        }
        let shape = dims.map { Int($0) }
        var data = TensorBytes(zeroed: mapping.element.byteCount(elements: count) ?? 0)
        if count > 0 {
            let rc = data.withUnsafeMutableBytes { H5Aread(attr, mapping.memory.id, $0.baseAddress) }
            guard rc >= 0 else { throw file.fail(part, "read") }
        }
        return .tensor(Tensor(name: name, elementType: mapping.element, shape: shape, storage: .bytes(data)))
    }

    /// Writes `value`: one string as a scalar variable-length UTF-8 string, a list of strings as
    /// a fixed-length, NUL-padded array (the forms h5py and Keras write), tensors natively.
    static func write(_ name: String, _ value: HDF5Value, on object: hid_t, file: LiveFile, object path: String) throws {
        let part = "\(path) attribute '\(name)'"
        if H5Aexists(object, name) > 0 { H5Adelete(object, name) }
        let type: HDF5Handle, space: HDF5Handle
        switch value {
        case .string:
            let t = H5Tcopy(ferry_h5t_c_s1())
            H5Tset_size(t, ferry_h5t_variable())
            H5Tset_cset(t, H5T_CSET_UTF8)
            type = HDF5Handle(t, close: H5Tclose)
            space = HDF5Handle(H5Screate(H5S_SCALAR), close: H5Sclose)
        case .strings(let list):
            let width = max(1, list.map(\.utf8.count).max() ?? 1)
            let t = H5Tcopy(ferry_h5t_c_s1())
            H5Tset_size(t, width)
            H5Tset_strpad(t, H5T_STR_NULLPAD)
            type = HDF5Handle(t, close: H5Tclose)
            var d = [hsize_t(list.count)]
            space = HDF5Handle(H5Screate_simple(1, &d, nil), close: H5Sclose)
        case .tensor(let t):
            guard let mt = HDF5TypeMapping.memoryType(for: t.elementType) else {
                throw HDF5Error.unsupportedType(
                    file: file.path, object: part, type: "\(t.elementType.name) has no HDF5 equivalent")
            }
            type = mt
            var d = t.shape.map { hsize_t($0) }
            space = HDF5Handle(d.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(d.count), &d, nil), close: H5Sclose)
        }
        let attr = H5Acreate2(object, name, type.id, space.id, ferry_h5p_default(), ferry_h5p_default())
        guard attr >= 0 else { throw file.fail(part, "create") }
        defer { H5Aclose(attr) }
        let rc: herr_t
        switch value {
        case .string(let s):
            rc = withCStringArray([s]) { H5Awrite(attr, type.id, $0) }
        case .strings(let list):
            let width = H5Tget_size(type.id)
            var buf = [UInt8](repeating: 0, count: max(1, width * list.count))
            for (i, s) in list.enumerated() {
                for (j, b) in s.utf8.enumerated() { buf[i * width + j] = b }
            }
            rc = H5Awrite(attr, type.id, buf)
        case .tensor(let t):
            rc = t.bytes?.withUnsafeBytes { H5Awrite(attr, type.id, $0.baseAddress) } ?? -1
        }
        guard rc >= 0 else { throw file.fail(part, "write") }
    }
}
