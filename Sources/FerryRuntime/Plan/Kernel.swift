import FerryIR

/// A node made ready to run: attributes parsed and constant inputs prepared once, at plan time.
protocol Kernel: AnyObject {
    /// Computes the node's outputs (nil for optional outputs it does not produce).
    func run(_ inputs: [Value?], _ ctx: ExecutionContext) throws -> [Value?]

    /// Constant inputs the kernel copied into its own form at plan time (packed weights): the plan
    /// passes nil for them and keeps them only if another node reads them.
    var prepackedInputs: Set<Int> { get }
}

extension Kernel {
    var prepackedInputs: Set<Int> { [] }
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
