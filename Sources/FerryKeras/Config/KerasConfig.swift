import Foundation

/// A reference to one output of one call of a layer: (layer name, call index, output index).
struct KerasTensorRef: Hashable {
    var layer: String
    var node: Int
    var tensor: Int
}

/// One layer of a model configuration, in either dialect (Keras 2 or Keras 3).
struct KerasLayerSpec {
    let className: String
    let name: String
    let config: [String: Any]
    /// For each call of the layer, the tensors it was called on.
    let calls: [[KerasTensorRef]]
    /// For each call, its keyword arguments (e.g. `approximate` of a wrapped TF op); Keras 3
    /// calls also list their positional arguments under `positionalArguments`.
    var callKwargs: [[String: Any]] = []
    /// The Python module of the class (Keras 3 configs), e.g. keras.src.ops.numpy for `x + 3`.
    var module: String?

    /// True for a layer that is itself a model (nested Sequential/Functional).
    var isModel: Bool { ["Sequential", "Functional", "Model"].contains(className) }

    /// A Keras 3 operation recorded as a layer (`x + 3` is keras.src.ops.numpy's Add): its module
    /// says so, or, in legacy .h5 configs that omit modules, a config without the `trainable` and
    /// `dtype` every layer writes.
    var isOperation: Bool {
        if let module { return module.hasPrefix("keras.src.ops") }
        return !isModel && config["trainable"] == nil && config["dtype"] == nil
    }

    /// The key of its converter: operations are "ops.<class>", apart from the layers of the same
    /// class names (Add, Multiply, ...).
    var converterKey: String { (isOperation ? "ops." : "") + className }

    /// Where Keras 3 records a call's positional arguments: tensors as `KerasCallTensor`, numbers as they are.
    static let positionalArguments = "__positional_arguments__"
}

/// A model configuration: its layers and, for functional models, the graph's inputs and outputs.
struct KerasModelSpec {
    let className: String
    let name: String
    let layers: [KerasLayerSpec]
    let inputs: [KerasTensorRef]
    let outputs: [KerasTensorRef]
    /// The whole `config` object (for nested models and input shapes).
    let config: [String: Any]

    var isSequential: Bool { className == "Sequential" }

    /// Parses `{"class_name": ..., "config": {...}}` in either dialect.
    init(json object: Any) throws {
        guard let top = object as? [String: Any], let className = top["class_name"] as? String else {
            throw KerasConfigError("expected an object with class_name and config")
        }
        // Old Sequential configs are the bare list of layers.
        let config = top["config"] as? [String: Any] ?? ["layers": top["config"] as? [Any] ?? []]
        guard ["Sequential", "Functional", "Model"].contains(className) else {
            throw KerasConfigError("top-level class \(className) is not a model")
        }
        self.className = className
        self.config = config
        name = config["name"] as? String ?? className.lowercased()
        guard let rawLayers = config["layers"] as? [[String: Any]] else { throw KerasConfigError("config has no layers") }
        layers = try rawLayers.map(KerasModelSpec.layer)
        inputs = try KerasModelSpec.refs(config["input_layers"])
        outputs = try KerasModelSpec.refs(config["output_layers"])
    }

