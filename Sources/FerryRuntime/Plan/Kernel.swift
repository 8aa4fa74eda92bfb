import FerryIR

/// A node made ready to run: attributes parsed and constant inputs prepared once, at plan time.
protocol Kernel: AnyObject {
    /// Computes the node's outputs (nil for optional outputs it does not produce).
    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?]
}

/// A kernel whose whole work is one closure over its inputs.
final class FunctionKernel: Kernel {
    private let body: ([Value?], ExecutionContext) throws -> [Value?]

    init(_ body: @escaping ([Value?], ExecutionContext) throws -> [Value?]) { self.body = body }

    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?] { try body(inputs, ctx) }
}

extension Array where Element == Value? {
    /// Input `i`, which the op requires.
    func required(_ i: Int, _ what: String = "") throws -> Value {
        guard i < count, let v = self[i] else {
            throw KernelError.invalid("input \(i)\(what.isEmpty ? "" : " (\(what))") is missing")
        }
        return v
    }

    /// Input `i` when it is given.
    func optional(_ i: Int) -> Value? { i < count ? self[i] : nil }
}
