/// A Keras tensor during conversion. Its shape is Keras's (batch first, channels last, nil for
/// unknown); the IR may hold it channels-last (Keras order), channels-first (N, C, spatial...),
/// or both. Each form is made at most once, by one Transpose, when a consumer first asks for it.
final class KTensor {
    let shape: [Int?]
    var last: String?
    var first: String?
    /// A rank-3 (batch, time, features) tensor held time-major (time, batch, features), as
    /// recurrent ops produce and consume it.
    var timeMajor: String?
    /// A rank-2 tensor holding a channels-first value flattened: Keras feature `i` is at column
    /// `flatOrder[i]` (lets Flatten feed Dense without a Transpose, by permuting Dense's rows).
    var flatPermuted: (name: String, order: [Int])?
    /// The output of a TimeDistributed layer kept with its time steps folded into the batch
    /// (batch·steps, ...), in whatever forms the wrapped layer left it: the next TimeDistributed
    /// layer takes it as it is; others unfold it once.
    var folded: (tensor: KTensor, steps: Int)?

    init(shape: [Int?], last: String? = nil, first: String? = nil, timeMajor: String? = nil) {
        self.shape = shape
        self.last = last
        self.first = first
        self.timeMajor = timeMajor
    }

    var rank: Int { shape.count }

    /// Keras axis `a` of a rank-`rank` tensor as an axis of the channels-first form.
    static func firstAxis(_ a: Int, rank: Int) -> Int {
        a == 0 ? 0 : (a == rank - 1 ? 1 : a + 1)
    }

    /// The permutation from channels-last to channels-first, and back.
    static func toFirst(rank: Int) -> [Int] { [0, rank - 1] + Array(1..<(rank - 1)) }
    static func toLast(rank: Int) -> [Int] { [0] + Array(2..<rank) + [1] }
}
