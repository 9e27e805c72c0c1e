import Foundation
import XCTest
import TestSupport

/// `corral embed` and `corral classify` through the real binary, on the real weights and photos
/// (skipped when either is absent; CI has both).
final class EmbedClassifyCommandTests: XCTestCase {
    var work: URL!
    override func setUpWithError() throws { work = try TestPaths.makeTempDir("corral-embed") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    func setUpData() throws -> URL {
        guard let data = TestPaths.devData else { throw XCTSkip("dev-data photos absent (make dev-data)") }
        guard FileManager.default.fileExists(atPath: TestPaths.modelsDir.appendingPathComponent("efficientnet-lite0.safetensors").path) else {
            throw XCTSkip("efficientnet-lite0 not installed (make weights)")
        }
        return data
    }

    func run(_ args: [String]) throws -> CorralBinary.Output {
        try CorralBinary.run(args, environment: ["CORRAL_MODELS": TestPaths.modelsDir.path])
    }

    /// A folder with two photos, a non-image (skipped silently) and a broken JPEG (named once, exit 2).
    func makeFolder(_ data: URL) throws -> URL {
        let dir = work.appendingPathComponent("photos/sub")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: data.appendingPathComponent("known/chelsea.png"), to: dir.appendingPathComponent("cat.png"))
        try FileManager.default.copyItem(at: data.appendingPathComponent("known/coffee.png"), to: work.appendingPathComponent("photos/coffee-no-extension"))
        try Data("notes".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        let jpeg = try Data(contentsOf: data.appendingPathComponent("known/china.jpg"))
        try jpeg.prefix(2000).write(to: dir.appendingPathComponent("broken.jpg"))
        return work.appendingPathComponent("photos")
    }

    func testClassifyJSONFolderWalkAndFailures() throws {
        let data = try setUpData()
        let folder = try makeFolder(data)
        let out = try run(["classify", folder.path, "--top", "3", "--format", "json"])
        XCTAssertEqual(out.status, 2, out.stderr)
        let broken = folder.appendingPathComponent("sub/broken.jpg").path
        XCTAssertEqual(out.stderr.components(separatedBy: "\n").filter { !$0.isEmpty }.count, 1, out.stderr)
        XCTAssertTrue(out.stderr.hasPrefix("corral: \(broken): "), out.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(doc.map { $0["path"] as? String },
                       [folder.appendingPathComponent("coffee-no-extension").path, folder.appendingPathComponent("sub/cat.png").path])
        let coffee = try XCTUnwrap(doc[0]["top"] as? [[String: Any]])
        XCTAssertEqual(coffee.count, 3)
        XCTAssertEqual(coffee[0]["index"] as? Int, 967)
        XCTAssertEqual(coffee[0]["label"] as? String, "espresso")
        let cat = try XCTUnwrap(doc[1]["top"] as? [[String: Any]])
        XCTAssertTrue([281, 282, 285].contains(cat[0]["index"] as? Int ?? -1))
        let p = cat.compactMap { ($0["probability"] as? NSNumber)?.doubleValue }
        XCTAssertEqual(p, p.sorted(by: >))
    }

    func testEmbedJSONLAndNPYAgree() throws {
        let data = try setUpData()
        let cat = data.appendingPathComponent("known/chelsea.png").path
        let coffee = data.appendingPathComponent("known/coffee.png").path
        let jsonl = try run(["embed", cat, coffee, "--format", "jsonl"])
        XCTAssertEqual(jsonl.status, 0, jsonl.stderr)
        let lines = jsonl.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        var rows: [[Double]] = []
        for (line, path) in zip(lines, [cat, coffee]) {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(o["path"] as? String, path)
            XCTAssertEqual(o["model"] as? String, "efficientnet-lite0")
            let e = try XCTUnwrap(o["embedding"] as? [NSNumber]).map(\.doubleValue)
            XCTAssertEqual(e.count, 1280)
            XCTAssertEqual(e.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4)
            rows.append(e)
        }

        let npy = work.appendingPathComponent("e.npy")
        let out = try run(["embed", cat, coffee, "--format", "npy", "--out", npy.path, "--quiet"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.stdout, "")
        let bytes = try Data(contentsOf: npy)
        XCTAssertEqual(Array(bytes.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.contains("'descr': '<f4'") && header.contains("'shape': (2, 1280)"), header)
        XCTAssertEqual(bytes.count, 10 + headerLength + 2 * 1280 * 4)
        let values: [Float] = bytes[(10 + headerLength)...].withUnsafeBytes { raw in
            (0..<(2 * 1280)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        for r in 0..<2 {
            for j in 0..<1280 { XCTAssertEqual(Double(values[r * 1280 + j]), rows[r][j], accuracy: 1e-6) }
        }
        let paths = try String(contentsOf: work.appendingPathComponent("e.paths.txt"), encoding: .utf8)
        XCTAssertEqual(paths, cat + "\n" + coffee + "\n")
    }

    func testUsageErrors() throws {
        let data = try setUpData()
        let cat = data.appendingPathComponent("known/chelsea.png").path
        let missing = try run(["embed", cat, "--model", "resnet50"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("corral model import"), missing.stderr)
        XCTAssertEqual(missing.stdout, "")
        let text = try run(["classify", cat, "--top", "1"])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.stdout.hasPrefix(cat + "\t"), text.stdout)
    }
}
