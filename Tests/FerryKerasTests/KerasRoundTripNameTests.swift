import FerryHDF5
import FerryIR
import FerryKeras
import FerryTestSupport
import Foundation
import Testing

/// Keras -> IR -> Keras keeps the names users see: the output layers keep theirs (not `dense_1_1`
/// plus `dense_1_softmax`), and a Sequential classifier keeps every layer's.
@Suite struct KerasRoundTripNameTests {
    private func names(_ path: String) throws -> (layers: [String], outputs: [String]) {
        let text = try #require(try HDF5File.open(path).root.attribute("model_config")?.stringList?.first)
        let config = try #require(
            (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["config"] as? [String: Any])
        let layers = (config["layers"] as? [[String: Any]] ?? []).compactMap {
            ($0["config"] as? [String: Any])?["name"] as? String
        }
        let outputs = (config["output_layers"] as? [[Any]])?.compactMap { $0.first as? String } ?? [layers.last ?? ""]
        return (layers, outputs)
    }

    @Test(arguments: ["mnist_cnn", "multi_io", "lstm_stack", "activations", "conv2d"])
    func outputLayersKeepTheirNames(fixture: String) throws {
        let original = TestSupport.fixture("keras/\(fixture).h5")
        let dir = try TestSupport.temporaryDirectory()
        try KerasFile.writeLegacy(try KerasFile.importLegacy(try HDF5File.open(original)), to: dir + "/back.h5", replace: false)
        let before = try names(original), after = try names(dir + "/back.h5")
        #expect(after.outputs == before.outputs)
        if fixture == "mnist_cnn" { #expect(after.layers == before.layers) }
    }
}
