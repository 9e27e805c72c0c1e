/// Imaging: decoding (PNG, JPEG, WebP) into RGB8, EXIF orientation, resampling, the models'
/// preprocessing, thumbnails and the encoders used for fixtures and the thumbnail cache.

/// 8-bit RGB, interleaved, row-major, no row padding: the one pixel format every other module sees,
/// so decoders normalise everything (palette, gray, 16-bit, CMYK, alpha) into it.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage \(width)x\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A blank image, filled with one colour.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { p[3 * i] = fill.0; p[3 * i + 1] = fill.1; p[3 * i + 2] = fill.2 }
        self.init(width: width, height: height, pixels: p)
    }

    @inlinable public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}

/// Detected from the first bytes of the file, never from its name.
public enum ImageFormat: String, Sendable {
    case jpeg, png, webp, heic
}

public struct ImageMetadata: Sendable, Equatable {
    public var format: ImageFormat
    /// Full size as a viewer shows it, i.e. after EXIF orientation (swapped for 5-8).
    public var width: Int
    public var height: Int
    /// EXIF orientation 1-8 (1 when absent or invalid).
    public var orientation: Int
    /// EXIF DateTimeOriginal as written ("YYYY:MM:DD HH:MM:SS").
    public var dateTimeOriginal: String?
    public var cameraMake: String?
    public var cameraModel: String?
    /// Number of EXIF fields (IFD0 + Exif IFD + GPS IFD): a hint for which duplicate kept its metadata.
    public var exifFieldCount: Int

    public init(format: ImageFormat, width: Int, height: Int, orientation: Int = 1, dateTimeOriginal: String? = nil,
                cameraMake: String? = nil, cameraModel: String? = nil, exifFieldCount: Int = 0) {
        self.format = format
        self.width = width
        self.height = height
        self.orientation = orientation
        self.dateTimeOriginal = dateTimeOriginal
        self.cameraMake = cameraMake
        self.cameraModel = cameraModel
        self.exifFieldCount = exifFieldCount
    }
}

/// Every decoding failure, with the file it concerns and a reason a person can act on.
public struct ImageError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Cannot be read at all: missing, a folder, permission denied.
        case unreadable
        /// The data stops before the image does (partial download, interrupted copy).
        case truncated
        /// Malformed data.
        case corrupt
        /// Not an image format we decode, or a variant we do not (12-bit JPEG, animated WebP, HEIC).
        case unsupported
        /// Over the file-size or pixel limit (see `ImagingLimits`).
        case tooLarge
    }
    public var path: String
    public var kind: Kind
    public var reason: String

    public init(path: String, kind: Kind, reason: String) {
        self.path = path
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Limits that protect the process from hostile or absurd files; checked before allocating.
public enum ImagingLimits {
    /// Largest decoded image, in pixels. For JPEG it applies to the DCT-scaled output, so a huge
    /// photo still decodes when only a reduced size is asked for. 200 MP (600 MB of RGB8).
    public static let maxPixels: UInt64 = 200_000_000
    /// Largest file read into memory.
    public static let maxFileBytes: Int = 1 << 30
}
