import FerryIR
import FerryTestSupport
import Foundation
import Testing

@testable import FerryTorch

/// Checkpoints laid out as torch.save writes them (Fixtures/torch, tools/make_torch_fixtures.py):
/// the dict of tensors found, views with offsets and strides materialised, tied weights recorded,
/// the rest described; damaged archives refused with the part at fault.
@Suite struct TorchCheckpointTests {
    func floats(_ t: Tensor) -> [Float] { t.bytes!.toArray(of: Float.self) }
    func tensor(_ c: TorchCheckpoint, _ name: String) -> Tensor? { c.tensors.first { $0.name == name } }
    func entry(_ c: TorchCheckpoint, _ key: String) -> String? { c.entries.first { $0.key == key }?.value }

    @Test(arguments: ["state_dict.pt", "legacy.pt"])
    func stateDictTensorsAreTheStoragesViews(file: String) throws {
        let c = try TorchCheckpoint.read(TestSupport.fixture("torch/" + file))
        #expect(c.tensors.map(\.name) == ["conv.weight", "conv.bias", "fc.weight", "half", "bn.num_batches_tracked"])
        #expect(entry(c, "ferry.tensors_from") == "key 'model'")
        #expect(entry(c, "epoch") == "3" && entry(c, "lr") == "0.1" && entry(c, "tags") == "list of 2")
        let w = try #require(tensor(c, "conv.weight")), b = try #require(tensor(c, "conv.bias"))
        #expect(w.shape == [2, 3] && floats(w) == [0, 1, 2, 3, 4, 5])
        #expect(b.shape == [2] && floats(b) == [6, 7], "offset 6 into the same storage")
        // fc.weight is the transpose view (strides 1, 3) of the first six floats
        let fc = try #require(tensor(c, "fc.weight"))
        #expect(fc.shape == [3, 2] && floats(fc) == [0, 3, 1, 4, 2, 5])
        let half = try #require(tensor(c, "half"))
        #expect(half.elementType == .float16 && half.shape == [2, 2])
        #expect(half.halfFloatValues == [1, -2, 0.5, 65504])
        let n = try #require(tensor(c, "bn.num_batches_tracked"))
        #expect(n.elementType == .int64 && n.shape == [] && n.bytes!.toArray(of: Int64.self) == [7])
    }

    @Test func tiedWeightsAreRecordedAsAliases() throws {
        let c = try TorchCheckpoint.read(TestSupport.fixture("torch/tied.pt"))
        #expect(c.tensors.map(\.name) == ["wte", "lm_head"])
        #expect(entry(c, "ferry.alias.lm_head") == "wte")
        #expect(floats(c.tensors[0]) == floats(c.tensors[1]))
    }

    @Test func aKeyPicksTheEntry() throws {
        #expect(throws: TorchError.self) { try TorchCheckpoint.read(TestSupport.fixture("torch/tied.pt"), key: "optimizer") }
        let c = try TorchCheckpoint.read(TestSupport.fixture("torch/tied.pt"), key: "model")
        #expect(entry(c, "ferry.tensors_from") == "key 'model'")
    }

    @Test func damagedArchivesNameThePartAtFault() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("torch/state_dict.pt")))
        let dir = try TestSupport.temporaryDirectory()
        func message(_ bytes: Data) -> String {
            let path = dir + "/damaged.pt"
            FileManager.default.createFile(atPath: path, contents: bytes)
            do {
                _ = try TorchCheckpoint.read(path)
                return "read"
            } catch let e as TorchError {
                return e.description
            } catch {
                return "\(error)"
            }
        }
        #expect(message(original.prefix(original.count / 2)).contains("end of central directory"))
        #expect(message(Data("not a checkpoint".utf8)).contains("not a PyTorch checkpoint"))
        let legacy = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("torch/legacy.pt")))
        #expect(message(legacy.prefix(legacy.count - 10)).contains("storage '2'"))
        #expect(message(legacy.prefix(legacy.count - 20)).contains("bytes left"))
        // Every byte of the pickle flipped in turn: an error or a read, never a crash.
        let pickleStart = original.range(of: Data("archive/data.pkl".utf8))!.upperBound
        for k in pickleStart..<min(original.count, pickleStart + 400) {
            var b = original
            b[k] ^= 0xFF
            let m = message(b)
            #expect(!m.contains("\n"), "one line: \(m)")
        }
    }
}
