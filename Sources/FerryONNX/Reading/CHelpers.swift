import CProtobufONNX

/// A C string field as a Swift string ("" when absent).
@inline(__always) func text(_ p: UnsafeMutablePointer<CChar>?) -> String {
    guard let p else { return "" }
    return String(cString: p)
}

/// A repeated message field as a buffer of non-null pointers.
@inline(__always) func items<T>(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) -> [UnsafeMutablePointer<T>] {
    guard n > 0, let p else { return [] }
    return UnsafeBufferPointer(start: p, count: n).compactMap { $0 }
}

/// A repeated scalar field as an array.
@inline(__always) func values<T>(_ n: Int, _ p: UnsafeMutablePointer<T>?) -> [T] {
    guard n > 0, let p else { return [] }
    return Array(UnsafeBufferPointer(start: p, count: n))
}

/// A repeated string field as an array of Swift strings.
@inline(__always) func strings(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
    guard n > 0, let p else { return [] }
    return UnsafeBufferPointer(start: p, count: n).map { text($0) }
}

/// A bytes field as an array.
@inline(__always) func byteArray(_ b: ProtobufCBinaryData) -> [UInt8] {
    guard b.len > 0, let d = b.data else { return [] }
    return Array(UnsafeBufferPointer(start: d, count: b.len))
}
