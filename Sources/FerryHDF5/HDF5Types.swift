import CHDF5
import FerryIR

/// A value read from or written to an attribute: a numeric tensor, one string, or a list of strings.
public enum HDF5Value: Equatable {
    case tensor(Tensor)
    case string(String)
    case strings([String])

    /// The strings of a string or string-list value (nil for numeric values, except that an
    /// empty numeric array counts as an empty list, as Keras writes empty name lists).
    public var stringList: [String]? {
        switch self {
        case .string(let s): return [s]
        case .strings(let l): return l
        case .tensor(let t): return Tensor.elementCount(of: t.shape) == 0 ? [] : nil
        }
    }
}

/// How HDF5 stores one of Ferry's element types: the file type and the memory type reads and
/// writes convert through (libhdf5 converts byte order and width between them).
struct HDF5TypeMapping {
    let element: ElementType
    let memory: HDF5Handle

    /// The mapping for a file datatype, or nil when no tensor type matches.
    static func forFile(_ type: hid_t) -> HDF5TypeMapping? {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) != H5T_SGN_NONE
            let e: ElementType
            switch (size, signed) {
            case (1, true): e = .int8
            case (1, false): e = .uint8
            case (2, true): e = .int16
            case (2, false): e = .uint16
            case (4, true): e = .int32
            case (4, false): e = .uint32
            case (8, true): e = .int64
            case (8, false): e = .uint64
            default: return nil
            }
            return HDF5TypeMapping(element: e, memory: memoryType(for: e)!)
        case H5T_FLOAT:
            var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
            H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize)
            switch (size, esize, msize) {
            case (2, 5, 10): return HDF5TypeMapping(element: .float16, memory: memoryType(for: .float16)!)
            case (2, 8, 7): return HDF5TypeMapping(element: .bfloat16, memory: memoryType(for: .bfloat16)!)
            case (4, _, _): return HDF5TypeMapping(element: .float, memory: memoryType(for: .float)!)
            case (8, _, _): return HDF5TypeMapping(element: .double, memory: memoryType(for: .double)!)
            default: return nil
            }
        case H5T_ENUM:
            // h5py stores numpy bools as an int8 enum {FALSE = 0, TRUE = 1}.
            guard size == 1, H5Tget_nmembers(type) == 2,
                let a = H5Tget_member_name(type, 0), let b = H5Tget_member_name(type, 1)
            else { return nil }
            defer {
                H5free_memory(a)
                H5free_memory(b)
            }
            guard String(cString: a) == "FALSE", String(cString: b) == "TRUE" else { return nil }
            return HDF5TypeMapping(element: .bool, memory: memoryType(for: .bool)!)
        case H5T_STRING:
            return HDF5TypeMapping(element: .string, memory: HDF5Handle(H5Tcopy(ferry_h5t_c_s1()), close: H5Tclose))
        default:
            return nil
        }
    }

    /// The memory (and file) type Ferry uses for `element`, or nil when HDF5 has none.
    static func memoryType(for element: ElementType) -> HDF5Handle? {
        func shared(_ id: hid_t) -> HDF5Handle { HDF5Handle(id, close: { _ in 0 }) }
        switch element {
        case .int8: return shared(ferry_h5t_native_int8())
        case .uint8: return shared(ferry_h5t_native_uint8())
        case .int16: return shared(ferry_h5t_native_int16())
        case .uint16: return shared(ferry_h5t_native_uint16())
        case .int32: return shared(ferry_h5t_native_int32())
        case .uint32: return shared(ferry_h5t_native_uint32())
        case .int64: return shared(ferry_h5t_native_int64())
        case .uint64: return shared(ferry_h5t_native_uint64())
        case .float: return shared(ferry_h5t_native_float())
        case .double: return shared(ferry_h5t_native_double())
        case .float16: return HDF5Handle(ferry_h5t_float16(), close: H5Tclose)
        case .bfloat16:
            let t = H5Tcopy(ferry_h5t_ieee_f32le())
            H5Tset_fields(t, 15, 7, 8, 0, 7)
            H5Tset_size(t, 2)
            H5Tset_ebias(t, 127)
            return HDF5Handle(t, close: H5Tclose)
        case .bool:
            let t = H5Tenum_create(ferry_h5t_native_int8())
            var f: Int8 = 0, tr: Int8 = 1
            H5Tenum_insert(t, "FALSE", &f)
            H5Tenum_insert(t, "TRUE", &tr)
            return HDF5Handle(t, close: H5Tclose)
        default:
            return nil
        }
    }

    /// A short description of a file type for error messages.
    static func describe(_ type: hid_t) -> String {
        let names: [H5T_class_t: String] = [
            H5T_INTEGER: "integer", H5T_FLOAT: "float", H5T_STRING: "string",
            H5T_BITFIELD: "bitfield", H5T_OPAQUE: "opaque", H5T_COMPOUND: "compound",
            H5T_REFERENCE: "reference", H5T_ENUM: "enum", H5T_VLEN: "variable-length",
            H5T_ARRAY: "array"
        ]
        return "\(names[H5Tget_class(type)] ?? "unknown class") of \(H5Tget_size(type)) bytes"
    }
}

/// Reads string data (fixed or variable length) of `count` elements through `read`.
func readStrings(fileType: hid_t, count: Int, read: (hid_t, UnsafeMutableRawPointer) -> herr_t) -> [String]? {
    if H5Tis_variable_str(fileType) > 0 {
        let mem = H5Tcopy(ferry_h5t_c_s1())
        defer { H5Tclose(mem) }
        H5Tset_size(mem, ferry_h5t_variable())
        H5Tset_cset(mem, H5Tget_cset(fileType))
        var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: max(count, 1))
        guard ptrs.withUnsafeMutableBytes({ read(mem, $0.baseAddress!) }) >= 0 else { return nil }
        defer { for p in ptrs { if let p { H5free_memory(p) } } }
        return ptrs.prefix(count).map { $0.map { String(cString: $0) } ?? "" }
    }
    let size = H5Tget_size(fileType)
    guard size > 0 else { return nil }
    let mem = H5Tcopy(fileType)
    defer { H5Tclose(mem) }
    var buf = [UInt8](repeating: 0, count: size * max(count, 1))
    guard buf.withUnsafeMutableBytes({ read(mem, $0.baseAddress!) }) >= 0 else { return nil }
    let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
    return (0..<count).map { i in
        var bytes = buf[(i * size)..<((i + 1) * size)]
        if let nul = bytes.firstIndex(of: 0) { bytes = bytes[..<nul] }
        if spacePadded { while bytes.last == 0x20 { bytes = bytes.dropLast() } }
        return String(decoding: bytes, as: UTF8.self)
    }
}
