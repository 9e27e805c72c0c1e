import Foundation
import XCTest
import TestSupport

/// `corral model list|import` through the real binary, with CORRAL_MODELS pointing at a temp folder.
final class ModelCommandTests: XCTestCase {
    static let fixtures = TestPaths.repoRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/checkpoints")

    var models: URL!
    override func setUpWithError() throws { models = try TestPaths.makeTempDir("corral-models") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: models) }

    func run(_ args: [String]) throws -> CorralBinary.Output {
        try CorralBinary.run(args, environment: ["CORRAL_MODELS": models.path])
    }

    func testListOnAnEmptyFolder() throws {
        let out = try run(["model", "list", "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let doc = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(doc?["directory"] as? String, models.path)
        XCTAssertEqual((doc?["models"] as? [Any])?.count, 0)
        let text = try run(["model", "list"])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.stderr.contains("make weights"), text.stderr)
    }

    func testRefusedFilesAreNamedOnceAndInstallNothing() throws {
        let evil = Self.fixtures.appendingPathComponent("evil-os-system.pt").path
        let out = try run(["model", "import", evil, "--name", "evil"])
        XCTAssertEqual(out.status, 2)
        XCTAssertEqual(out.stderr, "corral: \(evil): refused pickle global os.system: only tensor rebuild functions, storage types and collections.OrderedDict are allowed\n")
        XCTAssertEqual(out.stdout, "")

        let tiny = Self.fixtures.appendingPathComponent("tiny-zip.pt").path
        let unknown = try run(["model", "import", tiny])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.hasPrefix("corral: \(tiny): unknown model layout"), unknown.stderr)

        // A relative path is reported absolute.
        let missing = try CorralBinary.run(["model", "import", "no-such-file.pth"], environment: ["CORRAL_MODELS": models.path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.hasPrefix("corral: /"), missing.stderr)
        XCTAssertTrue(missing.stderr.contains("no-such-file.pth: no such file"), missing.stderr)

        let badName = try run(["model", "import", tiny, "--name", "../x"])
        XCTAssertEqual(badName.status, 1)
        XCTAssertTrue(badName.stderr.contains("invalid model name"), badName.stderr)

        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: models.path), [])
    }

    func testImportTheRealLite0ThenListAndReimport() throws {
        let pth = TestPaths.weightsDir.appendingPathComponent("efficientnet-lite0-57934424.pth").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: pth), "run `make weights` for the real checkpoint")
        let first = try run(["model", "import", pth, "--format", "json"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let model = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(model["name"] as? String, "efficientnet-lite0")   // defaulted from the architecture
        XCTAssertEqual(model["path"] as? String, models.appendingPathComponent("efficientnet-lite0.safetensors").path)

        let again = try run(["model", "import", pth, "--name", "efficientnet-lite0"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.hasPrefix("imported efficientnet-lite0 (efficientnet-lite0, 1280-d embedding"), again.stdout)

        let list = try run(["model", "list", "--format", "json"])
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let entries = try XCTUnwrap(doc["models"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entries[0]["architecture"] as? String, "efficientnet-lite0")
        XCTAssertEqual(entries[0]["embedding_size"] as? Int, 1280)
        XCTAssertEqual(entries[0]["source"] as? String, "efficientnet-lite0-57934424.pth")
        XCTAssertEqual(entries[0]["source_sha256"] as? String, "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db")
        XCTAssertGreaterThan(entries[0]["file_size"] as? Int ?? 0, 18_000_000)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: models.path), ["efficientnet-lite0.safetensors"])

        let text = try run(["model", "list"])
        XCTAssertTrue(text.stdout.contains("efficientnet-lite0  efficientnet-lite0  1280"), text.stdout)
    }
}
