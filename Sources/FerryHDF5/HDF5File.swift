import FerryIR

/// How libhdf5 reads a file.
public struct HDF5Reading: Sendable {
    /// In the reader helper process (`HDF5ReaderProcess`), under limits of CPU time and memory and
    /// unable to write files: a damaged or hostile file that makes libhdf5 fault or loop ends in an
    /// error naming the file, never in this process working on corrupted memory.
    public static let helperProcess = HDF5Reading(inHelper: true)
    /// In this process: for trusted files only (a damaged file can crash it or make it hang).
    public static let inProcess = HDF5Reading(inHelper: false)

    /// Read in the helper process.
    public var inHelper: Bool
    /// Wall-clock limit on the helper's reading, in seconds; nil: 10 s plus 1 s per 50 MB of file.
    public var timeoutSeconds: Double?

    /// The time limit for reading a file of `bytes`.
    func timeout(forFileOf bytes: Int) -> Double { timeoutSeconds ?? 10 + Double(bytes) / 50e6 }

    public init(inHelper: Bool, timeoutSeconds: Double? = nil) {
        self.inHelper = inHelper
        self.timeoutSeconds = timeoutSeconds
    }
}

/// An HDF5 file opened for reading: its groups, attributes and datasets as libhdf5 read them when
/// it was opened (in the reader helper process by default, see `HDF5Reading`). Reading never
/// follows external links, external raw storage or virtual datasets unless `allowExternal` is set:
/// such data would come from other files. Files are written with `writeAtomically`.
public final class HDF5File {
    /// The path as given (used in messages).
    public let path: String
    /// Follow external links, external storage and virtual datasets.
    public let allowExternal: Bool
    /// Other files data was read from (with `allowExternal`): external link targets and external
    /// raw storage files, as paths next to this file. Writers must never replace these.
    public var externalFiles: [String] { snapshot.externalFiles }
    let snapshot: HDF5Snapshot
    /// The bytes placed data lies in: the in-memory image, or the file mapped when first needed.
    private let image: TensorBuffer?
    private lazy var mapped: Result<MappedFile, FileError> = Result { try MappedFile(path: path) }.mapError {
        $0 as? FileError ?? .system(path: path, operation: "mmap", errno: 0)
    }

    private init(path: String, allowExternal: Bool, snapshot: HDF5Snapshot, image: TensorBuffer?) {
        self.path = path
        self.allowExternal = allowExternal
        self.snapshot = snapshot
        self.image = image
    }

    /// Opens an existing file and reads it.
    public static func open(_ path: String, allowExternal: Bool = false, reading: HDF5Reading = .helperProcess) throws
        -> HDF5File
    {
        let snapshot =
            reading.inHelper
            ? try HDF5ReaderProcess.read(path: path, image: nil, allowExternal: allowExternal, reading: reading)
            : try HDF5Snapshot.walk(try LiveFile.open(path, allowExternal: allowExternal), placing: false)
        return HDF5File(path: path, allowExternal: allowExternal, snapshot: snapshot, image: nil)
    }

    /// Reads an HDF5 file held in memory (e.g. a member of a `.keras` archive); `path` names it in
    /// messages. Data stored as it is becomes views of `image`.
    public static func open(image: TensorBuffer, path: String, reading: HDF5Reading = .helperProcess) throws -> HDF5File {
        let snapshot =
            reading.inHelper
            ? try HDF5ReaderProcess.read(path: path, image: image, allowExternal: false, reading: reading)
            : try HDF5Snapshot.walk(try LiveFile.open(image: image, path: path), placing: false)
        return HDF5File(path: path, allowExternal: false, snapshot: snapshot, image: image)
    }

    /// Takes `reply` as the reader helper's answer for the file at `path` (placed data is viewed in
    /// that file): the parent's side of the helper protocol alone, which ferry-fuzz's `hdf5-reply`
    /// target feeds damaged replies (a helper that parsed a hostile file may send anything).
    @_spi(Fuzzing) public static func open(reply: TensorBuffer, path: String) throws -> HDF5File {
        HDF5File(path: path, allowExternal: false, snapshot: try HDF5SnapshotCoding.decode(reply, file: path), image: nil)
    }

    /// The root group.
    public var root: HDF5Group {
        get throws {
            guard !snapshot.nodes.isEmpty else { throw HDF5Error.invalid(file: path, object: "/", reason: "no root group") }
            return HDF5Group(file: self, path: "/", node: 0)
        }
    }

    /// The tensor of a dataset's data: placed bytes become a view of the file (or image), which
    /// must hold them.
    func tensor(_ data: HDF5Snapshot.DatasetData, object: String) throws -> Tensor {
        switch data {
        case .tensor(let t):
            return t
        case .placed(let offset, let type, let shape):
            guard let count = Tensor.elementCount(of: shape), let bytes = type.byteCount(elements: count) else {
                throw HDF5Error.invalid(file: path, object: object, reason: "shape \(shape) is too large")
            }
            var file: MappedFile?
            if image == nil {
                switch mapped {
                case .success(let f): file = f
                case .failure(let e): throw HDF5Error.io(e)
                }
            }
            guard let view = storedBytesView(image: image, mapped: file, offset: offset, count: bytes) else {
                throw outside(object, offset, bytes)
            }
            return Tensor(name: "", elementType: type, shape: shape, storage: .bytes(view))
        }
    }

    private func outside(_ object: String, _ offset: Int, _ bytes: Int) -> HDF5Error {
        .invalid(
            file: path, object: object, reason: "data at \(offset)+\(bytes) lies outside the file (it changed while being read?)")
    }

    func attributeNames(of node: Int) throws -> [String] { try snapshot.nodes[node].attributes.get().map(\.name) }

    func attribute(_ name: String, of node: Int) throws -> HDF5Value? {
        try snapshot.nodes[node].attributes.get().first { $0.name == name }?.value.get()
    }
}
