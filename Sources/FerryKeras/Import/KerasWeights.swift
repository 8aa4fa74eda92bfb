import FerryHDF5
import FerryIR

/// Where a model's weights come from, by layer path (outer model layer first, then the layers of
/// nested models): the legacy Keras 2 layout or Keras 3's `layers/<key>/vars`.
protocol KerasWeightStore {
    /// The layer's weights in `layer.get_weights()` order (empty for layers without weights).
    func weights(for path: [String]) throws -> [Tensor]
}

/// No weights at all (a config read on its own).
struct NoWeights: KerasWeightStore {
    func weights(for path: [String]) throws -> [Tensor] { [] }
}

/// Keras 2 / tf.keras files: `<root>/<layer>/@weight_names` and datasets named by them; a nested
/// model's group lists the weights of all its layers, each prefixed with the inner layer's name.
struct LegacyWeightStore: KerasWeightStore {
    let root: HDF5Group

    func weights(for path: [String]) throws -> [Tensor] {
        guard let top = path.first, root.contains(top) else { return [] }
        let group = try root.group(top)
        var names = try weightNames(group)
        if path.count > 1 { names = names.filter { LegacyWeightStore.name($0, belongsTo: path) } }
        return try names.map { name in try group.dataset(name).read(name: name) }
    }

    /// Whether a weight listed by the top-level group of `path` (models, then the layer) is one of
    /// the layer's: tf.keras names it "<layer>/<variable>", Keras 3's legacy writer puts some of
    /// the nested models' names first ("<model>/<layer>/<variable>").
    static func name(_ name: String, belongsTo path: [String]) -> Bool {
        guard let layer = path.last else { return false }
        var parts = name.split(separator: "/").map(String.init)[...]
        var models = path.dropLast()[...]
        while parts.count > 2, let first = parts.first, let k = models.firstIndex(of: first) {
            parts = parts.dropFirst()
            models = models[(k + 1)...]
        }
        return parts.count > 1 && parts.first == layer
    }

    private func weightNames(_ group: HDF5Group) throws -> [String] {
        if let list = try group.attribute("weight_names")?.stringList { return list }
        // Long lists are split into weight_names0, weight_names1, ...
        var names: [String] = []
        var k = 0
        while let chunk = try group.attribute("weight_names\(k)")?.stringList {
            names += chunk
            k += 1
        }
        return names
    }
}

/// Keras 3 `.weights.h5` (also inside `.keras` archives): `layers/<key>/vars/0..n`, where `<key>`
/// is derived from the class and `vars@name` holds the layer's name; recurrent cells, wrapped
/// layers and Bidirectional halves sit in sub-groups, nested models under `layers/<key>/layers`.
struct Keras3WeightStore: KerasWeightStore {
    let root: HDF5Group
    /// Per `layers` group already listed (by path): layer name -> member key.
    private let index = LayerIndex()

    init(root: HDF5Group) { self.root = root }

    func weights(for path: [String]) throws -> [Tensor] {
        var group = root
        for name in path {
            guard let found = try layerGroup(named: name, in: group) else { return [] }
            group = found
        }
        return try collect(group)
    }

    /// The layer groups of one `layers` group by layer name, read once per file.
    private final class LayerIndex {
        var keys: [String: [String: String]] = [:]
    }

    /// The group under `parent/layers` whose `vars@name` is `name`.
    private func layerGroup(named name: String, in parent: HDF5Group) throws -> HDF5Group? {
        guard parent.contains("layers") else { return nil }
        let layers = try parent.group("layers")
        if index.keys[layers.path] == nil {
            var keys: [String: String] = [:]
            for member in try layers.members() where member.kind == .group {
                let g = try layers.group(member.name)
                if g.contains("vars"), let names = try g.group("vars").attribute("name")?.stringList, names.count == 1,
                    keys[names[0]] == nil
                {
                    keys[names[0]] = member.name
                }
            }
            index.keys[layers.path] = keys
        }
        return try index.keys[layers.path]?[name].map { try layers.group($0) }
    }

    /// Own variables first, then those of the cell, forward/backward halves and wrapped layer.
    private func collect(_ group: HDF5Group, depth: Int = 0) throws -> [Tensor] {
        guard depth < 8 else {
            throw HDF5Error.invalid(
                file: group.file.path, object: group.path, reason: "layer groups nest deeper than any Keras layer (a link cycle?)"
            )
        }
        var out: [Tensor] = []
        if group.contains("vars") {
            let vars = try group.group("vars")
            let indices = try vars.members().filter { $0.kind == .dataset }.compactMap { Int($0.name) }.sorted()
            for i in indices { out.append(try vars.dataset(String(i)).read(name: "\(group.path)/vars/\(i)")) }
        }
        for sub in ["cell", "forward_layer", "backward_layer", "layer"] where group.contains(sub) {
            out += try collect(try group.group(sub), depth: depth + 1)
        }
        return out
    }
}
