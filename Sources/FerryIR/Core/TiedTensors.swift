/// Tied weights: one tensor under several names (a language model's embedding and output layer).
/// Model metadata records each tie as `ferry.alias.NAME` -> `OTHER` (NAME holds OTHER's elements);
/// writers store a tie once (a shared storage, or NAME left out with the record kept), readers of
/// files without shared storage restore NAME as a copy of OTHER.
public enum TiedTensors {
    /// The prefix of the metadata keys recording ties.
    public static let aliasPrefix = "ferry.alias."

    /// NAME -> OTHER for every alias entry of `metadata`.
    public static func aliases(in metadata: [KeyValue]) -> [String: String] {
        Dictionary(
            metadata.filter { $0.key.hasPrefix(aliasPrefix) }.map { (String($0.key.dropFirst(aliasPrefix.count)), $0.value) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The ties of `aliases` that hold in `tensors`: NAME -> OTHER where both are present, OTHER is
    /// not itself an alias, and NAME has OTHER's type, shape and bytes (a tensor changed since the
    /// record was made is not tied).
    public static func ties(in tensors: [Tensor], aliases: [String: String]) -> [String: String] {
        guard !aliases.isEmpty else { return [:] }
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var out: [String: String] = [:]
        for (name, other) in aliases where other != name && aliases[other] == nil {
            guard let t = byName[name], let o = byName[other], t.segment == nil, o.segment == nil,
                t.elementType == o.elementType, t.shape == o.shape, t.storage == o.storage
            else { continue }
            out[name] = other
        }
        return out
    }

    /// `tensors` without the names tied to another by `metadata`'s records.
    public static func withoutCopies(_ tensors: [Tensor], metadata: [KeyValue]) -> [Tensor] {
        let tied = ties(in: tensors, aliases: aliases(in: metadata))
        return tied.isEmpty ? tensors : tensors.filter { tied[$0.name] == nil }
    }

    /// `tensors` with every name `metadata` records as an alias, and they lack, restored as a copy
    /// of the tensor it names.
    public static func restored(_ tensors: [Tensor], metadata: [KeyValue]) -> [Tensor] {
        let aliases = aliases(in: metadata)
        guard !aliases.isEmpty else { return tensors }
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var out = tensors
        for (name, other) in aliases.sorted(by: { $0.key < $1.key }) where byName[name] == nil && aliases[other] == nil {
            guard var t = byName[other] else { continue }
            t.name = name
            out.append(t)
        }
        return out
    }
}
