import FerryHDF5
import FerryIR
import Foundation

extension KerasFile {
    /// The Keras version the written files declare (tf.keras 2.x's legacy layout, which Keras 3 also loads).
    static let writtenKerasVersion = "2.21.0"

    /// Writes `model`'s graph as a legacy full-model `.h5` (config + weights), loadable by
    /// tf.keras and Keras 3 with the same outputs. Throws listing the ops that map onto no layer.
    public static func writeLegacy(_ model: Model, to path: String, replace: Bool, protectedFiles: [String] = []) throws {
        let exporter = KerasExporter(graph: model.graph, file: path)
        try exporter.run()
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
                    if t.elementType != .float { t = Tensor(elementType: .float, shape: t.shape, values: t.floatValues) }
                    try g.writeDataset(parts.last!, t)
                }
            }
        }
    }

    /// The `model_config` JSON (Functional model, Keras 2 dialect without keys Keras 3 refuses).
    static func modelConfig(_ e: KerasExporter, name: String) throws -> String {
        func refs(_ list: [KerasExporter.Ref]) -> [[Any]] { list.map { [$0.layer, 0, $0.tensor] } }
        let layers: [[String: Any]] = e.layers.map { l in
            [
                "class_name": l.className,
                "config": l.config,
                "name": l.name,
                "inbound_nodes": l.inputs.isEmpty ? [] : [l.inputs.map { [$0.layer, 0, $0.tensor, [String: Any]()] as [Any] }],
            ]
        }
        let object: [String: Any] = [
            "class_name": "Functional",
            "config": ["name": name, "layers": layers, "input_layers": refs(e.inputLayers), "output_layers": refs(e.outputLayers)],
            "keras_version": writtenKerasVersion,
            "backend": "tensorflow",
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
