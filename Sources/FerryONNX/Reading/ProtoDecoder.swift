import CProtobufONNX
import FerryIR

/// Turns libprotobuf-c's decoded messages into IR values; `file` names the model in errors and
/// `external` reads the tensors it stores outside.
struct ProtoDecoder {
    let file: String
    let external: ExternalDataReader

    func model(_ m: UnsafeMutablePointer<Onnx__ModelProto>) throws -> Model {
        let p = m.pointee
        return Model(
            irVersion: p.has_ir_version != 0 ? p.ir_version : nil,
            opsetImports: items(p.n_opset_import, p.opset_import).map(opset),
            producerName: text(p.producer_name),
            producerVersion: text(p.producer_version),
            domain: text(p.domain),
            modelVersion: p.has_model_version != 0 ? p.model_version : nil,
            docString: text(p.doc_string),
            graph: try p.graph.map { try graph($0) } ?? Graph(),
            metadata: keyValues(p.n_metadata_props, p.metadata_props),
            trainingInfo: try items(p.n_training_info, p.training_info).map(trainingInfo),
            functions: try items(p.n_functions, p.functions).map(function),
            deviceConfigurations: items(p.n_configuration, p.configuration).map(deviceConfiguration))
    }

    func graph(_ g: UnsafeMutablePointer<Onnx__GraphProto>) throws -> Graph {
        let p = g.pointee
        return Graph(
            name: text(p.name),
            nodes: try items(p.n_node, p.node).map(node),
            initializers: try items(p.n_initializer, p.initializer).map(tensor),
            sparseInitializers: try items(p.n_sparse_initializer, p.sparse_initializer).map(sparseTensor),
            inputs: try items(p.n_input, p.input).map(valueInfo),
            outputs: try items(p.n_output, p.output).map(valueInfo),
            valueInfo: try items(p.n_value_info, p.value_info).map(valueInfo),
            quantizationAnnotations: items(p.n_quantization_annotation, p.quantization_annotation).map {
                TensorAnnotation(
                    tensorName: text($0.pointee.tensor_name),
                    quantParameterTensorNames: keyValues(
                        $0.pointee.n_quant_parameter_tensor_names, $0.pointee.quant_parameter_tensor_names))
            },
            docString: text(p.doc_string),
            metadata: keyValues(p.n_metadata_props, p.metadata_props))
    }

    func node(_ n: UnsafeMutablePointer<Onnx__NodeProto>) throws -> Node {
        let p = n.pointee
        let name = text(p.name), opType = text(p.op_type)
        return Node(
            opType: opType,
            domain: text(p.domain),
            name: name,
            inputs: strings(p.n_input, p.input),
            outputs: strings(p.n_output, p.output),
            attributes: try items(p.n_attribute, p.attribute).map { try attribute($0, owner: "node '\(name)' (\(opType))") },
            docString: text(p.doc_string),
            overload: text(p.overload),
            metadata: keyValues(p.n_metadata_props, p.metadata_props),
            deviceConfigurations: items(p.n_device_configurations, p.device_configurations).map(nodeDeviceConfiguration))
    }

    func attribute(_ a: UnsafeMutablePointer<Onnx__AttributeProto>, owner: String) throws -> Attribute {
        let p = a.pointee
        let name = text(p.name)
        let part = "\(owner) attribute '\(name)'"
        let code = p.has_type != 0 ? Int32(bitPattern: UInt32(truncatingIfNeeded: p.type.rawValue)) : 0
        guard let declared = AttributeKind(rawValue: code) else {
            throw ONNXError.invalidField(file: file, part: part, reason: "unknown attribute type \(code)")
        }
        let kind = declared == .undefined ? inferKind(p) : declared
        let refName = text(p.ref_attr_name)
        if !refName.isEmpty {
            return Attribute(name, .reference(name: refName, kind: kind), docString: text(p.doc_string))
        }
        let value: AttributeValue
        switch kind {
        case .float: value = .float(p.f)
        case .int: value = .int(p.i)
        case .string: value = .string(byteArray(p.s))
        case .tensor:
            guard let t = p.t else { throw missing(part, "t") }
            value = .tensor(try tensor(t))
        case .graph:
            guard let g = p.g else { throw missing(part, "g") }
            value = .graph(try graph(g))
        case .sparseTensor:
            guard let s = p.sparse_tensor else { throw missing(part, "sparse_tensor") }
            value = .sparseTensor(try sparseTensor(s))
        case .typeProto:
            guard let t = p.tp else { throw missing(part, "tp") }
            value = .typeProto(try typeInfo(t, part: part))
        case .floats: value = .floats(values(p.n_floats, p.floats))
        case .ints: value = .ints(values(p.n_ints, p.ints))
        case .strings: value = .strings(values(p.n_strings, p.strings).map(byteArray))
        case .tensors: value = .tensors(try items(p.n_tensors, p.tensors).map(tensor))
        case .graphs: value = .graphs(try items(p.n_graphs, p.graphs).map(graph))
        case .sparseTensors: value = .sparseTensors(try items(p.n_sparse_tensors, p.sparse_tensors).map(sparseTensor))
        case .typeProtos: value = .typeProtos(try items(p.n_type_protos, p.type_protos).map { try typeInfo($0, part: part) })
        case .undefined:
            throw ONNXError.invalidField(file: file, part: part, reason: "attribute has no type and no value")
        }
        return Attribute(name, value, docString: text(p.doc_string))
    }

