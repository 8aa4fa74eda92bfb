import FerryTestSupport
import Foundation
import Testing

/// Models that parse but are damaged, the way a structure-mutating fuzz of `ferry` found them
/// trapping (issue 15 part 5; Fixtures/fuzz/onnx-structure, made by
/// tools/make_structure_reproducers.py): each command now ends in one line naming the node or input
/// at fault, exit 1, and leaves no file behind.
@Suite struct StructureReproducerTests {
    /// Fixture (without .onnx), the command's arguments after the model, a phrase of the error.
    static let cases: [(file: String, arguments: [String], message: String)] = [
        ("a_matmul_no_inputs", ["convert"], "cannot write as Keras: MatMul '': needs 2 input(s)"),
        ("a_relu_no_inputs", ["convert"], "cannot write as Keras: Relu '': needs 1 input(s)"),
        ("a_reshape_one_input", ["convert"], "cannot write as Keras: Reshape '': needs 2 input(s)"),
        ("b_reduce_max_rank1", ["convert"], "cannot write as Keras: ReduceMax '': reduces a rank-1 tensor"),
        ("c_gemm_rows_mismatch", ["convert"], "cannot write as Keras: Gemm '': the weights have 7 rows, the input 36 features"),
        ("d_conv_x_only_batchnorm", ["bench", "--runs", "1"], "node 'conv' (Conv) failed: input 1 (W) is missing"),
        (
            "e_shape_of_huge_dims", ["bench", "--runs", "1"],
            "random input 'h' of shape [2147483648, 2147483648, 2147483648] would not fit"
        ),
        (
            "f_loop_2_62_scan", ["bench", "--runs", "1", "--timeout", "1"],
            "time limit of 1.0 s ran out"
        ),
        ("f_loop_2_62_scan", ["bench", "--runs", "1", "--max-memory", "1M"], "node 'endless' (Loop) failed: in its subgraph")
    ]

    @Test(arguments: 0..<cases.count)
    func theCommandEndsInOneLine(_ i: Int) throws {
        let c = Self.cases[i]
        let dir = try TestSupport.temporaryDirectory()
        let model = TestSupport.fixture("fuzz/onnx-structure/\(c.file).onnx")
        let out = dir + "/out.h5"
        let arguments = c.arguments[0] == "convert" ? ["convert", model, out] : [c.arguments[0], model] + c.arguments.dropFirst()
        let r = try ferry(arguments)
        #expect(r.status == 1, "\(c.file)")
        #expect(r.stderr.contains(c.message), "\(c.file): \(r.stderr)")
        if c.file.hasPrefix("f_") { #expect(r.stderr.hasPrefix("error: node 'endless' (Loop) failed: "), "\(r.stderr)") }
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.filter { $0 == "\n" }.count == 1, "\(c.file): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out), "\(c.file)")
    }

    /// Optimizing Shape of an input declared with dims of 2^31 allocates no tensor of that size.
    @Test func optimizingShapeOfHugeDeclaredDimsSucceeds() throws {
        let dir = try TestSupport.temporaryDirectory()
        let r = try ferry("optimize", TestSupport.fixture("fuzz/onnx-structure/e_shape_of_huge_dims.onnx"), dir + "/o.onnx")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/o.onnx"))
    }
}
