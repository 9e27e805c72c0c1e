import XCTest
import TestSupport
@testable import Imaging

/// Bad files: each gives the right typed error naming the file, and nothing at all on stderr.
final class HostileTests: XCTestCase {
    func assertKind(_ data: [UInt8], _ kind: ImageError.Kind, minimumShortSide: Int? = nil,
                    file: StaticString = #filePath, line: UInt = #line) {
        let (error, err) = expectImageError(data, minimumShortSide: minimumShortSide, file: file, line: line)
        XCTAssertEqual(err, "", "stderr must stay silent", file: file, line: line)
        XCTAssertEqual(error?.kind, kind, "\(error.map { String(describing: $0) } ?? "no error")", file: file, line: line)
        if let error {
            XCTAssertEqual(error.path, "/fixture/file", file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix("/fixture/file: "), file: file, line: line)
            XCTAssertFalse(error.reason.isEmpty, file: file, line: line)
        }
    }

    lazy var jpeg: [UInt8] = try! encodeJPEG(Fixture.smooth(width: 96, height: 64), quality: 90)
    lazy var progressiveJPEG: [UInt8] = {
        let im = Fixture.smooth(width: 96, height: 64)
        return try! ImageEncoders.jpeg(samples: im.pixels, width: 96, height: 64, components: 3, quality: 90, progressive: true)
    }()
    lazy var png: [UInt8] = try! encodePNG(Fixture.pattern(width: 96, height: 64))
    lazy var webp: [UInt8] = try! encodeWebP(Fixture.smooth(width: 96, height: 64), quality: 80)

    /// The silence checks mean something only if the capture sees what C code writes to fd 2.
    func testStderrCaptureSeesCOutput() {
        let (_, text) = capturingStderr { () -> Int in
            fputs("from stdio\n", stderr)
            _ = "raw\n".withCString { write(2, $0, 4) }
            return 0
        }
        XCTAssertEqual(text, "from stdio\nraw\n")
    }

    func testZeroLength() { assertKind([], .truncated) }

    func testRandomBytes() {
        var rng = SeededRNG(seed: 1)
        assertKind((0..<5000).map { _ in UInt8(rng.next() % 256) }, .unsupported)
        assertKind(Array("just some text\n".utf8), .unsupported)
    }

    func testTruncated() {
        assertKind(Array(jpeg.prefix(jpeg.count * 6 / 10)), .truncated)
        assertKind(Array(progressiveJPEG.prefix(progressiveJPEG.count * 6 / 10)), .truncated)
        assertKind(Array(jpeg.prefix(300)), .truncated)   // inside the headers
        assertKind(Array(png.prefix(png.count / 2)), .truncated)
        assertKind(Array(png.prefix(20)), .truncated)     // inside IHDR
        assertKind(Array(webp.prefix(webp.count / 2)), .truncated)
        assertKind([0xFF, 0xD8, 0xFF], .truncated)
    }

    func testLyingHugePNGHeader() {
        // A valid IHDR (correct CRC) claiming 100000 x 100000 RGB: refused before allocating.
        var ihdr = Fixture.be32(100_000) + Fixture.be32(100_000)
        ihdr += [8, 2, 0, 0, 0]
        let file = Array(png[0..<8]) + Fixture.pngChunk("IHDR", ihdr) + Array(png[33...])
        assertKind(file, .tooLarge)
        // Metadata alone is fine: it reports what the header says.
        XCTAssertEqual(try inspect(file, name: "x").metadata.width, 100_000)
    }

    func testHugeJPEGHeader() {
        // Patch SOF0's height and width to 60000 x 60000.
        var d = jpeg
        let sof = (0..<(d.count - 1)).first { d[$0] == 0xFF && d[$0 + 1] == 0xC0 }!
        d[sof + 5] = 0xEA; d[sof + 6] = 0x60; d[sof + 7] = 0xEA; d[sof + 8] = 0x60
        assertKind(d, .tooLarge)
        XCTAssertEqual(try inspect(d, name: "x").metadata.width, 60_000)
    }

    func testCorruptHuffmanTable() {
        // Counts of the first DHT claim far more codes than the table holds.
        var d = jpeg
        let dht = (0..<(d.count - 1)).first { d[$0] == 0xFF && d[$0 + 1] == 0xC4 }!
        for i in 0..<16 { d[dht + 5 + i] = 0xFF }
        assertKind(d, .corrupt)
    }

    func testCorruptPNGData() {
        // Flip bytes inside the IDAT payload: zlib or CRC failure, reported as corrupt.
        var d = png
        let idat = (8..<(d.count - 4)).first { d[$0..<($0 + 4)].elementsEqual(Array("IDAT".utf8)) }!
        for i in 10..<40 { d[idat + i] ^= 0x5A }
        assertKind(d, .corrupt)
    }

    func testBrokenHEIC() throws {
        // Only an ftyp box: unsupported without libheif, a truncated/corrupt file with it.
        let heic: [UInt8] = [0, 0, 0, 24] + Array("ftypheic".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8)
        if !ImageEncoders.heicAvailable { assertKind(heic, .unsupported); return }
        let (error, err) = expectImageError(heic)
        XCTAssertEqual(err, "")
        XCTAssertNotNil(error)
        XCTAssertTrue([.truncated, .corrupt].contains(error?.kind), "\(String(describing: error))")
        // A real HEIC cut in half.
        let full = try ImageEncoders.heic(Fixture.smooth(width: 64, height: 48))
        let (cut, err2) = expectImageError(Array(full.prefix(full.count / 2)))
        XCTAssertEqual(err2, "")
        XCTAssertNotNil(cut)
        // Random damage: libheif/libde265 must stay silent too.
        var rng = SeededRNG(seed: 5)
        let (_, err3) = capturingStderr {
            for round in 0..<150 {
                var d = full
                for _ in 0..<(1 + Int(rng.next() % 6)) { d[Int(rng.next() % UInt64(d.count))] = UInt8(rng.next() % 256) }
                if round % 4 == 0 { d = Array(d.prefix(Int(rng.next() % UInt64(d.count)))) }
                do { _ = try decodeImage(data: d, name: "fuzz.heic") } catch { XCTAssertTrue(error is ImageError) }
            }
        }
        XCTAssertEqual(err3, "")
    }

    func testUnreadablePaths() throws {
        let dir = try TestPaths.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for path in [dir.path, dir.appendingPathComponent("missing.jpg").path] {
            XCTAssertThrowsError(try decodeImage(path: path)) { e in
                XCTAssertEqual((e as? ImageError)?.kind, .unreadable)
                XCTAssertEqual((e as? ImageError)?.path, path)
            }
        }
    }

    /// Random damage anywhere in valid files: never a crash or a hang, never stderr, always either
    /// an image or an ImageError.
    func testFuzzedFilesNeverCrashOrPrint() {
        var rng = SeededRNG(seed: 99)
        let seeds: [[UInt8]] = [jpeg, progressiveJPEG, png, webp]
        let (_, err) = capturingStderr {
            for round in 0..<400 {
                var d = seeds[round % seeds.count]
                let edits = 1 + Int(rng.next() % 8)
                for _ in 0..<edits { d[Int(rng.next() % UInt64(d.count))] = UInt8(rng.next() % 256) }
                if round % 5 == 0 { d = Array(d.prefix(Int(rng.next() % UInt64(d.count)))) }
                do {
                    let (image, _) = try decodeImage(data: d, name: "fuzz", minimumShortSide: round % 2 == 0 ? 16 : nil)
                    XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                } catch {
                    XCTAssertTrue(error is ImageError)
                }
            }
        }
        XCTAssertEqual(err, "")
    }
}
