import FerryIR
import FerryRuntime
import Testing

/// Concat and Split move every byte to its place with 1 and 2 threads: along an outer axis of one
/// image (few rows, each input's block copied in pieces by the threads), and along the last axis
/// (many short rows).
@Suite struct ConcatSplitTests {
    /// Inputs of `shapes` (values numbering their elements, distinct per input) joined along
    /// `axis`, then cut back into pieces of the same sizes: each piece equals its input.
    private func roundTrip(_ shapes: [[Int]], axis: Int) {
        var g = KernelGraph()
        var inputs: [HostTensor] = []
        for (k, shape) in shapes.enumerated() {
            let count = shape.reduce(1, *)
            let t = HostTensor(shape, (0..<count).map { Float(k * 1_000_000 + $0) })
            inputs.append(t)
            g.input("x\(k)", t)
        }
        g.node("Concat", shapes.indices.map { "x\($0)" }, ["joined"], [attr("axis", axis)])
        g.initializers.append(
            Tensor(name: "sizes", elementType: .int64, shape: [shapes.count], values: shapes.map { Int64($0[axis]) }))
        g.node("Split", ["joined", "sizes"], shapes.indices.map { "y\($0)" }, [attr("axis", axis)])
        g.outputs = ["joined"] + shapes.indices.map { "y\($0)" }
        // The joined tensor, element by element from the ONNX definition.
        var joinedShape = shapes[0]
        joinedShape[axis] = shapes.map { $0[axis] }.reduce(0, +)
        let outer = shapes[0][..<axis].reduce(1, *), inner = shapes[0][(axis + 1)...].reduce(1, *)
        var joined: [Float] = []
        for o in 0..<outer {
            for t in inputs {
                let row = t.shape[axis] * inner
                joined += t.data[(o * row)..<((o + 1) * row)]
            }
        }
        for threads in [1, 2] {
            do {
                let out = try g.run(threads: threads)
                #expect(out[0].shape == joinedShape && out[0].data == joined, "Concat \(shapes) axis \(axis) threads=\(threads)")
                for (k, t) in inputs.enumerated() {
                    #expect(out[k + 1].shape == t.shape && out[k + 1].data == t.data, "Split piece \(k) threads=\(threads)")
                }
            } catch {
                Issue.record("\(shapes) axis \(axis) threads=\(threads): \(error)")
            }
        }
    }

    @Test func channelsOfOneImage() {
        // blocks of 1.3 MB, 0.65 MB and 120 KB: several 64 KB pieces each, the last one short
        roundTrip([[1, 32, 80, 128], [1, 16, 80, 128], [1, 3, 80, 128]], axis: 1)
        roundTrip([[1, 3, 100, 217], [1, 5, 100, 217]], axis: 1)
    }

    @Test func manyShortRows() {
        roundTrip([[6, 40, 3], [6, 40, 5], [6, 40, 1]], axis: 2)
    }
}
