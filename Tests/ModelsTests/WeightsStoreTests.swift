import Foundation
import XCTest
import TestSupport
@testable import Models

/// Architecture detection on synthetic state dicts (shapes only) and on the real files, and the
/// model folder: where it is, import, list, re-import, and the errors that say how to install.
final class WeightsStoreTests: XCTestCase {
    /// torchvision's key layout and shapes for a ResNet/ResNeXt (weights only; detection reads shapes).
    static func resnet(layers: [Int], bottleneck: Bool, groups: Int = 1, widthPerGroup: Int = 64, classes: Int = 1000) -> [String: WeightTensor] {
        var t: [String: WeightTensor] = [:]
        func add(_ k: String, _ s: [Int]) { t[k] = WeightTensor(shape: s, data: []) }
        add("conv1.weight", [64, 3, 7, 7]); add("bn1.weight", [64])
        var inC = 64
        for (i, blocks) in layers.enumerated() {
            let planes = 64 << i
            let width = bottleneck ? planes * widthPerGroup / 64 * groups : planes
            let out = bottleneck ? planes * 4 : planes
            for b in 0..<blocks {
                let p = "layer\(i + 1).\(b)."
                if bottleneck {
                    add(p + "conv1.weight", [width, inC, 1, 1])
                    add(p + "conv2.weight", [width, width / groups, 3, 3])
                    add(p + "conv3.weight", [out, width, 1, 1])
                } else {
                    add(p + "conv1.weight", [planes, inC, 3, 3])
                    add(p + "conv2.weight", [planes, planes, 3, 3])
                }
                if b == 0 && (inC != out || i > 0) { add(p + "downsample.0.weight", [out, inC, 1, 1]) }
                inC = out
            }
        }
        add("fc.weight", [classes, inC]); add("fc.bias", [classes])
        return t
    }

    func testDetectsTorchvisionResNetsAndResNeXts() throws {
        let cases: [([Int], Bool, Int, Int, ModelArchitecture)] = [
            ([2, 2, 2, 2], false, 1, 64, .resnet18), ([3, 4, 6, 3], false, 1, 64, .resnet34),
            ([3, 4, 6, 3], true, 1, 64, .resnet50), ([3, 4, 23, 3], true, 1, 64, .resnet101),
            ([3, 8, 36, 3], true, 1, 64, .resnet152), ([3, 4, 6, 3], true, 32, 4, .resnext50_32x4d),
            ([3, 4, 23, 3], true, 32, 8, .resnext101_32x8d), ([3, 4, 23, 3], true, 64, 4, .resnext101_64x4d),
        ]
        for (layers, bottleneck, groups, width, expected) in cases {
            let sd = Self.resnet(layers: layers, bottleneck: bottleneck, groups: groups, widthPerGroup: width)
            XCTAssertEqual(try ModelArchitecture.detect(sd), expected)
        }
        XCTAssertEqual(ModelArchitecture.resnet34.embeddingSize, 512)
        XCTAssertEqual(ModelArchitecture.resnext50_32x4d.embeddingSize, 2048)
        XCTAssertEqual(ModelArchitecture.efficientNetLite2.embeddingSize, 1280)
    }

    func testUnknownLayoutsAreRefusedWithTheReason() {
        let cases: [([String: WeightTensor], String)] = [
            (Self.resnet(layers: [3, 4, 6, 3], bottleneck: true, groups: 1, widthPerGroup: 128), "wide or unusual"),   // wide_resnet50_2
            (Self.resnet(layers: [3, 4, 6, 3], bottleneck: true, classes: 10), "[10, 2048]"),
            (Self.resnet(layers: [2, 3, 2, 2], bottleneck: false), "blocks [2, 3, 2, 2]"),
            (["encoder.weight": WeightTensor(shape: [3], data: [])], "encoder.weight"),
            (["_conv_stem.weight": WeightTensor(shape: [40, 3, 3, 3], data: [])], "stem"),
        ]
        for (sd, mention) in cases {
            XCTAssertThrowsError(try ModelArchitecture.detect(sd, path: "/x/m.pth")) { error in
                XCTAssertEqual((error as? WeightsError)?.kind, .unknownArchitecture)
                XCTAssertTrue("\(error)".hasPrefix("/x/m.pth: unknown model layout"), "\(error)")
                XCTAssertTrue("\(error)".contains(mention), "\(error) should mention \(mention)")
            }
        }
    }