    private static func layer(_ l: [String: Any]) throws -> KerasLayerSpec {
        guard let className = l["class_name"] as? String else { throw KerasConfigError("a layer has no class_name") }
        let config = l["config"] as? [String: Any] ?? [:]
        guard let name = (l["name"] as? String) ?? (config["name"] as? String) else {
            throw KerasConfigError("a \(className) layer has no name")
        }
        var calls: [[KerasTensorRef]] = []
        var kwargs: [[String: Any]] = []
        for node in l["inbound_nodes"] as? [Any] ?? [] {
            if var list = node as? [Any] {
                // Keras 2: [[layer, node, tensor, kwargs], ...]; TF op layers use one bare [layer, node, tensor, kwargs].
                if list.first is String { list = [list] }
                var callArgs: [String: Any] = [:]
                var refs = try list.map { entry in
                    guard let e = entry as? [Any], e.count >= 3, let layer = e[0] as? String,
                        let n = e[1] as? Int, let t = e[2] as? Int
                    else {
                        throw KerasConfigError("layer \(name): malformed inbound node")
                    }
                    if e.count > 3, let extra = e[3] as? [String: Any] { callArgs.merge(extra) { a, _ in a } }
                    return KerasTensorRef(layer: layer, node: n, tensor: t)
                }
                // TFOpLambda's tensor keyword arguments ([layer, node, tensor], e.g. the y of x + y)
                // become inputs of the call too.
                for (key, value) in callArgs where className == "TFOpLambda" {
                    if let e = value as? [Any], e.count == 3, let layer = e[0] as? String, let n = e[1] as? Int,
                        let t = e[2] as? Int
                    {
                        callArgs[key] = KerasCallTensor(index: refs.count)
                        refs.append(KerasTensorRef(layer: layer, node: n, tensor: t))
                    }
                }
                calls.append(refs)
                kwargs.append(callArgs)
            } else if let dict = node as? [String: Any] {
                // Keras 3: {"args": [...keras tensors, possibly nested in lists...], "kwargs": {...}}
                var refs: [KerasTensorRef] = []
                var positional: [Any] = []
                for arg in dict["args"] as? [Any] ?? [] {
                    let before = refs.count
                    collectKerasTensors(arg, into: &refs)
                    positional.append(refs.count == before + 1 && !(arg is [Any]) ? KerasCallTensor(index: before) : arg)
                }
                calls.append(refs)
                var callArgs = dict["kwargs"] as? [String: Any] ?? [:]
                callArgs[KerasLayerSpec.positionalArguments] = positional
                kwargs.append(callArgs)
            }
        }
        var spec = KerasLayerSpec(className: className, name: name, config: config, calls: calls)
        spec.callKwargs = kwargs
        spec.module = l["module"] as? String
        return spec
    }

    /// Keras 3 serialises call arguments as nested lists and `__keras_tensor__` objects.
    private static func collectKerasTensors(_ any: Any?, into refs: inout [KerasTensorRef]) {
        if let list = any as? [Any] {
            for item in list { collectKerasTensors(item, into: &refs) }
        } else if let dict = any as? [String: Any] {
            if dict["class_name"] as? String == "__keras_tensor__",
                let config = dict["config"] as? [String: Any], let history = config["keras_history"] as? [Any],
                history.count >= 3, let layer = history[0] as? String, let n = history[1] as? Int, let t = history[2] as? Int
            {
                refs.append(KerasTensorRef(layer: layer, node: n, tensor: t))
            }
        }
    }

    /// `input_layers` / `output_layers`: a list of [name, node, tensor] (or one flat triple).
    private static func refs(_ any: Any?) throws -> [KerasTensorRef] {
        guard let list = any as? [Any] else { return [] }
        if list.count == 3, let name = list[0] as? String, let n = list[1] as? Int, let t = list[2] as? Int {
            return [KerasTensorRef(layer: name, node: n, tensor: t)]
        }
        return try list.map { item in
            guard let e = item as? [Any], e.count >= 3, let name = e[0] as? String, let n = e[1] as? Int, let t = e[2] as? Int
            else {
                throw KerasConfigError("malformed input_layers/output_layers entry")
            }
            return KerasTensorRef(layer: name, node: n, tensor: t)
        }
    }
}

/// A problem in the configuration JSON (wrapped into `KerasError.invalidConfig` with the file).
struct KerasConfigError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Typed access to a layer's `config` dictionary.
struct LayerConfig {
    let dict: [String: Any]

    func string(_ key: String) -> String? { dict[key] as? String }
    func int(_ key: String) -> Int? { (dict[key] as? NSNumber)?.intValue }
    func double(_ key: String) -> Double? { (dict[key] as? NSNumber)?.doubleValue }
    func bool(_ key: String) -> Bool? { dict[key] as? Bool }
    func ints(_ key: String) -> [Int]? {
        if let n = int(key) { return [n] }
        return (dict[key] as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue }
    }
    /// A shape list whose entries may be null (unknown).
    func shape(_ key: String) -> [Int?]? {
        (dict[key] as? [Any])?.map { ($0 as? NSNumber)?.intValue }
    }
    /// An activation name, from a string or a serialised activation object.
    func activation(_ key: String = "activation") -> String? {
        if let s = dict[key] as? String { return s }
        if let d = dict[key] as? [String: Any] {
            return (d["config"] as? String) ?? ((d["config"] as? [String: Any])?["name"] as? String)
                ?? (d["class_name"] as? String)
        }
        return nil
    }
}

/// JSON numbers as Foundation decodes them.
typealias NSNumberLike = NSNumber
