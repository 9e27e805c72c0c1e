import Foundation
import XCTest
import TestSupport

/// `corral bench embed --format json` through the real binary, on seeded random weights (so it needs
/// nothing installed): the fields scripts read (bench/compare_onnxruntime.py, bench/ab.sh) are there
/// and consistent with each other.
final class BenchEmbedCommandTests: XCTestCase {
    func testJSONFieldsAreConsistent() throws {
        let empty = try TestPaths.makeTempDir("corral-bench-embed")
        defer { try? FileManager.default.removeItem(at: empty) }
        let out = try CorralBinary.run(["bench", "embed", "--model", "efficientnet-lite0", "--random-weights", "--threads", "1",
                                        "--batch", "2", "--seconds", "0", "--format", "json"],
                                       environment: ["CORRAL_MODELS": empty.path])
        XCTAssertEqual(out.status, 0, out.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any], out.stdout)
        XCTAssertEqual(doc["weights"] as? String, "seeded-random")
        XCTAssertEqual(doc["batch"] as? Int, 2)
        let images = try XCTUnwrap(doc["images"] as? Int)
        XCTAssertGreaterThanOrEqual(images, 6, "at least 3 calls of 2 images")
        let median = try XCTUnwrap((doc["images_per_second_median_call"] as? NSNumber)?.doubleValue)
        let fast = try XCTUnwrap((doc["call_ms_per_image_p10"] as? NSNumber)?.doubleValue)
        let cpu = try XCTUnwrap((doc["cpu_ms_per_image"] as? NSNumber)?.doubleValue)
        XCTAssertGreaterThan(fast, 0)
        // The fastest tenth of the calls is no slower than the median call.
        XCTAssertLessThanOrEqual(fast, 1000 / median * 1.0001)
        XCTAssertGreaterThan(cpu, 0)
        XCTAssertGreaterThan((doc["peak_memory_mb"] as? NSNumber)?.doubleValue ?? 0, 0)
    }
}