    func testDetectsTheRealEfficientNetLiteFiles() throws {
        let files = ["efficientnet-lite0-57934424.pth", "efficientnet-lite1-77cc7160.pth", "efficientnet-lite2-9656183e.pth"]
        for (i, file) in files.enumerated() {
            let path = TestPaths.weightsDir.appendingPathComponent(file).path
            try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "run `make weights` for the real checkpoints")
            XCTAssertEqual(try ModelArchitecture.detect(try loadTorchCheckpoint(path: path)).rawValue, "efficientnet-lite\(i)")
        }
    }

    func testDefaultDirectoryResolution() throws {
        let tmp = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        XCTAssertEqual(ModelStore.defaultDirectory(environment: ["CORRAL_MODELS": tmp.path], executable: nil).path, tmp.path)
        // An installed binary: <prefix>/bin/corral uses <prefix>/share/corral/models.
        let share = tmp.appendingPathComponent("share/corral/models")
        try FileManager.default.createDirectory(at: share, withIntermediateDirectories: true)
        let installed = ModelStore.defaultDirectory(environment: [:], executable: tmp.appendingPathComponent("bin/corral"))
        XCTAssertEqual(installed.path, share.path)
        // A build tree: .build/release/corral finds the package root's assets/models.
        let built = ModelStore.defaultDirectory(environment: [:], executable: TestPaths.repoRoot.appendingPathComponent(".build/release/corral"))
        XCTAssertEqual(built.standardizedFileURL.path, TestPaths.modelsDir.standardizedFileURL.path)
    }

    func testMissingModelsSayHowToInstall() throws {
        let tmp = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let store = ModelStore(directory: tmp)
        XCTAssertEqual(store.list(), [])
        XCTAssertThrowsError(try store.path(for: "efficientnet-lite1")) { error in
            XCTAssertEqual((error as? WeightsError)?.kind, .notInstalled)
            XCTAssertTrue("\(error)".contains("model efficientnet-lite1 is not installed"), "\(error)")
            XCTAssertTrue("\(error)".contains("run `make weights`"), "\(error)")
        }
        XCTAssertThrowsError(try store.path(for: "resnext50_32x4d")) { error in
            XCTAssertTrue("\(error)".contains("import it with `corral model import FILE --name resnext50_32x4d`"), "\(error)")
        }
        XCTAssertThrowsError(try store.path(for: "../etc/passwd")) { error in
            XCTAssertEqual((error as? WeightsError)?.kind, .invalidName)
        }
        // A refused checkpoint installs nothing.
        let evil = WeightsCheckpointTests.fixture("evil-os-system.pt")
        XCTAssertThrowsError(try store.importModel(from: evil, name: "evil"))
        XCTAssertThrowsError(try store.importModel(from: WeightsCheckpointTests.fixture("tiny-zip.pt"))) { error in
            XCTAssertEqual((error as? WeightsError)?.kind, .unknownArchitecture)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp.path), [])
    }

    func testImportListLoadAndReimportOfTheRealLite0() throws {
        let pth = TestPaths.weightsDir.appendingPathComponent("efficientnet-lite0-57934424.pth").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: pth), "run `make weights` for the real checkpoint")
        let tmp = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let store = ModelStore(directory: tmp.appendingPathComponent("models"))
        let installed = try store.importModel(from: pth)
        XCTAssertEqual(installed.name, "efficientnet-lite0")
        XCTAssertEqual(installed.sourceSHA256, "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db")
        XCTAssertEqual(store.list(), [installed])
        XCTAssertEqual(installed.embeddingSize, 1280)
        XCTAssertEqual(installed.source, "efficientnet-lite0-57934424.pth")
        // 247 float tensors, 4.65 M parameters as float32, plus the header.
        XCTAssertGreaterThan(installed.fileSize, 4_600_000 * 4)
        XCTAssertLessThan(installed.fileSize, 4_800_000 * 4)
        let (tensors, architecture) = try store.load("efficientnet-lite0")
        XCTAssertEqual(architecture, .efficientNetLite0)
        XCTAssertEqual(tensors, try loadTorchCheckpoint(path: pth))
        XCTAssertEqual(try store.path(for: "efficientnet-lite0"), installed.path)

        // Another architecture's name is refused.
        XCTAssertThrowsError(try store.importModel(from: pth, name: "resnext50_32x4d")) { error in
            XCTAssertEqual((error as? WeightsError)?.kind, .invalidName)
            XCTAssertTrue("\(error)".contains("holds efficientnet-lite0 weights; the name resnext50_32x4d is reserved"), "\(error)")
        }
        // Importing the safetensors file under another name, then re-importing over it.
        let copy = try store.importModel(from: installed.path.path, name: "lite0-copy")
        XCTAssertEqual(copy.architecture, "efficientnet-lite0")
        try store.importModel(from: pth, name: "lite0-copy")
        XCTAssertEqual(store.list().map(\.name), ["efficientnet-lite0", "lite0-copy"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.directory.path).sorted(),
                       ["efficientnet-lite0.safetensors", "lite0-copy.safetensors"])
    }
}