    /// Files from IR version 1 may omit `type`; the kind follows from the field that is set.
    private func inferKind(_ p: Onnx__AttributeProto) -> AttributeKind {
        if p.has_f != 0 { return .float }
        if p.has_i != 0 { return .int }
        if p.has_s != 0 { return .string }
        if p.t != nil { return .tensor }
        if p.g != nil { return .graph }
        if p.sparse_tensor != nil { return .sparseTensor }
        if p.tp != nil { return .typeProto }
        if p.n_floats > 0 { return .floats }
        if p.n_ints > 0 { return .ints }
        if p.n_strings > 0 { return .strings }
        if p.n_tensors > 0 { return .tensors }
        if p.n_graphs > 0 { return .graphs }
        if p.n_sparse_tensors > 0 { return .sparseTensors }
        if p.n_type_protos > 0 { return .typeProtos }
        return .undefined
    }

    private func missing(_ part: String, _ field: String) -> ONNXError {
        ONNXError.invalidField(file: file, part: part, reason: "declared type needs field '\(field)', which is absent")
    }

    func tensor(_ t: UnsafeMutablePointer<Onnx__TensorProto>) throws -> Tensor {
        try TensorDecoder(file: file, external: external).decode(t)
    }

    func sparseTensor(_ s: UnsafeMutablePointer<Onnx__SparseTensorProto>) throws -> SparseTensor {
        let p = s.pointee
        guard let v = p.values else {
            throw ONNXError.invalidField(file: file, part: "sparse tensor", reason: "has no values tensor")
        }
        let nonzero = try tensor(v)
        guard let i = p.indices else {
            throw ONNXError.invalidField(file: file, part: "sparse tensor '\(nonzero.name)'", reason: "has no indices tensor")
        }
        let shape = try dims(values(p.n_dims, p.dims), file: file, tensor: nonzero.name)
        return SparseTensor(values: nonzero, indices: try tensor(i), shape: shape)
    }

    func valueInfo(_ v: UnsafeMutablePointer<Onnx__ValueInfoProto>) throws -> ValueInfo {
        let p = v.pointee
        let name = text(p.name)
        return ValueInfo(
            name: name, type: try p.type.map { try typeInfo($0, part: "value '\(name)'") },
            docString: text(p.doc_string), metadata: keyValues(p.n_metadata_props, p.metadata_props))
    }

    func typeInfo(_ t: UnsafeMutablePointer<Onnx__TypeProto>, part: String) throws -> TypeInfo {
        let p = t.pointee
        let type: ValueType
        switch p.value_case {
        case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:
            let tt = p.tensor_type.pointee
            type = .tensor(try elementType(tt.has_elem_type != 0 ? tt.elem_type : 0, part: part), shape: tt.shape.map(shape))
        case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
            let tt = p.sparse_tensor_type.pointee
            type = .sparseTensor(
                try elementType(tt.has_elem_type != 0 ? tt.elem_type : 0, part: part), shape: tt.shape.map(shape))
        case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
            type = .sequence(try p.sequence_type.pointee.elem_type.map { try typeInfo($0, part: part) })
        case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
            let mt = p.map_type.pointee
            type = .map(
                key: try elementType(mt.has_key_type != 0 ? mt.key_type : 0, part: part),
                value: try mt.value_type.map { try typeInfo($0, part: part) })
        case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
            type = .optional(try p.optional_type.pointee.elem_type.map { try typeInfo($0, part: part) })
        case ONNX__TYPE_PROTO__VALUE_OPAQUE_TYPE:
            type = .opaque(domain: text(p.opaque_type.pointee.domain), name: text(p.opaque_type.pointee.name))
        default:
            type = .unspecified
        }
        return TypeInfo(type, denotation: text(p.denotation))
    }

    private func elementType(_ code: Int32, part: String) throws -> ElementType {
        guard let e = ElementType(rawValue: code) else {
            throw ONNXError.unknownElementType(file: file, part: part, code: code)
        }
        return e
    }

    /// A dimension from the oneof of a shape or a sharding: its size, its parameter name, or unknown.
    private func dimValue(_ isFixed: Bool, _ size: Int64, _ isSymbol: Bool, _ name: UnsafeMutablePointer<CChar>?) -> DimValue {
        isFixed ? .fixed(size) : isSymbol ? .symbol(text(name)) : .unknown
    }

