import CHDF5

/// Owns one libhdf5 identifier and closes it when released.
final class HDF5Handle {
    let id: hid_t
    private let close: (hid_t) -> herr_t
    /// Kept alive until the handle is closed: the file of a group or dataset handle, so a file
    /// opened from memory keeps its image until the last object in it is closed.
    private let owner: AnyObject?

    init(_ id: hid_t, close: @escaping (hid_t) -> herr_t, owner: AnyObject? = nil) {
        ferry_h5_quiet_thread() // a handle used on a new thread: the library stays quiet there too
        self.id = id
        self.close = close
        self.owner = owner
    }

    deinit { _ = close(id) }

    /// A key identifying the object (the same object reached by two paths, or through an external
    /// link from another file, has one key; objects of different files differ).
    var objectKey: UInt64? {
        var key: UInt64 = 0
        return ferry_h5_object_key(id, &key) >= 0 ? key : nil
    }
}

/// Library set-up: libhdf5's own error printing is switched off on every thread that opens or
/// creates a file or makes a handle (its error stack becomes Swift errors instead).
enum HDF5Library {
    private static let ready: Bool = {
        _ = H5open()
        // Never load filter plugins named by a file (they come from HDF5_PLUGIN_PATH, outside the file).
        _ = H5PLset_loading_state(0)
        return true
    }()

    /// The one-time set-up, and quiet error printing on the calling thread.
    static func prepareThread() {
        _ = ready
        ferry_h5_quiet_thread()
    }

    /// The innermost messages of libhdf5's error stack, then clears it.
    static func errorDetail() -> String {
        var buf = [CChar](repeating: 0, count: 512)
        ferry_h5_error_text(&buf, buf.count)
        return String(cString: buf)
    }
}
