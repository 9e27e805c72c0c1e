// TEMPORARY: the Imaging types named in CONTRACT.md, so Catalog builds before the `imaging` branch
// lands. Delete this file when merging `imaging` (the definitions there replace these one for one).
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
    public init(width: Int, height: Int, pixels: [UInt8]) { self.width = width; self.height = height; self.pixels = pixels }
}
public enum ImageFormat: String, Sendable { case jpeg, png, webp, heic }
public struct ImageMetadata: Sendable, Equatable {
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    public var orientation: Int
    public var dateTimeOriginal: String?
    public var cameraMake: String?
    public var cameraModel: String?
    public var exifFieldCount: Int
    public init(format: ImageFormat, width: Int, height: Int, orientation: Int = 1, dateTimeOriginal: String? = nil,
                cameraMake: String? = nil, cameraModel: String? = nil, exifFieldCount: Int = 0) {
        self.format = format; self.width = width; self.height = height; self.orientation = orientation
        self.dateTimeOriginal = dateTimeOriginal; self.cameraMake = cameraMake; self.cameraModel = cameraModel
        self.exifFieldCount = exifFieldCount
    }
}
