import FerryIR

/// The dtype names of the safetensors header and the element types they stand for.
enum SafetensorsDType {
    static let byName: [String: ElementType] = [
        "BOOL": .bool, "U8": .uint8, "I8": .int8, "U16": .uint16, "I16": .int16, "U32": .uint32, "I32": .int32,
        "U64": .uint64, "I64": .int64, "F16": .float16, "BF16": .bfloat16, "F32": .float, "F64": .double,
        "F8_E4M3": .float8e4m3fn, "F8_E5M2": .float8e5m2, "F8_E8M0": .float8e8m0
    ]

    static let nameOf: [ElementType: String] = Dictionary(uniqueKeysWithValues: byName.map { ($0.value, $0.key) })
}
