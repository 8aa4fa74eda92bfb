import FerryTestSupport
import Foundation
import Testing

/// `ferry diff`: the report on a known edit (tools/make_run_fixtures.py: one bias moved, one value
/// renamed, one attribute written out, one initializer added), the tolerance deciding the exit
/// status, and bad arguments. tools/interop_tools.py checks it against onnxruntime.
@Suite struct DiffCommandTests {
    let a = "Fixtures/onnx/valid/small_cnn.onnx", b = "Fixtures/cli/small_cnn_edited.onnx"
    let input = ["--input", "Fixtures/cli/small_cnn.input.npy"]

    @Test func aKnownEditMatchesGolden() throws {
        let r = try ferry(["diff", a, b] + input)
        #expect(r.status == 1, "\(r.stderr)")
        let golden = try TestSupport.contents(TestSupport.fixture("cli/diff_small_cnn_edited.txt"))
        #expect(r.stdout == String(decoding: golden, as: UTF8.self), "\(r.stdout)")
    }

    @Test func jsonNamesTheFirstValueOverTheToleranceAndHowValuesWereMatched() throws {
        let r = try ferry(["diff", a, b, "--json"] + input)
        #expect(r.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let diff = try #require(json["diff"] as? [String: Any]), numeric = try #require(diff["numeric"] as? [String: Any])
        #expect(diff["equal"] as? Bool == false)
        #expect(diff["initializers_only_in_b"] as? [String] == ["unused"])
        let first = numeric["first_over_tolerance"] as? [String: Any]
        #expect(first?["a"] as? String == "c2" && first?["op"] as? String == "Conv")
        #expect(abs((first?["max_abs_difference"] as? Double ?? 0) - 0.01) < 1e-6)
        #expect(numeric["matched_by_position"] as? Int == 1 && numeric["matched_by_name"] as? Int == 7)
    }

    @Test func aLooserToleranceMakesThemEqual() throws {
        let r = try ferry(["diff", a, b, "--rtol", "0.01"] + input)
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.contains("\nall within the tolerance\n") && r.stdout.hasSuffix("\nequal within the tolerance\n"))
        #expect(try ferry("diff", a, a).stdout.hasSuffix("all within the tolerance\nequal within the tolerance\n"))
    }

    @Test func badArgumentsAndFiles() throws {
        #expect(try ferry("diff", a, b, "--rtol", "-1").status == 2)
        let missing = try ferry("diff", a, "Fixtures/cli/no_such_model.onnx")
        #expect(missing.status == 1 && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains("no_such_model.onnx"))
    }
}
