import FerryIR

/// Output sizes of the ops that fill large tensors from small inputs, known before they run, so
/// constant folding can refuse them without computing them.
enum FoldSize {
    /// Bytes `node` would write, for ConstantOfShape, Expand and Tile; nil for other ops or when the
    /// inputs do not tell (the fold is then sized after it runs).
    static func outputBytes(_ node: Node, inputs: [Tensor]) -> Int? {
        let byName = Dictionary(inputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func ints(_ i: Int) -> [Int]? {
            guard i < node.inputs.count, let t = byName[node.inputs[i]], let b = t.bytes else { return nil }
            switch t.elementType {
            case .int64: return b.toArray(of: Int64.self).map { Int(clamping: $0) }
            case .int32: return b.toArray(of: Int32.self).map { Int($0) }
            default: return nil
            }
        }
        func bytes(_ dims: [Int], _ type: ElementType) -> Int {
            guard let n = Tensor.elementCount(of: dims.map { max($0, 0) }) else { return .max }
            return type.byteCount(elements: n) ?? .max
        }
        let first = node.inputs.first.flatMap { byName[$0] }
        switch node.opType {
        case "ConstantOfShape":
            guard let shape = ints(0) else { return nil }
            var type = ElementType.float
            if case .tensor(let t)? = node.attribute("value") { type = t.elementType }
            return bytes(shape, type)
        case "Expand":
            guard let x = first, let shape = ints(1) else { return nil }
            let rank = max(x.shape.count, shape.count)
            let a = [Int](repeating: 1, count: rank - x.shape.count) + x.shape
            let b = [Int](repeating: 1, count: rank - shape.count) + shape
            return bytes(zip(a, b).map { max($0, $1) }, x.elementType)
        case "Tile":
            guard let x = first, let repeats = ints(1), repeats.count == x.shape.count else { return nil }
            return bytes(
                zip(x.shape, repeats).map { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }, x.elementType)
        default:
            return nil
        }
    }
}
