import XCTest
import TestSupport
@testable import Imaging

final class OrientationTests: XCTestCase {
    func testAllEightOrientationsJPEG() throws {
        let upright = Fixture.blocks(blocksWide: 4, blocksHigh: 3)  // 32 x 24: landscape, asymmetric
        for o in 1...8 {
            let stored = Fixture.stored(upright, orientation: o)
            let plain = try ImageEncoders.jpeg(samples: stored.pixels, width: stored.width, height: stored.height,
                                               components: 3, quality: 100, subsampling: .s444)
            let jpg = Fixture.insertAPP1(plain, tiff: Fixture.exif(orientation: o, littleEndian: o % 2 == 1))
            let ((image, meta), err) = try capturingStderr { try decodeImage(data: jpg, name: "o\(o).jpg") }
            XCTAssertEqual(err, "")
            XCTAssertEqual(meta.orientation, o)
            XCTAssertEqual(meta.width, 32, "metadata size is after orientation")
            XCTAssertEqual(meta.height, 24)
            XCTAssertEqual(image.width, 32); XCTAssertEqual(image.height, 24)
            XCTAssertLessThanOrEqual(Fixture.maxAbsDiff(image, upright), 4, "orientation \(o)")
            XCTAssertEqual(meta.cameraMake, "Corral")
            XCTAssertEqual(meta.cameraModel, "Test Camera")
            XCTAssertEqual(meta.dateTimeOriginal, "2024:05:06 07:08:09")
            XCTAssertEqual(meta.exifFieldCount, 5)
            XCTAssertEqual(try readImageMetadata(path: pathFor(jpg)), meta)
        }
    }

    func testAllEightOrientationsPNGExactPixels() throws {
        let upright = Fixture.pattern(width: 7, height: 4)
        for o in 1...8 {
            let stored = Fixture.stored(upright, orientation: o)
            let png = Fixture.insertPNGChunk(try encodePNG(stored), "eXIf", Fixture.exif(orientation: o, littleEndian: o > 4))
            let (image, meta) = try decodeImage(data: png, name: "o.png")
            XCTAssertEqual(meta.orientation, o)
            XCTAssertEqual(image, upright, "orientation \(o)")
        }
    }

    func testApplyOrientationMatchesIndependentFlips() {
        let im = Fixture.pattern(width: 5, height: 3)
        XCTAssertEqual(applyOrientation(im, 1), im)
        XCTAssertEqual(applyOrientation(im, 2), Fixture.flipH(im))
        XCTAssertEqual(applyOrientation(im, 4), Fixture.flipV(im))
        XCTAssertEqual(applyOrientation(im, 6), Fixture.rotateCW(im))
        XCTAssertEqual(applyOrientation(im, 8), Fixture.rotateCCW(im))
        XCTAssertEqual(applyOrientation(im, 3), Fixture.rotateCW(Fixture.rotateCW(im)))
        XCTAssertEqual(applyOrientation(im, 5), Fixture.transpose(im))
        XCTAssertEqual(applyOrientation(im, 9), im, "invalid values leave the image alone")
    }

    func testExifBothByteOrdersAndMissingFields() {
        for little in [true, false] {
            let info = Exif.parse(Fixture.exif(orientation: 6, littleEndian: little)[...])
            XCTAssertEqual(info?.orientation, 6)
            XCTAssertEqual(info?.make, "Corral")
            XCTAssertEqual(info?.dateTimeOriginal, "2024:05:06 07:08:09")
            let bare = Exif.parse(Fixture.exif(orientation: 3, littleEndian: little, make: nil, model: nil, date: nil)[...])
            XCTAssertEqual(bare, ExifInfo(orientation: 3, make: nil, model: nil, dateTimeOriginal: nil, fieldCount: 1))
        }
        XCTAssertEqual(Exif.parse(Fixture.exif(orientation: 0)[...])?.orientation, 1, "out of range means upright")
        XCTAssertEqual(Exif.parse(Fixture.exif(orientation: 9)[...])?.orientation, 1)
    }

    func testExifGarbageNeverCrashes() {
        var rng = SeededRNG(seed: 42)
        let valid = Fixture.exif(orientation: 8, littleEndian: false)
        for round in 0..<3000 {
            var d = valid
            if round % 3 == 0 {
                d = (0..<Int(rng.next() % 200)).map { _ in UInt8(rng.next() % 256) }
                if d.count >= 4 && round % 2 == 0 { d[0] = 0x4D; d[1] = 0x4D; d[2] = 0; d[3] = 42 }
            } else if round % 3 == 1 {
                d = Array(valid.prefix(Int(rng.next() % UInt64(valid.count))))
            } else {
                for _ in 0..<4 { d[Int(rng.next() % UInt64(d.count))] = UInt8(rng.next() % 256) }
            }
            if let info = Exif.parse(d[...]) { XCTAssertTrue((1...8).contains(info.orientation)) }
        }
        // An IFD that points at itself is not followed forever.
        var loop = Fixture.exif(orientation: 1, make: nil, model: nil, date: "x")
        // Exif IFD pointer (last IFD0 entry's value) -> IFD0 at offset 8.
        let pointerAt = 8 + 2 + 1 * 12 + 8
        loop[pointerAt] = 8; loop[pointerAt + 1] = 0; loop[pointerAt + 2] = 0; loop[pointerAt + 3] = 0
        XCTAssertNotNil(Exif.parse(loop[...]))
    }

    private var tempFiles: [URL] = []
    private func pathFor(_ bytes: [UInt8]) throws -> String {
        let dir = try TestPaths.makeTempDir()
        let url = dir.appendingPathComponent("image")
        try Data(bytes).write(to: url)
        tempFiles.append(dir)
        return url.path
    }
    override func tearDown() {
        for d in tempFiles { try? FileManager.default.removeItem(at: d) }
        tempFiles = []
    }
}
