import CImageCodecs
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the header and EXIF only: no pixel decoding.
public func readImageMetadata(path: String) throws -> ImageMetadata {
    let data = try readImageFile(path: path)
    return try inspect(data, name: path).metadata
}

/// Decodes a file into upright RGB8. For JPEG, `minimumShortSide` lets libjpeg decode at the
/// smallest DCT scale (n/8) whose short side is still at least that many pixels, which is most of
/// the speed on camera photos; other formats always decode at full size.
public func decodeImage(path: String, minimumShortSide: Int? = nil) throws -> (image: RGBImage, metadata: ImageMetadata) {
    let data = try readImageFile(path: path)
    return try decodeImage(data: data, name: path, minimumShortSide: minimumShortSide)
}

public func decodeImage(data: [UInt8], name: String, minimumShortSide: Int? = nil) throws -> (RGBImage, ImageMetadata) {
    let header = try inspect(data, name: name)
    let info = header.info
    let limit = ImagingLimits.maxPixels
    var status = corral_status()
    var width = Int(info.width), height = Int(info.height)
    var scale = 8
    if header.metadata.format == .jpeg {
        scale = jpegScale(width: width, height: height, minimumShortSide: minimumShortSide)
        var w: Int32 = 0, h: Int32 = 0
        corral_jpeg_scaled_size(info.width, info.height, Int32(scale), &w, &h)
        width = Int(w); height = Int(h)
    }
    guard UInt64(width) * UInt64(height) <= limit else {
        throw ImageError(path: name, kind: .tooLarge,
                         reason: "\(width)x\(height) pixels is over the limit of \(limit) pixels")
    }
    let count = width * height * 3
    var outW: Int32 = 0, outH: Int32 = 0
    var rc: Int32 = 0
    let pixels = [UInt8](unsafeUninitializedCapacity: max(count, 1)) { buffer, initialized in
        data.withUnsafeBufferPointer { src in
            let base = src.baseAddress!, n = src.count, out = buffer.baseAddress!
            switch header.metadata.format {
            case .jpeg: rc = corral_jpeg_decode(base, n, Int32(scale), limit, out, count, &outW, &outH, &status)
            case .png: rc = corral_png_decode(base, n, limit, out, count, &status)
            case .webp: rc = corral_webp_decode(base, n, limit, out, count, &status)
            case .heic: rc = corral_heic_decode(base, n, limit, out, count, &outW, &outH, &status)
            }
        }
        initialized = rc == CORRAL_OK ? count : 0
    }
    if rc != CORRAL_OK { throw codecError(name, header.metadata.format, status) }
    if header.metadata.format == .jpeg && (Int(outW) != width || Int(outH) != height) {
        throw ImageError(path: name, kind: .corrupt, reason: "JPEG decoded to an unexpected size \(outW)x\(outH)")
    }
    var pixelsOut = pixels
    if header.metadata.format == .heic && (Int(outW) != width || Int(outH) != height) {
        // libheif's handle size and decoded size can differ (e.g. cropping by a clap box); the C
        // side has already checked that the decoded image fits the buffer.
        width = Int(outW); height = Int(outH)
        pixelsOut = Array(pixels.prefix(width * height * 3))
    }
    let stored = RGBImage(width: width, height: height, pixels: pixelsOut)
    return (applyOrientation(stored, header.metadata.orientation), header.metadata)
}

/// The smallest n/8 (n = 2...8) whose decoded short side still reaches `minimumShortSide`.
/// Not 1/8: libjpeg computes it from the DC coefficient alone, an 8x8 box filter that aliases fine
/// detail (a detailed 6000x4000 image decoded to 750x500 embeds at cosine 0.978 against a full
/// decode, at 2/8 0.998). 3/8 and 5/8-7/8 run plain-C IDCTs in libjpeg-turbo and cost as much as
/// the next SIMD scale (4/8 or 8/8), but skipping them changed embeddings enough to cost the
/// duplicate benchmark 1 point of F1 (docs/catalog.md), so they stay.
func jpegScale(width: Int, height: Int, minimumShortSide: Int?) -> Int {
    guard let need = minimumShortSide, need > 0 else { return 8 }
    for n in 2...8 {
        var w: Int32 = 0, h: Int32 = 0
        corral_jpeg_scaled_size(Int32(width), Int32(height), Int32(n), &w, &h)
        if min(Int(w), Int(h)) >= need { return n }
    }
    return 8
}

