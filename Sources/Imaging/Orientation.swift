/// Turns a stored image upright according to its EXIF orientation (1-8), so that what a viewer
/// shows upright is what the embedder and the thumbnails see.
///
/// For an output pixel (x', y') of the upright image, the stored pixel (x, y) is, with W x H the
/// stored size:
///   1: (x', y')            2: (W-1-x', y')         3: (W-1-x', H-1-y')     4: (x', H-1-y')
///   5: (y', x')            6: (y', H-1-x')         7: (W-1-y', H-1-x')     8: (W-1-y', x')
/// (2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90
/// counter-clockwise, as in the EXIF/TIFF specification and Pillow's exif_transpose.)
public func applyOrientation(_ image: RGBImage, _ orientation: Int) -> RGBImage {
    guard (2...8).contains(orientation) else { return image }
    let w = image.width, h = image.height
    let transposed = orientation >= 5
    let ow = transposed ? h : w, oh = transposed ? w : h
    // Stored pixel index = rowStart(y') + x' * step, in pixels.
    let step: Int, start0: Int, rowStep: Int
    switch orientation {
    case 2: start0 = w - 1; rowStep = w; step = -1
    case 3: start0 = (h - 1) * w + w - 1; rowStep = -w; step = -1
    case 4: start0 = (h - 1) * w; rowStep = -w; step = 1
    case 5: start0 = 0; rowStep = 1; step = w
    case 6: start0 = (h - 1) * w; rowStep = 1; step = -w
    case 7: start0 = (h - 1) * w + w - 1; rowStep = -1; step = -w
    default: start0 = w - 1; rowStep = -1; step = w  // 8
    }
    var out = [UInt8](repeating: 0, count: ow * oh * 3)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let s = src.baseAddress!, d = dst.baseAddress!
            for y in 0..<oh {
                var p = start0 + y * rowStep
                let row = d + y * ow * 3
                for x in 0..<ow {
                    row[3 * x] = s[3 * p]
                    row[3 * x + 1] = s[3 * p + 1]
                    row[3 * x + 2] = s[3 * p + 2]
                    p += step
                }
            }
        }
    }
    return RGBImage(width: ow, height: oh, pixels: out)
}
