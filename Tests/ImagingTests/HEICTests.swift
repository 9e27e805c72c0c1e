import XCTest
import TestSupport
@testable import Imaging

/// HEIC is optional: libheif is loaded at run time. Skipped where it is not installed.
final class HEICTests: XCTestCase {
    func testDecodeWithExif() throws {
        guard ImageEncoders.heicAvailable else { throw XCTSkip("libheif not installed") }
        let im = Fixture.smooth(width: 64, height: 48)
        let heic: [UInt8]
        do {
            heic = try ImageEncoders.heic(im, quality: 95, exif: Fixture.exif(orientation: 6))
        } catch {
            throw XCTSkip("libheif has no HEVC encoder here: \(error)")
        }
        XCTAssertEqual(detectFormat(heic), .heic)
        let ((back, meta), err) = try capturingStderr { try decodeImage(data: heic, name: "t.heic") }
        XCTAssertEqual(err, "")
        XCTAssertEqual(meta.format, .heic)
        XCTAssertEqual(back.width, 64); XCTAssertEqual(back.height, 48)
        XCTAssertEqual(meta.width, 64); XCTAssertEqual(meta.height, 48)
        XCTAssertLessThan(Fixture.meanAbsDiff(back, im), 4)
        // Camera fields come from EXIF; the orientation is the container's, already applied.
        XCTAssertEqual(meta.cameraMake, "Corral")
        XCTAssertEqual(meta.dateTimeOriginal, "2024:05:06 07:08:09")
        XCTAssertEqual(meta.orientation, 1)
    }
}
