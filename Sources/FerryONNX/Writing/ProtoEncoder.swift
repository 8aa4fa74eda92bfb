import CProtobufONNX
import FerryIR

/// Builds libprotobuf-c messages from the IR. Numeric tensors are written as raw_data (or as
/// external data, when `placeExternally` returns a location for them); strings as string_data.
final class ProtoEncoder {
    let arena = ProtoArena()
    /// Decides whether a graph initializer goes to external data; returns its entries if so.
    var placeExternally: (Tensor) throws -> [KeyValue]? = { _ in nil }

    func model(_ m: Model) throws -> UnsafeMutablePointer<Onnx__ModelProto> {
        let graph = try self.graph(m.graph)
        let training = try m.trainingInfo.map(trainingInfo)
        let functions = try m.functions.map(function)
        return arena.message(onnx__model_proto__init) { p in
            if let v = m.irVersion {
                p.pointee.has_ir_version = 1
                p.pointee.ir_version = v
            }
            p.pointee.n_opset_import = m.opsetImports.count
            p.pointee.opset_import = arena.pointers(m.opsetImports.map(opset))
            p.pointee.producer_name = arena.optionalString(m.producerName)
            p.pointee.producer_version = arena.optionalString(m.producerVersion)
            p.pointee.domain = arena.optionalString(m.domain)
            if let v = m.modelVersion {
                p.pointee.has_model_version = 1
                p.pointee.model_version = v
            }
            p.pointee.doc_string = arena.optionalString(m.docString)
            p.pointee.graph = graph
            (p.pointee.n_metadata_props, p.pointee.metadata_props) = keyValues(m.metadata)
            p.pointee.n_training_info = training.count
            p.pointee.training_info = arena.pointers(training)
            p.pointee.n_functions = functions.count
            p.pointee.functions = arena.pointers(functions)
            let configs = m.deviceConfigurations.map(deviceConfiguration)
            p.pointee.n_configuration = configs.count
            p.pointee.configuration = arena.pointers(configs)
        }
    }

    func graph(_ g: Graph) throws -> UnsafeMutablePointer<Onnx__GraphProto> {
        let nodes = try g.nodes.map(node)
        let initializers = try g.initializers.map { t in try tensor(t, external: try placeExternally(t)) }
        let sparse = try g.sparseInitializers.map(sparseTensor)
        return arena.message(onnx__graph_proto__init) { p in
            p.pointee.n_node = nodes.count
            p.pointee.node = arena.pointers(nodes)
            p.pointee.name = arena.optionalString(g.name)
            p.pointee.n_initializer = initializers.count
            p.pointee.initializer = arena.pointers(initializers)
            p.pointee.n_sparse_initializer = sparse.count
            p.pointee.sparse_initializer = arena.pointers(sparse)
            p.pointee.doc_string = arena.optionalString(g.docString)
            let inputs = g.inputs.map(valueInfo), outputs = g.outputs.map(valueInfo), infos = g.valueInfo.map(valueInfo)
            p.pointee.n_input = inputs.count
            p.pointee.input = arena.pointers(inputs)
            p.pointee.n_output = outputs.count
            p.pointee.output = arena.pointers(outputs)
            p.pointee.n_value_info = infos.count
            p.pointee.value_info = arena.pointers(infos)
            let annotations = g.quantizationAnnotations.map { a in
                arena.message(onnx__tensor_annotation__init) { q in
                    q.pointee.tensor_name = arena.optionalString(a.tensorName)
                    (q.pointee.n_quant_parameter_tensor_names, q.pointee.quant_parameter_tensor_names) = keyValues(
                        a.quantParameterTensorNames)
                }
            }
            p.pointee.n_quantization_annotation = annotations.count
            p.pointee.quantization_annotation = arena.pointers(annotations)
            (p.pointee.n_metadata_props, p.pointee.metadata_props) = keyValues(g.metadata)
        }
    }

    func node(_ n: Node) throws -> UnsafeMutablePointer<Onnx__NodeProto> {
        let attributes = try n.attributes.map(attribute)
        return arena.message(onnx__node_proto__init) { p in
            p.pointee.n_input = n.inputs.count
            p.pointee.input = arena.strings(n.inputs)
            p.pointee.n_output = n.outputs.count
            p.pointee.output = arena.strings(n.outputs)
            p.pointee.name = arena.optionalString(n.name)
            p.pointee.op_type = arena.optionalString(n.opType)
            p.pointee.domain = arena.optionalString(n.domain)
            p.pointee.overload = arena.optionalString(n.overload)
            p.pointee.n_attribute = attributes.count
            p.pointee.attribute = arena.pointers(attributes)
            p.pointee.doc_string = arena.optionalString(n.docString)
            (p.pointee.n_metadata_props, p.pointee.metadata_props) = keyValues(n.metadata)
            let configs = n.deviceConfigurations.map(nodeDeviceConfiguration)
            p.pointee.n_device_configurations = configs.count
            p.pointee.device_configurations = arena.pointers(configs)
        }
    }

