import FerryIR

/// What the quantizer does to a float model before choosing what to quantize: weights held by
/// Constant nodes become initializers (so Conv/Gemm/MatMul weights are recognised).
enum QuantizationPreparation {
    static func prepare(_ model: Model, notes: inout [String]) throws -> Model {
        var m = model
        var moved = 0
        m.graph.nodes = m.graph.nodes.filter { n in
            guard n.isONNX("Constant"), n.outputs.count == 1, case .tensor(var t)? = n.attribute("value") else { return true }
            t.name = n.outputs[0]
            m.graph.initializers.append(t)
            moved += 1
            return false
        }
        if moved > 0 { notes.append("\(moved) Constant node(s) stored as initializers") }
        return m
    }
}
