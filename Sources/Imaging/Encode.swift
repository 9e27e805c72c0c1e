import CImageCodecs

/// Chroma subsampling of a colour JPEG.
public enum JPEGSubsampling: Sendable {
    case s444, s422, s420
    var factors: (h: Int32, v: Int32) {
        switch self {
        case .s444: return (1, 1)
        case .s422: return (2, 1)
        case .s420: return (2, 2)
        }
    }
}

/// Encoding failed (only on absurd sizes or out of memory).
public struct EncodeError: Error, CustomStringConvertible {
    public var description: String
}

public func encodePNG(_ image: RGBImage) throws -> [UInt8] {
    try ImageEncoders.png(rows: image.pixels, rowBytes: image.width * 3, width: image.width, height: image.height,
                          bitDepth: 8, colorType: 2)
}

public func encodeJPEG(_ image: RGBImage, quality: Int) throws -> [UInt8] {
    try ImageEncoders.jpeg(samples: image.pixels, width: image.width, height: image.height, components: 3,
                           quality: quality)
}

/// Lossy (quality 0-100) or lossless WebP of an RGB image.
public func encodeWebP(_ image: RGBImage, quality: Float = 90, lossless: Bool = false) throws -> [UInt8] {
    try ImageEncoders.webp(samples: image.pixels, width: image.width, height: image.height, hasAlpha: false,
                           lossless: lossless, quality: quality)
}

/// The encoders with every option the codecs offer, for fixtures (tests of this and other modules)
/// and for writing files in whatever variant a test needs.
public enum ImageEncoders {
    /// components 1 (gray), 3 (RGB) or 4 (CMYK, stored Adobe-style inverted; YCCK if `ycck`).
    public static func jpeg(samples: [UInt8], width: Int, height: Int, components: Int, quality: Int,
                            progressive: Bool = false, subsampling: JPEGSubsampling = .s420,
                            ycck: Bool = false) throws -> [UInt8] {
        precondition(samples.count == width * height * components)
        let f = subsampling.factors
        return try collect { out, size, status in
            corral_jpeg_encode(samples, Int32(width), Int32(height), Int32(components), Int32(quality),
                               progressive ? 1 : 0, f.h, f.v, ycck ? 1 : 0, out, size, status)
        }
    }

    /// Rows in PNG's own sample layout (bit-packed below 8 bits, big-endian 16-bit samples).
    /// colorType: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.
    public static func png(rows: [UInt8], rowBytes: Int, width: Int, height: Int, bitDepth: Int, colorType: Int,
                           interlaced: Bool = false, palette: [UInt8] = [], paletteAlpha: [UInt8] = [],
                           transparentColor: [UInt16]? = nil) throws -> [UInt8] {
        precondition(rows.count >= rowBytes * height)
        return try collect { out, size, status in
            let trns = transparentColor ?? []
            return trns.withUnsafeBufferPointer { t in
                corral_png_encode(rows, rowBytes, Int32(width), Int32(height), Int32(bitDepth), Int32(colorType),
                                  interlaced ? 1 : 0, palette.isEmpty ? nil : palette, Int32(palette.count / 3),
                                  paletteAlpha.isEmpty ? nil : paletteAlpha, Int32(paletteAlpha.count),
                                  transparentColor == nil ? nil : t.baseAddress, out, size, status)
            }
        }
    }

    /// RGB or RGBA samples.
    public static func webp(samples: [UInt8], width: Int, height: Int, hasAlpha: Bool, lossless: Bool,
                            quality: Float = 90) throws -> [UInt8] {
        precondition(samples.count == width * height * (hasAlpha ? 4 : 3))
        return try collect { out, size, status in
            corral_webp_encode(samples, Int32(width), Int32(height), hasAlpha ? 1 : 0, lossless ? 1 : 0, quality,
                               out, size, status)
        }
    }

    /// HEVC-coded HEIC (needs libheif with an HEVC encoder at run time); `exif` is TIFF data.
    public static func heic(_ image: RGBImage, quality: Int = 90, exif: [UInt8] = []) throws -> [UInt8] {
        try collect { out, size, status in
            exif.withUnsafeBufferPointer { e in
                corral_heic_encode(image.pixels, Int32(image.width), Int32(image.height), Int32(quality),
                                   e.baseAddress, e.count, out, size, status)
            }
        }
    }

    /// Whether HEIC decoding is available (libheif found at run time).
    public static var heicAvailable: Bool { corral_heic_available() != 0 }

    private static func collect(_ body: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>,
                                         UnsafeMutablePointer<corral_status>) -> Int32) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var status = corral_status()
        let rc = body(&out, &size, &status)
        defer { corral_free(out) }
        guard rc == CORRAL_OK, let bytes = out else {
            let message = withUnsafeBytes(of: status.message) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            throw EncodeError(description: message)
        }
        return Array(UnsafeBufferPointer(start: bytes, count: size))
    }
}