    func attribute(_ a: Attribute) throws -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let p = arena.message(onnx__attribute_proto__init)
        p.pointee.name = arena.optionalString(a.name)
        p.pointee.doc_string = arena.optionalString(a.docString)
        p.pointee.has_type = 1
        p.pointee.type = Onnx__AttributeProto__AttributeType(rawValue: numericCast(a.value.kind.rawValue))
        switch a.value {
        case .float(let f):
            p.pointee.has_f = 1
            p.pointee.f = f
        case .int(let i):
            p.pointee.has_i = 1
            p.pointee.i = i
        case .string(let s):
            p.pointee.has_s = 1
            p.pointee.s = arena.binary(s)
        case .tensor(let t): p.pointee.t = try tensor(t, external: nil)
        case .graph(let g): p.pointee.g = try graph(g)
        case .sparseTensor(let s): p.pointee.sparse_tensor = try sparseTensor(s)
        case .typeProto(let t): p.pointee.tp = typeInfo(t)
        case .floats(let v):
            p.pointee.n_floats = v.count
            p.pointee.floats = arena.array(v)
        case .ints(let v):
            p.pointee.n_ints = v.count
            p.pointee.ints = arena.array(v)
        case .strings(let v):
            p.pointee.n_strings = v.count
            p.pointee.strings = arena.array(v.map(arena.binary))
        case .tensors(let v):
            let ts = try v.map { try tensor($0, external: nil) }
            p.pointee.n_tensors = ts.count
            p.pointee.tensors = arena.pointers(ts)
        case .graphs(let v):
            let gs = try v.map(graph)
            p.pointee.n_graphs = gs.count
            p.pointee.graphs = arena.pointers(gs)
        case .sparseTensors(let v):
            let ss = try v.map(sparseTensor)
            p.pointee.n_sparse_tensors = ss.count
            p.pointee.sparse_tensors = arena.pointers(ss)
        case .typeProtos(let v):
            let ts = v.map(typeInfo)
            p.pointee.n_type_protos = ts.count
            p.pointee.type_protos = arena.pointers(ts)
        case .reference(let name, _):
            p.pointee.ref_attr_name = arena.string(name)
        }
        return p
    }

    func tensor(_ t: Tensor, external: [KeyValue]?) throws -> UnsafeMutablePointer<Onnx__TensorProto> {
        arena.message(onnx__tensor_proto__init) { p in
            let dims = t.shape.map { Int64($0) }
            p.pointee.n_dims = dims.count
            p.pointee.dims = arena.array(dims)
            p.pointee.has_data_type = 1
            p.pointee.data_type = t.elementType.rawValue
            if let s = t.segment {
                p.pointee.segment = arena.message(onnx__tensor_proto__segment__init) { q in
                    q.pointee.has_begin = 1
                    q.pointee.begin = s.begin
                    q.pointee.has_end = 1
                    q.pointee.end = s.end
                }
            }
            p.pointee.name = arena.optionalString(t.name)
            p.pointee.doc_string = arena.optionalString(t.docString)
            switch t.storage {
            case .strings(let s):
                p.pointee.n_string_data = s.count
                p.pointee.string_data = arena.array(s.map(arena.binary))
            case .bytes(let b):
                if let external {
                    (p.pointee.n_external_data, p.pointee.external_data) = keyValues(external)
                    p.pointee.has_data_location = 1
                    p.pointee.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
                } else {
                    p.pointee.has_raw_data = 1
                    p.pointee.raw_data = arena.binary(referencing: b)
                }
            }
            (p.pointee.n_metadata_props, p.pointee.metadata_props) = keyValues(t.metadata)
        }
    }

    func sparseTensor(_ s: SparseTensor) throws -> UnsafeMutablePointer<Onnx__SparseTensorProto> {
        let values = try tensor(s.values, external: nil), indices = try tensor(s.indices, external: nil)
        return arena.message(onnx__sparse_tensor_proto__init) { p in
            p.pointee.values = values
            p.pointee.indices = indices
            let dims = s.shape.map { Int64($0) }
            p.pointee.n_dims = dims.count
            p.pointee.dims = arena.array(dims)
        }
    }

    func valueInfo(_ v: ValueInfo) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        arena.message(onnx__value_info_proto__init) { p in
            p.pointee.name = arena.optionalString(v.name)
            p.pointee.type = v.type.map(typeInfo)
            p.pointee.doc_string = arena.optionalString(v.docString)
            (p.pointee.n_metadata_props, p.pointee.metadata_props) = keyValues(v.metadata)
        }
    }

    func typeInfo(_ t: TypeInfo) -> UnsafeMutablePointer<Onnx__TypeProto> {
        let p = arena.message(onnx__type_proto__init)
        p.pointee.denotation = arena.optionalString(t.denotation)
        switch t.type {
        case .tensor(let e, let shape):
            p.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
            p.pointee.tensor_type = arena.message(onnx__type_proto__tensor__init) { q in
                q.pointee.has_elem_type = 1
                q.pointee.elem_type = e.rawValue
                q.pointee.shape = shape.map(self.shape)
            }
        case .sparseTensor(let e, let shape):
            p.pointee.value_case = ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE
            p.pointee.sparse_tensor_type = arena.message(onnx__type_proto__sparse_tensor__init) { q in
                q.pointee.has_elem_type = 1
                q.pointee.elem_type = e.rawValue
                q.pointee.shape = shape.map(self.shape)
            }
        case .sequence(let elem):
            p.pointee.value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE
            p.pointee.sequence_type = arena.message(onnx__type_proto__sequence__init) { q in
                q.pointee.elem_type = elem.map(typeInfo)
            }
        case .map(let key, let value):
            p.pointee.value_case = ONNX__TYPE_PROTO__VALUE_MAP_TYPE
            p.pointee.map_type = arena.message(onnx__type_proto__map__init) { q in
                q.pointee.has_key_type = 1
                q.pointee.key_type = key.rawValue
                q.pointee.value_type = value.map(typeInfo)
            }
        case .optional(let elem):
            p.pointee.value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE
            p.pointee.optional_type = arena.message(onnx__type_proto__optional__init) { q in
                q.pointee.elem_type = elem.map(typeInfo)
            }
        case .opaque(let domain, let name):
            p.pointee.value_case = ONNX__TYPE_PROTO__VALUE_OPAQUE_TYPE
            p.pointee.opaque_type = arena.message(onnx__type_proto__opaque__init) { q in
                q.pointee.domain = arena.optionalString(domain)
                q.pointee.name = arena.optionalString(name)
            }
        case .unspecified:
            break
        }
        return p
    }

    private func shape(_ dims: [Dim]) -> UnsafeMutablePointer<Onnx__TensorShapeProto> {
        let ds = dims.map { d in
            arena.message(onnx__tensor_shape_proto__dimension__init) { q in
                q.pointee.denotation = arena.optionalString(d.denotation)
                switch d.value {
                case .fixed(let n):
                    q.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    q.pointee.dim_value = n
                case .symbol(let s):
                    q.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    q.pointee.dim_param = arena.string(s)
                case .unknown:
                    break
                }
            }
        }
        return arena.message(onnx__tensor_shape_proto__init) { p in
            p.pointee.n_dim = ds.count
            p.pointee.dim = arena.pointers(ds)
        }
    }

    func function(_ f: Function) throws -> UnsafeMutablePointer<Onnx__FunctionProto> {
        let nodes = try f.nodes.map(node)
        let defaults = try f.attributeDefaults.map(attribute)
        return arena.message(onnx__function_proto__init) { p in
            p.pointee.name = arena.optionalString(f.name)
            p.pointee.n_input = f.inputs.count
            p.pointee.input = arena.strings(f.inputs)
            p.pointee.n_output = f.outputs.count
            p.pointee.output = arena.strings(f.outputs)
            p.pointee.n_attribute = f.attributeNames.count
            p.pointee.attribute = arena.strings(f.attributeNames)
            p.pointee.n_attribute_proto = defaults.count
            p.pointee.attribute_proto = arena.pointers(defaults)
            p.pointee.n_node = nodes.count
            p.pointee.node = arena.pointers(nodes)
            p.pointee.doc_string = arena.optionalString(f.docString)
            p.pointee.n_opset_import = f.opsetImports.count
            p.pointee.opset_import = arena.pointers(f.opsetImports.map(opset))
            p.pointee.domain = arena.optionalString(f.domain)
            p.pointee.overload = arena.optionalString(f.overload)
            let infos = f.valueInfo.map(valueInfo)
            p.pointee.n_value_info = infos.count
            p.pointee.value_info = arena.pointers(infos)
            (p.pointee.n_metadata_props, p.pointee.metadata_props) = keyValues(f.metadata)
        }
    }

    func trainingInfo(_ t: TrainingInfo) throws -> UnsafeMutablePointer<Onnx__TrainingInfoProto> {
        let initialization = try t.initialization.map(graph), algorithm = try t.algorithm.map(graph)
        return arena.message(onnx__training_info_proto__init) { p in
            p.pointee.initialization = initialization
            p.pointee.algorithm = algorithm
            (p.pointee.n_initialization_binding, p.pointee.initialization_binding) = keyValues(t.initializationBinding)
            (p.pointee.n_update_binding, p.pointee.update_binding) = keyValues(t.updateBinding)
        }
    }

    private func opset(_ o: OpsetID) -> UnsafeMutablePointer<Onnx__OperatorSetIdProto> {
        arena.message(onnx__operator_set_id_proto__init) { p in
            p.pointee.domain = arena.string(o.domain)
            p.pointee.has_version = 1
            p.pointee.version = o.version
        }
    }

    private func deviceConfiguration(_ d: DeviceConfiguration) -> UnsafeMutablePointer<Onnx__DeviceConfigurationProto> {
        arena.message(onnx__device_configuration_proto__init) { p in
            p.pointee.name = arena.optionalString(d.name)
            if let n = d.deviceCount {
                p.pointee.has_num_devices = 1
                p.pointee.num_devices = n
            }
            p.pointee.n_device = d.devices.count
            p.pointee.device = arena.strings(d.devices)
        }
    }

    private func nodeDeviceConfiguration(_ d: NodeDeviceConfiguration) -> UnsafeMutablePointer<Onnx__NodeDeviceConfigurationProto>
    {
        let specs = d.shardingSpecs.map { s in
            arena.message(onnx__sharding_spec_proto__init) { q in
                q.pointee.tensor_name = arena.optionalString(s.tensorName)
                q.pointee.n_device = s.devices.count
                q.pointee.device = arena.array(s.devices)
                let maps = s.indexToDeviceGroup.map { e in
                    arena.message(onnx__int_int_list_entry_proto__init) { r in
                        r.pointee.has_key = 1
                        r.pointee.key = e.key
                        r.pointee.n_value = e.value.count
                        r.pointee.value = arena.array(e.value)
                    }
                }
                q.pointee.n_index_to_device_group_map = maps.count
                q.pointee.index_to_device_group_map = arena.pointers(maps)
                let dims = s.shardedDims.map { sd in
                    arena.message(onnx__sharded_dim_proto__init) { r in
                        r.pointee.has_axis = 1
                        r.pointee.axis = sd.axis
                        let simple = sd.simpleShardings.map { ss in
                            arena.message(onnx__simple_sharded_dim_proto__init) { u in
                                switch ss.dim {
                                case .fixed(let n):
                                    u.pointee.dim_case = ONNX__SIMPLE_SHARDED_DIM_PROTO__DIM_DIM_VALUE
                                    u.pointee.dim_value = n
                                case .symbol(let s):
                                    u.pointee.dim_case = ONNX__SIMPLE_SHARDED_DIM_PROTO__DIM_DIM_PARAM
                                    u.pointee.dim_param = arena.string(s)
                                case .unknown: break
                                }
                                if let n = ss.shardCount {
                                    u.pointee.has_num_shards = 1
                                    u.pointee.num_shards = n
                                }
                            }
                        }
                        r.pointee.n_simple_sharding = simple.count
                        r.pointee.simple_sharding = arena.pointers(simple)
                    }
                }
                q.pointee.n_sharded_dim = dims.count
                q.pointee.sharded_dim = arena.pointers(dims)
            }
        }
        return arena.message(onnx__node_device_configuration_proto__init) { p in
            p.pointee.configuration_id = arena.optionalString(d.configurationID)
            p.pointee.n_sharding_spec = specs.count
            p.pointee.sharding_spec = arena.pointers(specs)
            if let s = d.pipelineStage {
                p.pointee.has_pipeline_stage = 1
                p.pointee.pipeline_stage = s
            }
        }
    }

    private func keyValues(_ entries: [KeyValue]) -> (
        Int, UnsafeMutablePointer<UnsafeMutablePointer<Onnx__StringStringEntryProto>?>?
    ) {
        let ps = entries.map { e in
            arena.message(onnx__string_string_entry_proto__init) { p in
                p.pointee.key = arena.string(e.key)
                p.pointee.value = arena.string(e.value)
            }
        }
        return (ps.count, arena.pointers(ps))
    }
}
