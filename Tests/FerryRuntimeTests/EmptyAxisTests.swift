import FerryIR
import FerryRuntime
import Testing

/// Ops on tensors with an empty axis beside the one they work along give empty outputs of the
/// right shape (the structure fuzz found ArgMax dividing by zero on [3, 4, 0] along axis 1).
@Suite struct EmptyAxisTests {
    @Test(arguments: ["ArgMax", "ArgMin"], [([3, 4, 0], [3, 1, 0]), ([0, 4, 3], [0, 1, 3])])
    func argExtremesAlongAFullAxisOfAnEmptyTensor(op: String, shapes: ([Int], [Int])) throws {
        var g = KernelGraph()
        g.input("x", HostTensor(shapes.0, []))
        g.node(op, ["x"], ["y"], [Attribute("axis", .int(1))])
        g.outputs = ["y"]
        let out = try g.run()
        #expect(out[0].shape == shapes.1 && out[0].data.isEmpty)
    }
}
