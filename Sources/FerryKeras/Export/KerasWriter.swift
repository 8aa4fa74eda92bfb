import FerryHDF5
import FerryIR
import Foundation

extension KerasFile {
    /// The Keras version the written files declare (tf.keras 2.x's legacy layout, which Keras 3 also loads).
    static let writtenKerasVersion = "2.21.0"

    /// Writes `model`'s graph as a legacy full-model `.h5` (config + weights), loadable by
    /// tf.keras and Keras 3 with the same outputs; `compress` stores the weights chunked with
    /// shuffle + deflate. Throws listing the ops that map onto no layer.
    public static func writeLegacy(
        _ model: Model, to path: String, replace: Bool, protectedFiles: [String] = [], compress: Bool = false
    ) throws {
        let exporter = KerasExporter(graph: model.graph, file: path, opset: model.opsetVersion(for: Domain.onnx) ?? 17)
        try exporter.run()
        exporter.layers = kerasOrder(exporter.layers, outputs: exporter.outputLayers)
        let config = try modelConfig(exporter, name: model.graph.name.isEmpty ? "model" : model.graph.name)
        try HDF5File.writeAtomically(path, replace: replace, protectedFiles: protectedFiles) { root in
            try root.setAttribute("backend", .string("tensorflow"))
            try root.setAttribute("keras_version", .string(writtenKerasVersion))
            try root.setAttribute("model_config", .string(config))
            let weights = try root.createGroup("model_weights")
            try weights.setAttribute("backend", .string("tensorflow"))
            try weights.setAttribute("keras_version", .string(writtenKerasVersion))
            try weights.setAttribute("layer_names", .strings(exporter.layers.map(\.name)))
            for layer in exporter.layers {
                let group = try weights.createGroup(layer.name)
                try group.setAttribute("weight_names", .strings(layer.weights.map(\.0)))
                for (name, tensor) in layer.weights {
                    var g = group
                    let parts = name.split(separator: "/").map(String.init)
                    for part in parts.dropLast() { g = try g.groupCreatingIfNeeded(part) }
                    var t = tensor
                    if t.elementType != .float { t = Tensor(elementType: .float, shape: t.shape, values: t.float32Values) }
                    try g.writeDataset(parts.last!, t, compress: compress)
                }
            }
        }
    }

    /// The layers in the order Keras rebuilds `model.layers` (Keras loads legacy weights by
    /// position in that order, not by name): layers are numbered by a depth-first walk from the
    /// outputs, placed at their depth (distance from the outputs), deepest first, and ordered by
    /// that number within a depth. This mirrors Functional's graph mapping in Keras 2 and 3.
    static func kerasOrder(_ layers: [KerasExporter.Layer], outputs: [KerasExporter.Ref]) -> [KerasExporter.Layer] {
        let byName = Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0) })
        var index: [String: Int] = [:], finished = Set<String>(), decreasingDepth: [String] = []
        func visit(_ name: String) {
            if finished.contains(name) { return }
            if index[name] == nil { index[name] = index.count }
            for input in byName[name]?.inputs ?? [] { visit(input.layer) }
            finished.insert(name)
            decreasingDepth.append(name)
        }
        for out in outputs { visit(out.layer) }
        var nodeDepth: [String: Int] = [:], layerDepth: [String: Int] = [:]
        for name in decreasingDepth.reversed() {
            let depth = max(nodeDepth[name] ?? 0, layerDepth[name] ?? 0)
            layerDepth[name] = depth
            nodeDepth[name] = depth
            for input in byName[name]?.inputs ?? [] {
                nodeDepth[input.layer] = max(depth + 1, nodeDepth[input.layer] ?? 0)
            }
        }
        let ordered = layerDepth.keys.sorted { a, b in
            (layerDepth[a]!, -index[a]!) > (layerDepth[b]!, -index[b]!)
        }
        return ordered.compactMap { byName[$0] }
    }

    /// The `model_config` JSON (Functional model, Keras 2 dialect without keys Keras 3 refuses).
    static func modelConfig(_ e: KerasExporter, name: String) throws -> String {
        func refs(_ list: [KerasExporter.Ref]) -> [[Any]] { list.map { [$0.layer, 0, $0.tensor] } }
        let layers: [[String: Any]] = e.layers.map { l in
            [
                "class_name": l.className,
                "config": l.config,
                "name": l.name,
                "inbound_nodes": l.inputs.isEmpty ? [] : [l.inputs.map { [$0.layer, 0, $0.tensor, [String: Any]()] as [Any] }]
            ]
        }
        let object: [String: Any] = [
            "class_name": "Functional",
            "config": [
                "name": name, "layers": layers, "input_layers": refs(e.inputLayers), "output_layers": refs(e.outputLayers)
            ],
            "keras_version": writtenKerasVersion,
            "backend": "tensorflow"
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
