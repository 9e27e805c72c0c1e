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

    public func prepare(data: [UInt8], path: String) throws -> PreparedImage {
        let (image, metadata) = try decodeImage(data: data, name: path, minimumShortSide: decodeShortSide)
        let input = preprocessing.apply(image)
        let thumb = thumbnail(image, maxWidth: DecodeStage.thumbnailWidth, maxHeight: DecodeStage.thumbnailHeight)
        return PreparedImage(input: input, metadata: metadata, thumbnail: thumb, signature: signature(image))
    }
}
