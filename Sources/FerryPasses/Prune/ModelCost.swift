import FerryIR

/// Size and compute of a model: parameter counts and the multiply-adds of its Conv,
/// ConvTranspose, Gemm and MatMul nodes.
public struct ModelCost: Equatable, Sendable, Encodable {
    /// Elements of all floating-point initializers (dense and sparse, counted at their dense size).
    public var parameters: Int
    /// Of those, the elements that are not zero.
    public var nonzeroParameters: Int
    /// Multiply-adds of one run on the declared input shapes (symbolic sizes as 1); nil when
    /// the model could not be run to learn its shapes.
    public var multiplyAdds: Int?

    /// Counts the parameters of `graph` and, given the shapes of its values, its multiply-adds.
    public init(_ graph: Graph, shapes: [String: [Int]]?) {
        let floating: Set<ElementType> = [.float, .double, .float16, .bfloat16]
        parameters = 0
        nonzeroParameters = 0
        for t in graph.initializers where floating.contains(t.elementType) {
            parameters += t.storedElementCount
            nonzeroParameters += t.floatValues.map { $0.reduce(0) { $1 != 0 ? $0 + 1 : $0 } } ?? t.storedElementCount
        }
        for s in graph.sparseInitializers where floating.contains(s.values.elementType) {
            parameters += Tensor.elementCount(of: s.shape) ?? 0
            nonzeroParameters +=
                s.values.floatValues.map { $0.reduce(0) { $1 != 0 ? $0 + 1 : $0 } } ?? s.values.storedElementCount
        }
        multiplyAdds = shapes.map { shapes in graph.nodes.reduce(0) { $0 + (ModelCost.multiplyAdds($1, shapes) ?? 0) } }
    }

    /// Multiply-adds of one Conv, ConvTranspose, Gemm or MatMul node (nil for other ops or
    /// unknown shapes).
    public static func multiplyAdds(_ n: Node, _ shapes: [String: [Int]]) -> Int? {
        guard n.isDefaultDomain, n.inputs.count >= 2,
            let a = shapes[n.inputs[0]], let b = shapes[n.inputs[1]], let y = n.outputs.first.flatMap({ shapes[$0] })
        else { return nil }
        func product(_ dims: ArraySlice<Int>) -> Int { dims.reduce(1, *) }
        switch n.opType {
        case "Conv":
            // Each output element sums (input channels / group) x kernel products.
            return product(y[...]) * product(b.dropFirst())
        case "ConvTranspose":
            // Each input element is spread over (output channels / group) x kernel outputs.
            return product(a[...]) * product(b.dropFirst())
        case "Gemm":
            guard a.count == 2 else { return nil }
            return product(y[...]) * (n.int("transA", 0) == 0 ? a[1] : a[0])
        case "MatMul":
            guard let k = a.last else { return nil }
            return product(y[...]) * k
        default:
            return nil
        }
    }
}
