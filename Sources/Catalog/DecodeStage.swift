import Foundation
import Imaging

/// The worker-thread half of a scan: decode once at the smallest size the model needs (JPEG DCT
/// scaling), then derive from that one image the model input, the cached thumbnail and the pixel
/// signature, so no file is ever decoded twice.
public struct DecodeStage: Sendable {
    /// Thumbnails fit in 96x64 pixels: 48 columns of terminal half-blocks at two pixels per cell
    /// width, or 96x32 cells — plenty for grids; the image screen decodes the file for large previews.
    public static let thumbnailWidth = 96
    public static let thumbnailHeight = 64

    public let preprocessing: Preprocessing
    /// Short side the decode keeps (JPEG DCT scaling stops above it): the embedder asks for more
    /// than the preprocessing's minimum so the scaled decode does not blur the model input.
    public let decodeShortSide: Int
    public let signature: @Sendable (RGBImage) -> [UInt8]

    public init(preprocessing: Preprocessing, decodeShortSide: Int? = nil, signature: @escaping @Sendable (RGBImage) -> [UInt8]) {
        self.preprocessing = preprocessing
        self.decodeShortSide = decodeShortSide ?? preprocessing.minimumShortSide
        self.signature = signature
    }

    /// The box-reduction factor that still leaves at least twice the thumbnail's size on both
    /// axes: the antialiased thumbnail resize then has enough pixels to be sharp, and the 32 x 32
    /// pixel signature (an area average) is the same within rounding, at a fraction of the cost of
    /// running both over the whole decoded image.
    public static func shrinkFactor(width: Int, height: Int) -> Int {
        max(1, min(width / (2 * thumbnailWidth), height / (2 * thumbnailHeight)))
    }

    public func prepare(data: [UInt8], path: String, profile: StageProfile? = nil) throws -> PreparedImage {
        let (image, metadata) = try profile.measure("decode") {
            try decodeImage(data: data, name: path, minimumShortSide: decodeShortSide)
        }
        let input = profile.measure("model input") { preprocessing.apply(image) }
        let small = profile.measure("shrink") {
            boxReduce(image, factor: DecodeStage.shrinkFactor(width: image.width, height: image.height))
        }
        let thumb = profile.measure("thumbnail") {
            thumbnail(small, maxWidth: DecodeStage.thumbnailWidth, maxHeight: DecodeStage.thumbnailHeight)
        }
        let sig = profile.measure("signature") { signature(small) }
        let stored = profile.measure("thumbnail jpeg") { StoredThumbnail(encoding: thumb) }
        return PreparedImage(input: input, metadata: metadata, thumbnail: thumb, signature: sig, storedThumbnail: stored)
    }
}
