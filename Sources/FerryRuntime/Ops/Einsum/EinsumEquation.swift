/// A parsed Einsum equation. Labels are numbers ordered like NumPy orders subscripts: a letter is its
/// ASCII code, and the dimensions an ellipsis stands for are 128, 129, ... (outermost first, shared
/// right-aligned by all operands, as in broadcasting).
struct EinsumEquation {
    /// Per operand, one label per dimension (a label repeated within an operand means its diagonal).
    let inputs: [[Int]]
    /// The output's labels, in order.
    let output: [Int]

    /// Parses `text` for operands of the given ranks; spaces are ignored.
    init(_ text: String, ranks: [Int]) throws {
        let compact = text.filter { $0 != " " }
        let sides = compact.split(separator: "->", omittingEmptySubsequences: false).map(String.init)
        guard sides.count <= 2 else { throw KernelError.invalid("equation '\(text)' has more than one '->'") }
        let terms = try sides[0].split(separator: ",", omittingEmptySubsequences: false).map {
            try EinsumEquation.term(String($0))
        }
        guard terms.count == ranks.count else {
            throw KernelError.invalid("equation '\(text)' names \(terms.count) operands, the node has \(ranks.count) inputs")
        }
        var ellipsisRank = 0
        for (term, rank) in zip(terms, ranks) {
            let letters = term.filter { $0 >= 0 }.count
            if term.contains(-1) {
                guard rank >= letters else { throw KernelError.invalid("operand of rank \(rank) does not fit '\(text)'") }
                ellipsisRank = max(ellipsisRank, rank - letters)
            } else {
                guard rank == letters else { throw KernelError.invalid("operand of rank \(rank) does not fit '\(text)'") }
            }
        }
        inputs = zip(terms, ranks).map { term, rank in
            let own = rank - term.filter { $0 >= 0 }.count
            return term.flatMap { $0 >= 0 ? [$0] : (0..<own).map { 128 + ellipsisRank - own + $0 } }
        }
        let broadcast = (0..<ellipsisRank).map { 128 + $0 }
        if sides.count == 2 {
            let term = try EinsumEquation.term(sides[1])
            guard term.filter({ $0 == -1 }).count <= 1 else { throw KernelError.invalid("output of '\(text)' has two ellipses") }
            output = term.flatMap { $0 >= 0 ? [$0] : broadcast }
            let all = Set(inputs.joined())
            for l in output where l < 128 && !all.contains(l) {
                throw KernelError.invalid("output label '\(Character(UnicodeScalar(UInt8(l))))' of '\(text)' is in no input")
            }
            guard Set(output).count == output.count else { throw KernelError.invalid("output of '\(text)' repeats a label") }
        } else {
            var counts: [Int: Int] = [:]
            for l in inputs.joined() where l < 128 { counts[l, default: 0] += 1 }
            output = broadcast + counts.filter { $0.value == 1 }.keys.sorted()
        }
    }

    /// A term's letters as ASCII codes, with -1 for an ellipsis.
    private static func term(_ s: String) throws -> [Int] {
        var out: [Int] = []
        var dots = 0
        for c in s.unicodeScalars {
            if c == "." {
                dots += 1
                if dots == 3 {
                    guard !out.contains(-1) else { throw KernelError.invalid("term '\(s)' has two ellipses") }
                    out.append(-1)
                    dots = 0
                }
                continue
            }
            guard dots == 0 else { throw KernelError.invalid("term '\(s)' has a broken ellipsis") }
            guard ("a"..."z").contains(c) || ("A"..."Z").contains(c) else {
                throw KernelError.invalid("term '\(s)' has the character '\(c)' (labels are letters)")
            }
            out.append(Int(c.value))
        }
        guard dots == 0 else { throw KernelError.invalid("term '\(s)' has a broken ellipsis") }
        return out
    }
}
