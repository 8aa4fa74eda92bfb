import FerryIR

/// Writes tensors as a PyTorch zip checkpoint that `torch.load(path, weights_only=True)` loads:
/// an OrderedDict of tensors pickled (protocol 2) with only the names torch's weights-only
/// unpickler allows (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, storage
/// classes), each storage a stored member aligned to 64 bytes as torch aligns them, ZIP64 records
/// where sizes or offsets pass 4 GiB. Tensors named in `aliases` (name -> the tensor it ties to)
/// share that tensor's storage, as tied weights do in torch.
public enum TorchCheckpointWriter {
    public static func write(
        _ tensors: [Tensor], aliases: [String: String] = [:], to path: String, replace: Bool, protectedFiles: [String] = []
    ) throws {
        let storageNames = Dictionary(uniqueKeysWithValues: TorchRebuild.storageTypes.map { ($1, $0) })
        var keyOf: [String: Int] = [:] // tensor name -> storage key
        var storages: [Tensor] = []
        var seen = Set<String>()
        for t in tensors {
            guard seen.insert(t.name).inserted else {
                throw TorchError.refused(file: path, part: "tensor '\(t.name)'", reason: "two tensors have this name")
            }
            guard storageNames[t.elementType] != nil, t.bytes != nil, t.segment == nil else {
                throw TorchError.refused(
                    file: path, part: "tensor '\(t.name)'", reason: "PyTorch has no storage type for \(t.elementType.name)")
            }
        }
        // A tied name shares the storage of the tensor it names.
        let tied = TiedTensors.ties(in: tensors, aliases: aliases)
        for t in tensors where tied[t.name] == nil {
            keyOf[t.name] = storages.count
            storages.append(t)
        }
        for (name, target) in tied { keyOf[name] = keyOf[target] }
        var pickle = PickleWriter()
        pickle.dictionary(
            of: tensors.map { t in
                (
                    t.name,
                    { (p: inout PickleWriter) in
                        p.tensor(
                            storageType: storageNames[t.elementType]!, key: keyOf[t.name]!, count: t.storedElementCount,
                            shape: t.shape)
                    }
                )
            })
        if let id = fileIdentity(path), protectedFiles.contains(where: { fileIdentity($0) == id }) {
            throw TorchError.io(.outputIsInput(path: path))
        }
        do {
            let out = try AtomicFile(path: path, replace: replace)
            var zip = ZipWriter(out)
            try zip.add("archive/data.pkl", pickle.bytes)
            try zip.add("archive/byteorder", Array("little".utf8))
            for (key, t) in storages.enumerated() {
                try t.bytes!.withUnsafeBytes { try zip.add("archive/data/\(key)", [$0], alignment: 64) }
                Progress.report("writing tensors", done: key + 1, total: storages.count)
            }
            try zip.add("archive/version", Array("3\n".utf8))
            try zip.finish()
            try out.commit()
        } catch let e as FileError {
            throw TorchError.io(e)
        }
    }
}
