import XCTest
import TestSupport
@testable import Imaging
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with file descriptor 2 redirected into a pipe and returns what was written there,
/// proving that no C library printed anything. A reader thread drains the pipe so a chatty
/// library cannot block on a full pipe.
func capturingStderr<T>(_ body: () throws -> T) rethrows -> (T, String) {
    fflush(stderr)
    let saved = dup(2)
    var fds: [Int32] = [0, 0]
    precondition(pipe(&fds) == 0)
    dup2(fds[1], 2)
    close(fds[1])
    let readEnd = fds[0]
    let sink = StderrSink()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(readEnd, &buf, buf.count)
            if n <= 0 { break }
            sink.bytes.append(contentsOf: buf[0..<n])
        }
        done.signal()
    }
    func restore() {
        fflush(stderr)
        dup2(saved, 2)  // drops the pipe's last write end, so the reader sees EOF
        close(saved)
        done.wait()
        close(readEnd)
    }
    let result: T
    do { result = try body() } catch { restore(); throw error }
    restore()
    return (result, String(decoding: sink.bytes, as: UTF8.self))
}

/// Bytes collected by the reader thread; read only after it has signalled completion.
final class StderrSink: @unchecked Sendable { var bytes: [UInt8] = [] }

/// Decodes expecting an ImageError; returns it with whatever reached stderr.
func expectImageError(_ data: [UInt8], minimumShortSide: Int? = nil, file: StaticString = #filePath,
                      line: UInt = #line) -> (ImageError?, String) {
    let (error, stderrText) = capturingStderr { () -> ImageError? in
        do {
            _ = try decodeImage(data: data, name: "/fixture/file", minimumShortSide: minimumShortSide)
            return nil
        } catch let e as ImageError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
            return nil
        }
    }
    return (error, stderrText)
}

