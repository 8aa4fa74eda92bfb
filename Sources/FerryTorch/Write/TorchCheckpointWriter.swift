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
        // A tie holds when the alias has its target's type, shape and bytes; the target is stored first.
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func tied(_ t: Tensor) -> Tensor? {
            guard let target = aliases[t.name].flatMap({ byName[$0] }), aliases[target.name] == nil,
                target.elementType == t.elementType, target.shape == t.shape, target.bytes == t.bytes
            else { return nil }
            return target
        }
        for t in tensors where tied(t) == nil {
            keyOf[t.name] = storages.count
            storages.append(t)
        }
        for t in tensors { if let target = tied(t) { keyOf[t.name] = keyOf[target.name] } }
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
            }
            try zip.add("archive/version", Array("3\n".utf8))
            try zip.finish()
            try out.commit()
        } catch let e as FileError {
            throw TorchError.io(e)
        }
    }
}
