/// The sum of p[0..<n] in eight lanes (a single running sum waits on each addition in turn).
func laneSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        lanes += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var s = lanes.sum()
    while i < n {
        s += p[i]
        i += 1
    }
    return s
}
