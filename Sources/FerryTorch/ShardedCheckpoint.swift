import FerryIR
import Foundation

/// Hugging Face's sharded checkpoints: `pytorch_model.bin.index.json` maps each tensor name to the
/// shard holding it (`"weight_map"`). The shards must be plain file names in the index's folder
/// (no path, no `..`): the index names them, the user named the index.
enum ShardedCheckpoint {
    static func read(_ path: String, key: String?) throws -> TorchCheckpoint {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw TorchError.malformed(file: path, part: "index", reason: "not valid JSON")
        }
        guard let index = object as? [String: Any], let map = index["weight_map"] as? [String: Any] else {
            throw TorchError.malformed(file: path, part: "index", reason: "no \"weight_map\" object")
        }
        var shardOf: [String: String] = [:]
        for (name, value) in map {
            guard let shard = value as? String, !shard.isEmpty, !shard.contains("/"), !shard.contains("\\"), shard != ".",
                shard != ".."
            else {
                throw TorchError.refused(
                    file: path, part: "weight_map '\(name)'", reason: "the shard must be a file name in the index's folder")
            }
            shardOf[name] = shard
        }
        let folder = splitPath(path).directory
        var tensors: [Tensor] = [], entries: [KeyValue] = [], files: [String] = []
        for shard in Set(shardOf.values).sorted() {
            let shardPath = folder.isEmpty ? shard : folder + "/" + shard
            let part = try TorchCheckpoint.read(shardPath, key: key)
            files.append(shardPath)
            for t in part.tensors {
                guard shardOf[t.name] == shard else {
                    throw TorchError.malformed(
                        file: shardPath, part: "tensor '\(t.name)'",
                        reason: "the index maps it to \(shardOf[t.name] ?? "no shard")")
                }
                tensors.append(t)
            }
            entries += part.entries.filter { $0.key.hasPrefix(TiedTensors.aliasPrefix) }
        }
        let found = Set(tensors.map(\.name))
        if let missing = shardOf.keys.sorted().first(where: { !found.contains($0) }) {
            throw TorchError.malformed(file: path, part: "tensor '\(missing)'", reason: "not in \(shardOf[missing]!)")
        }
        entries.insert(KeyValue(TorchCheckpoint.sourceEntry, "\(files.count) shard(s) of the index"), at: 0)
        return TorchCheckpoint(tensors: tensors, entries: entries, files: files)
    }
}
