import FerryIR

/// The draws the tests' sweeps take from FerryIR's SplitMix64.
extension SplitMix64 {
    /// Uniform in [-1, 1).
    public mutating func unit() -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) }

    /// Uniform in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }

    public mutating func pick<T>(_ options: [T]) -> T { options[int(0...options.count - 1)] }

    public mutating func bool() -> Bool { next() & 1 == 1 }
}