    private func shape(_ s: UnsafeMutablePointer<Onnx__TensorShapeProto>) -> [Dim] {
        items(s.pointee.n_dim, s.pointee.dim).map { d in
            let p = d.pointee
            let value = dimValue(
                p.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE, p.dim_value,
                p.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM, p.dim_param)
            return Dim(value, denotation: text(p.denotation))
        }
    }

    func function(_ f: UnsafeMutablePointer<Onnx__FunctionProto>) throws -> Function {
        let p = f.pointee
        let name = text(p.name)
        return Function(
            name: name,
            domain: text(p.domain),
            overload: text(p.overload),
            inputs: strings(p.n_input, p.input),
            outputs: strings(p.n_output, p.output),
            attributeNames: strings(p.n_attribute, p.attribute),
            attributeDefaults: try items(p.n_attribute_proto, p.attribute_proto).map {
                try attribute($0, owner: "function '\(name)'")
            },
            nodes: try items(p.n_node, p.node).map(node),
            opsetImports: items(p.n_opset_import, p.opset_import).map(opset),
            valueInfo: try items(p.n_value_info, p.value_info).map(valueInfo),
            docString: text(p.doc_string),
            metadata: keyValues(p.n_metadata_props, p.metadata_props))
    }

    func trainingInfo(_ t: UnsafeMutablePointer<Onnx__TrainingInfoProto>) throws -> TrainingInfo {
        let p = t.pointee
        return TrainingInfo(
            initialization: try p.initialization.map(graph),
            algorithm: try p.algorithm.map(graph),
            initializationBinding: keyValues(p.n_initialization_binding, p.initialization_binding),
            updateBinding: keyValues(p.n_update_binding, p.update_binding))
    }

    private func opset(_ o: UnsafeMutablePointer<Onnx__OperatorSetIdProto>) -> OpsetID {
        OpsetID(domain: text(o.pointee.domain), version: o.pointee.version)
    }

    private func deviceConfiguration(_ d: UnsafeMutablePointer<Onnx__DeviceConfigurationProto>) -> DeviceConfiguration {
        let p = d.pointee
        return DeviceConfiguration(
            name: text(p.name), deviceCount: p.has_num_devices != 0 ? p.num_devices : nil,
            devices: strings(p.n_device, p.device))
    }

    private func nodeDeviceConfiguration(_ d: UnsafeMutablePointer<Onnx__NodeDeviceConfigurationProto>) -> NodeDeviceConfiguration
    {
        let p = d.pointee
        return NodeDeviceConfiguration(
            configurationID: text(p.configuration_id),
            shardingSpecs: items(p.n_sharding_spec, p.sharding_spec).map { s in
                let q = s.pointee
                return ShardingSpec(
                    tensorName: text(q.tensor_name),
                    devices: values(q.n_device, q.device),
                    indexToDeviceGroup: items(q.n_index_to_device_group_map, q.index_to_device_group_map).map {
                        ShardingSpec.IndexToDeviceGroup(key: $0.pointee.key, value: values($0.pointee.n_value, $0.pointee.value))
                    },
                    shardedDims: items(q.n_sharded_dim, q.sharded_dim).map { sd in
                        ShardedDim(
                            axis: sd.pointee.axis,
                            simpleShardings: items(sd.pointee.n_simple_sharding, sd.pointee.simple_sharding).map { ss in
                                let r = ss.pointee
                                let dim = dimValue(
                                    r.dim_case == ONNX__SIMPLE_SHARDED_DIM_PROTO__DIM_DIM_VALUE, r.dim_value,
                                    r.dim_case == ONNX__SIMPLE_SHARDED_DIM_PROTO__DIM_DIM_PARAM, r.dim_param)
                                return ShardedDim.SimpleSharding(dim: dim, shardCount: r.has_num_shards != 0 ? r.num_shards : nil)
                            })
                    })
            },
            pipelineStage: p.has_pipeline_stage != 0 ? p.pipeline_stage : nil)
    }
}

/// Key/value entries of a repeated StringStringEntryProto field.
func keyValues(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__StringStringEntryProto>?>?) -> [KeyValue] {
    items(n, p).map { KeyValue(text($0.pointee.key), text($0.pointee.value)) }
}

/// Checked tensor dimensions: non-negative, with a product that fits in Int.
func dims(_ raw: [Int64], file: String, tensor: String) throws -> [Int] {
    for d in raw where d < 0 {
        throw ONNXError.invalidTensor(file: file, tensor: tensor, reason: "negative dimension \(d) in shape \(raw)")
    }
    let shape = raw.map { Int($0) }
    guard Tensor.elementCount(of: shape) != nil else {
        throw ONNXError.invalidTensor(file: file, tensor: tensor, reason: "element count of shape \(raw) overflows")
    }
    return shape
}
