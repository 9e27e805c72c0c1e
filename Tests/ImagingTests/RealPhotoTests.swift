import XCTest
import TestSupport
@testable import Imaging

/// The dev-data folder of real photos (../shared/dev-data/fetch.sh); skipped when absent.
final class RealPhotoTests: XCTestCase {
    func devData() throws -> URL {
        guard let dir = TestPaths.devData else { throw XCTSkip("no dev data (make dev-data)") }
        return dir
    }

    func imageFiles(_ root: URL) -> [String] {
        let e = FileManager.default.enumerator(atPath: root.path)
        var files: [String] = []
        while let rel = e?.nextObject() as? String {
            let lower = rel.lowercased()
            if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") || lower.hasSuffix(".png") || lower.hasSuffix(".webp") {
                files.append(root.appendingPathComponent(rel).path)
            }
        }
        return files.sorted()
    }

    func testEveryDevPhotoDecodesSilently() throws {
        let root = try devData()
        let files = imageFiles(root)
        XCTAssertGreaterThan(files.count, 20)
        let (failures, err) = try capturingStderr { () -> [String] in
            var failures: [String] = []
            for f in files {
                // scikit-image ships a deliberately cut-off JPEG: it must be refused as truncated.
                if f.hasSuffix("/truncated.jpg") {
                    XCTAssertThrowsError(try decodeImage(path: f)) { XCTAssertEqual(($0 as? ImageError)?.kind, .truncated) }
                    continue
                }
                do {
                    let (image, meta) = try decodeImage(path: f, minimumShortSide: 256)
                    XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                    XCTAssertEqual(meta.width >= meta.height, image.width >= image.height, f)
                    XCTAssertGreaterThanOrEqual(min(image.width, image.height), min(256, min(meta.width, meta.height)), f)
                } catch {
                    failures.append("\(error)")
                }
            }
            return failures
        }
        XCTAssertEqual(failures, [])
        XCTAssertEqual(err, "")
    }

    func testKnownImage() throws {
        let root = try devData()
        let (image, meta) = try decodeImage(path: root.appendingPathComponent("known/chelsea.png").path)
        XCTAssertEqual(meta.format, .png)
        XCTAssertEqual(image.width, 451); XCTAssertEqual(image.height, 300)
        XCTAssertEqual(meta.width, 451)
    }

    /// DCT-scaled decoding is the same picture as a full decode downsampled by our resampler.
    func testScaledDecodeMatchesFullDecodeResized() throws {
        let root = try devData()
        let jpegs = imageFiles(root).filter { $0.lowercased().hasSuffix(".jpg") }
        var checked = 0
        for f in jpegs {
            let meta = try readImageMetadata(path: f)
            guard meta.format == .jpeg, min(meta.width, meta.height) >= 1000 else { continue }
            let (full, _) = try decodeImage(path: f)
            let (scaled, _) = try decodeImage(path: f, minimumShortSide: 256)
            XCTAssertLessThan(scaled.width, full.width / 2, f)
            let reference = resize(full, width: scaled.width, height: scaled.height)
            let mad = Fixture.meanAbsDiff(scaled, reference)
            XCTAssertLessThan(mad, 3.0, f)
            // And the model input built from either is nearly the same.
            let prep = Preprocessing.efficientNet(size: 224)
            let a = prep.apply(scaled), b = prep.apply(full)
            XCTAssertGreaterThan(cosineSimilarity(a, b), 0.995, f)
            checked += 1
            if checked == 3 { break }
        }
        if checked == 0 { throw XCTSkip("no large JPEG in the dev data") }
    }
}
