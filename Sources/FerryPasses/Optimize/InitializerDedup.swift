import FerryIR

/// Makes readers of identical initializers (same element type, shape and bytes) read one of them;
/// the others are then unread and removed. Initializers a caller may override (see
/// `Model.overridableInitializers`), graph outputs and values nested graphs capture keep their
/// readers.
public struct InitializerDedup: OptimizationPass {
    public init() {}

    public var name: String { "dedup-initializers" }

    /// What identical tensors share; tensors with the same key are compared byte by byte.
    private struct Key: Hashable {
        let type: ElementType
        let shape: [Int]
        let digest: Int
    }

    public func apply(to model: inout Model) throws -> Int {
        let overridable = model.overridableInitializers
        let keep = model.graph.capturedValues.union(model.graph.outputs.map(\.name))
        let read = Set(model.graph.nodes.flatMap(\.inputs))
        var kept: [Key: [Tensor]] = [:]
        var count = 0
        for t in model.graph.initializers where !overridable.contains(t.name) && t.segment == nil && read.contains(t.name) {
            guard let bytes = t.bytes else { continue }
            var hasher = Hasher()
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
            let key = Key(type: t.elementType, shape: t.shape, digest: hasher.finalize())
            if !keep.contains(t.name), let same = kept[key]?.first(where: { $0.bytes == bytes }) {
                model.graph.replaceReads(of: t.name, with: same.name)
                count += 1
            } else {
                kept[key, default: []].append(t)
            }
        }
        return count
    }
}
