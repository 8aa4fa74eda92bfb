import FerryIR

/// Stores mostly-zero weights as ONNX sparse initializers (`SparseTensorProto`: the nonzero
/// values and their int64 linear indices).
public enum SparseStorage {
    /// Converts each named dense float32 initializer to a sparse initializer when that takes
    /// fewer bytes (4 + 8 bytes per nonzero against 4 per element: under a third nonzero).
    /// Returns the names converted; converts nothing in a model of IR version below 6, which
    /// has no sparse initializers.
    @discardableResult
    public static func convert(_ model: inout Model, names: [String]) -> [String] {
        guard (model.irVersion ?? 0) >= 6 else { return [] }
        var graph = model.graph
        defer { model.graph = graph }
        let wanted = Set(names)
        var converted: [String] = []
        graph.initializers.removeAll { t in
            guard wanted.contains(t.name), let values = t.floatValues else { return false }
            let nonzero = values.indices.filter { values[$0] != 0 }
            guard nonzero.count * 12 < values.count * 4 else { return false }
            let sparse = SparseTensor(
                values: Tensor(name: t.name, floats: nonzero.map { values[$0] }, shape: [nonzero.count]),
                indices: Tensor(name: "", elementType: .int64, shape: [nonzero.count], values: nonzero.map(Int64.init)),
                shape: t.shape)
            graph.sparseInitializers.append(sparse)
            converted.append(t.name)
            return true
        }
        return converted
    }
}
