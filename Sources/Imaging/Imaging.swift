/// Imaging: decoding (PNG, JPEG, WebP) into RGB8, EXIF orientation, resampling and thumbnails.
public enum ImagingModule {}
