import FerryIR

/// How close a quantized model's outputs are to the float model's over a set of samples: the
/// mean cosine similarity per sample row and the share of rows keeping their top-1 class.
struct OutputAgreement {
    var cosine: Double
    var top1: Double?
    /// Rows compared.
    var rows: Int

    /// Compares the first output of `reference` and `candidate` runs on `samples`, row by row along
    /// the first axis (a row is the output's share of one entry of the samples' first axis).
    static func measure(reference: [[Float]], candidate: [[Float]], samples: [[String: Tensor]], classAxisIsLast: Bool)
        -> OutputAgreement
    {
        let batch = samples.first?.values.first?.shape.first ?? 1
        let rowLength = max(1, (reference.first?.count ?? 1) / max(batch, 1))
        var cosines = 0.0, rows = 0, same = 0
        for (a, b) in zip(reference, candidate) {
            var start = 0
            while start + rowLength <= a.count && start + rowLength <= b.count {
                let x = a[start..<(start + rowLength)], y = b[start..<(start + rowLength)]
                cosines += ErrorMeasures.cosine(x, y)
                if classAxisIsLast,
                    x.indices.max(by: { x[$0] < x[$1] }).map({ $0 - start })
                        == y.indices.max(by: { y[$0] < y[$1] }).map({ $0 - start })
                {
                    same += 1
                }
                rows += 1
                start += rowLength
            }
        }
        guard rows > 0 else { return OutputAgreement(cosine: 1, top1: nil, rows: 0) }
        return OutputAgreement(
            cosine: cosines / Double(rows), top1: classAxisIsLast ? Double(same) / Double(rows) : nil, rows: rows)
    }
}
