import FerryIR

/// Reading the generated schema table: the schema in force at an opset, and the element types it takes.
extension OpsetHistory {
    /// `op`'s schema in force at `opset` (nil when the op does not exist there or is unknown).
    static func schema(_ op: String, at opset: Int64) -> Schema? {
        ops[op]?.schemas.last { $0.since <= opset }
    }

    /// The bit of `type` in a schema's type masks.
    static func bit(_ type: ElementType) -> UInt64 { UInt64(1) << UInt64(type.rawValue) }

    /// True when `op`'s schema at `opset` takes tensors of `type` in one of its inputs or outputs.
    static func takes(_ op: String, _ type: ElementType, at opset: Int64) -> Bool {
        guard let schema = schema(op, at: opset) else { return false }
        return (schema.inputs + schema.outputs).contains { $0 != UInt64.max && $0 & bit(type) != 0 }
    }
}