enum Fixture {
    /// An asymmetric pattern: every pixel distinct enough to tell any flip or rotation apart.
    static func pattern(width: Int, height: Int) -> RGBImage {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                p[i] = UInt8(x * 255 / max(1, width - 1))
                p[i + 1] = UInt8(y * 255 / max(1, height - 1))
                p[i + 2] = UInt8((x * 7 + y * 13) % 256)
            }
        }
        return RGBImage(width: width, height: height, pixels: p)
    }

    /// Flat 8x8 blocks of distinct colours: JPEG (q100, 4:4:4) reproduces them almost exactly.
    static func blocks(blocksWide: Int, blocksHigh: Int) -> RGBImage {
        let w = blocksWide * 8, h = blocksHigh * 8
        var p = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let bx = x / 8, by = y / 8, i = (y * w + x) * 3
                p[i] = UInt8(40 + bx * 200 / max(1, blocksWide - 1))
                p[i + 1] = UInt8(40 + by * 200 / max(1, blocksHigh - 1))
                p[i + 2] = UInt8(((bx + by) % 2) * 160 + 40)
            }
        }
        return RGBImage(width: w, height: h, pixels: p)
    }

    /// Smooth content (what chroma subsampling and lossy coding are designed for).
    static func smooth(width: Int, height: Int) -> RGBImage {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let fx = Double(x) / Double(width), fy = Double(y) / Double(height)
                let i = (y * width + x) * 3
                p[i] = UInt8(127.5 + 100 * sin(fx * 6.1 + fy * 1.3))
                p[i + 1] = UInt8(127.5 + 100 * cos(fy * 5.3 - fx * 0.7))
                p[i + 2] = UInt8(127.5 + 100 * sin((fx + fy) * 3.7))
            }
        }
        return RGBImage(width: width, height: height, pixels: p)
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }

    static func pngChunk(_ type: String, _ payload: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + payload
        return be32(UInt32(payload.count)) + body + be32(crc32(body[...]))
    }

    /// Inserts a chunk right after IHDR (which always sits at offset 8 with 13 bytes of payload).
    static func insertPNGChunk(_ png: [UInt8], _ type: String, _ payload: [UInt8]) -> [UInt8] {
        Array(png[0..<33]) + pngChunk(type, payload) + Array(png[33...])
    }

    /// Inserts an "Exif" APP1 segment after the JFIF APP0 written by libjpeg.
    static func insertAPP1(_ jpeg: [UInt8], tiff: [UInt8]) -> [UInt8] {
        var at = 2
        if jpeg[2] == 0xFF && jpeg[3] == 0xE0 { at = 4 + (Int(jpeg[4]) << 8 | Int(jpeg[5])) }
        let payload: [UInt8] = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        return Array(jpeg[0..<at]) + [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + Array(jpeg[at...])
    }

    /// A TIFF/EXIF structure with IFD0 (Make, Model, Orientation, ExifIFD pointer) and an Exif IFD
    /// holding DateTimeOriginal, in either byte order.
    static func exif(orientation: Int, littleEndian: Bool = true, make: String? = "Corral",
                     model: String? = "Test Camera", date: String? = "2024:05:06 07:08:09") -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { littleEndian ? [UInt8(v & 0xFF), UInt8(v >> 8)] : [UInt8(v >> 8), UInt8(v & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { littleEndian ? le32(UInt32(v)) : be32(UInt32(v)) }
        struct Entry { var tag: Int; var type: Int; var count: Int; var inline: [UInt8]?; var data: [UInt8]? }
        var ifd0: [Entry] = []
        if let make { let b = Array(make.utf8) + [0]; ifd0.append(Entry(tag: 0x010F, type: 2, count: b.count, inline: nil, data: b)) }
        if let model { let b = Array(model.utf8) + [0]; ifd0.append(Entry(tag: 0x0110, type: 2, count: b.count, inline: nil, data: b)) }
        ifd0.append(Entry(tag: 0x0112, type: 3, count: 1, inline: u16(orientation) + [0, 0], data: nil))
        let hasExifIFD = date != nil
        if hasExifIFD { ifd0.append(Entry(tag: 0x8769, type: 4, count: 1, inline: [0, 0, 0, 0], data: nil)) }
        // Layout: header(8) | IFD0 | Exif IFD | data area.
        let ifd0Size = 2 + ifd0.count * 12 + 4
        let exifOffset = 8 + ifd0Size
        let exifSize = hasExifIFD ? 2 + 12 + 4 : 0
        var dataOffset = exifOffset + exifSize
        var dataArea: [UInt8] = []
        var out: [UInt8] = (littleEndian ? Array("II".utf8) : Array("MM".utf8)) + u16(42) + u32(8)
        out += u16(ifd0.count)
        for e in ifd0 {
            out += u16(e.tag) + u16(e.type) + u32(e.count)
            if e.tag == 0x8769 { out += u32(exifOffset) } else if let inline = e.inline { out += inline } else if let d = e.data {
                if d.count <= 4 { out += d + [UInt8](repeating: 0, count: 4 - d.count) } else {
                    out += u32(dataOffset); dataArea += d; dataOffset += d.count
                }
            }
        }
        out += u32(0)
        if let date {
            let d = Array(date.utf8) + [0]
            out += u16(1) + u16(0x9003) + u16(2) + u32(d.count) + u32(dataOffset) + u32(0)
            dataArea += d
        }
        return out + dataArea
    }

    /// The upright image as stored by a camera for each EXIF orientation (the inverse of what a
    /// viewer applies), built from flips and rotations written independently of the decoder.
    static func stored(_ upright: RGBImage, orientation: Int) -> RGBImage {
        switch orientation {
        case 2: return flipH(upright)
        case 3: return flipH(flipV(upright))
        case 4: return flipV(upright)
        case 5: return transpose(upright)
        case 6: return rotateCCW(upright)
        case 7: return flipH(flipV(transpose(upright)))
        case 8: return rotateCW(upright)
        default: return upright
        }
    }

    static func map(_ im: RGBImage, width: Int, height: Int, _ src: (Int, Int) -> (Int, Int)) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let (sx, sy) = src(x, y)
                for c in 0..<3 { out.pixels[(y * width + x) * 3 + c] = im.pixels[(sy * im.width + sx) * 3 + c] }
            }
        }
        return out
    }
    static func flipH(_ im: RGBImage) -> RGBImage { map(im, width: im.width, height: im.height) { (im.width - 1 - $0, $1) } }
    static func flipV(_ im: RGBImage) -> RGBImage { map(im, width: im.width, height: im.height) { ($0, im.height - 1 - $1) } }
    static func transpose(_ im: RGBImage) -> RGBImage { map(im, width: im.height, height: im.width) { ($1, $0) } }
    /// Clockwise quarter turn: the left column becomes the top row.
    static func rotateCW(_ im: RGBImage) -> RGBImage { map(im, width: im.height, height: im.width) { ($1, im.height - 1 - $0) } }
    static func rotateCCW(_ im: RGBImage) -> RGBImage { map(im, width: im.height, height: im.width) { (im.width - 1 - $1, $0) } }

    static func meanAbsDiff(_ a: RGBImage, _ b: RGBImage) -> Double {
        precondition(a.width == b.width && a.height == b.height)
        var s = 0
        for i in a.pixels.indices { s += abs(Int(a.pixels[i]) - Int(b.pixels[i])) }
        return Double(s) / Double(max(1, a.pixels.count))
    }

    static func maxAbsDiff(_ a: RGBImage, _ b: RGBImage) -> Int {
        precondition(a.width == b.width && a.height == b.height)
        var m = 0
        for i in a.pixels.indices { m = max(m, abs(Int(a.pixels[i]) - Int(b.pixels[i]))) }
        return m
    }
}