/// Magic bytes only: a .jpg that is really a PNG decodes as PNG.
func detectFormat(_ d: [UInt8]) -> ImageFormat? {
    if d.count >= 3, d[0] == 0xFF, d[1] == 0xD8, d[2] == 0xFF { return .jpeg }
    if d.count >= 8, d[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
    if d.count >= 12, d[0..<4].elementsEqual([0x52, 0x49, 0x46, 0x46]), d[8..<12].elementsEqual([0x57, 0x45, 0x42, 0x50]) {
        return .webp
    }
    if d.count >= 12, d[4..<8].elementsEqual([0x66, 0x74, 0x79, 0x70]) {  // ISO-BMFF "ftyp"
        let brand = String(decoding: d[8..<12], as: UTF8.self)
        if ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"].contains(brand) { return .heic }
    }
    return nil
}

struct Header {
    var metadata: ImageMetadata
    var info: corral_image_info
}

/// Format, stored size and EXIF, without decoding pixels.
func inspect(_ data: [UInt8], name: String) throws -> Header {
    if data.isEmpty { throw ImageError(path: name, kind: .truncated, reason: "empty file") }
    guard let format = detectFormat(data) else {
        throw ImageError(path: name, kind: .unsupported, reason: "not a JPEG, PNG, WebP or HEIC image")
    }
    if format == .heic && corral_heic_available() == 0 {
        throw ImageError(path: name, kind: .unsupported, reason: "HEIC images need libheif (libheif1), which is not installed")
    }
    var info = corral_image_info()
    var status = corral_status()
    var exifBytes: ArraySlice<UInt8>?
    let rc: Int32 = data.withUnsafeBufferPointer { src in
        switch format {
        case .jpeg: return corral_jpeg_info(src.baseAddress, src.count, &info, &status)
        case .png: return corral_png_info(src.baseAddress, src.count, &info, &status)
        case .webp:
            let r = corral_webp_info(src.baseAddress, src.count, &info, &status)
            var offset = 0, length = 0
            if r == CORRAL_OK, corral_webp_exif(src.baseAddress, src.count, &offset, &length) != 0,
               offset >= 0, length >= 0, offset + length <= src.count {
                exifBytes = data[offset..<(offset + length)]
            }
            return r
        case .heic:
            let r = corral_heic_info(src.baseAddress, src.count, &info, &status)
            var block: UnsafeMutablePointer<UInt8>?
            var length = 0
            if r == CORRAL_OK, corral_heic_exif(src.baseAddress, src.count, &block, &length) != 0, let block {
                exifBytes = heifExifPayload(Array(UnsafeBufferPointer(start: block, count: length)))
            }
            corral_free(block)
            return r
        }
    }
    if rc != CORRAL_OK { throw codecError(name, format, status) }
    switch format {
    case .jpeg:
        if info.bit_depth != 8 {
            throw ImageError(path: name, kind: .unsupported, reason: "\(info.bit_depth)-bit JPEG is not supported")
        }
        exifBytes = Exif.fromJPEG(data)
    case .png: exifBytes = Exif.fromPNG(data)
    default: break
    }
    var exif = exifBytes.flatMap { Exif.parse($0) } ?? ExifInfo()
    // libheif already applies the container's rotation/mirroring (irot/imir), which phones keep in
    // step with the EXIF tag: applying the tag as well would turn the picture twice.
    if format == .heic { exif.orientation = 1 }
    let swap = exif.orientation >= 5
    let metadata = ImageMetadata(format: format, width: Int(swap ? info.height : info.width),
                                 height: Int(swap ? info.width : info.height), orientation: exif.orientation,
                                 dateTimeOriginal: exif.dateTimeOriginal, cameraMake: exif.make,
                                 cameraModel: exif.model, exifFieldCount: exif.fieldCount)
    return Header(metadata: metadata, info: info)
}

/// A HEIF Exif block starts with a 4-byte big-endian offset to the TIFF header.
private func heifExifPayload(_ block: [UInt8]) -> ArraySlice<UInt8>? {
    guard block.count >= 4 else { return nil }
    let offset = Int(block[0]) << 24 | Int(block[1]) << 16 | Int(block[2]) << 8 | Int(block[3])
    if offset >= 0, 4 + offset < block.count { return block[(4 + offset)...] }
    return block[4...]
}

private func codecError(_ name: String, _ format: ImageFormat, _ status: corral_status) -> ImageError {
    let kind: ImageError.Kind
    let what: String
    switch Int(status.code) {
    case Int(CORRAL_TRUNCATED): kind = .truncated; what = "truncated"
    case Int(CORRAL_UNSUPPORTED): kind = .unsupported; what = "unsupported"
    case Int(CORRAL_TOO_LARGE): kind = .tooLarge; what = "too large"
    default: kind = .corrupt; what = "corrupt"
    }
    let message = withUnsafeBytes(of: status.message) { raw -> String in
        let bytes = raw.bindMemory(to: UInt8.self)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
    let label = format.rawValue.uppercased()
    return ImageError(path: name, kind: kind, reason: message.isEmpty ? "\(what) \(label)" : "\(what) \(label): \(message)")
}

/// Reads a whole file, refusing folders, unreadable paths and files over `ImagingLimits.maxFileBytes`.
func readImageFile(path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw ImageError(path: path, kind: .unreadable, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw ImageError(path: path, kind: .unreadable, reason: String(cString: strerror(errno))) }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
        throw ImageError(path: path, kind: .unreadable, reason: (st.st_mode & S_IFMT) == S_IFDIR ? "is a folder" : "not a regular file")
    }
    let size = Int(st.st_size)
    guard size <= ImagingLimits.maxFileBytes else {
        throw ImageError(path: path, kind: .tooLarge, reason: "file is \(size) bytes, over the limit of \(ImagingLimits.maxFileBytes)")
    }
    var failure: Int32 = 0
    let bytes = [UInt8](unsafeUninitializedCapacity: max(size, 1)) { buffer, initialized in
        var done = 0
        while done < size {
            let n = read(fd, buffer.baseAddress! + done, size - done)
            if n < 0 { if errno == EINTR { continue }; failure = errno; break }
            if n == 0 { break }  // the file shrank while we read it
            done += n
        }
        initialized = done
    }
    if failure != 0 { throw ImageError(path: path, kind: .unreadable, reason: String(cString: strerror(failure))) }
    return bytes
}
