import FerryIR

extension InferenceSession {
    /// Runs `model` once on `feeds` and returns every main-graph value it computes by name: the
    /// inputs fed and each node output (as if each were a graph output, so fusions that would hide
    /// one do not happen). For tools that look inside a run: shape inference, model diffs.
    public static func everyValue(of model: Model, feeds: [String: Tensor], options: SessionOptions = SessionOptions())
        throws -> [String: Tensor]
    {
        var exposed = model
        var seen = Set(model.graph.outputs.map(\.name))
        exposed.graph.outputs += model.graph.nodes.flatMap(\.outputs).filter { !$0.isEmpty && seen.insert($0).inserted }.map {
            ValueInfo(name: $0, type: nil)
        }
        var values = feeds
        for (name, tensor) in try InferenceSession(model: exposed, options: options).run(feeds) { values[name] = tensor }
        return values
    }
}
