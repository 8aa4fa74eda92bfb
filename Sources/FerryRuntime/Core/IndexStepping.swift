/// Moves `index` to the next position in row-major order over the first `count` axes of `shape`
/// (the last of them fastest), wrapping to all zeros after the last position.
@inline(__always)
func stepIndex(_ index: inout [Int], within shape: [Int], axes count: Int) {
    var d = count - 1
    while d >= 0 {
        index[d] += 1
        if index[d] < shape[d] { return }
        index[d] = 0
        d -= 1
    }
}
