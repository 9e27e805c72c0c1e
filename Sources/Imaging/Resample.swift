/// Separable resampling with Pillow's `ImagingResample` semantics, so that models evaluated with
/// PIL preprocessing see the same pixels: each output pixel centre maps to
/// `in0 + (i + 0.5) * scale`; when downscaling the kernel is stretched by the scale (antialiasing);
/// taps are clipped to the source and the weights renormalised. Weights are computed once per axis;
/// the passes are plain loops over contiguous floats (horizontal: one SIMD4 per tap carrying RGB,
/// vertical: an axpy over whole rows) with no per-pixel allocation.
enum ResampleFilter {
    /// Keys cubic with a = -0.5 (PIL.Image.BICUBIC), support 2.
    case bicubic
    /// Triangle (PIL.Image.BILINEAR), support 1.
    case bilinear

    var support: Double {
        switch self {
        case .bicubic: return 2
        case .bilinear: return 1
        }
    }

    @inline(__always) func weight(_ t: Double) -> Double {
        let x = abs(t)
        switch self {
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .bilinear:
            return x < 1 ? 1 - x : 0
        }
    }
}

/// Taps of one axis: output i reads `taps` source samples starting at `starts[i]` (zero-padded).
struct ResampleAxis {
    var starts: [Int]
    var taps: Int
    var weights: [Float]  // starts.count x taps

    /// Maps source samples [0, inSize) onto `outSize` outputs (Pillow's precompute_coeffs with the
    /// box [0, inSize)), keeping only outputs in `window`.
    init(inSize: Int, outSize: Int, window: Range<Int>, filter: ResampleFilter) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let maxTaps = min(Int(support.rounded(.up)) * 2 + 1, inSize)
        var starts: [Int] = []
        var weights = [Float](repeating: 0, count: window.count * maxTaps)
        starts.reserveCapacity(window.count)
        var k = [Double](repeating: 0, count: maxTaps)
        for (row, i) in window.enumerated() {
            let center = (Double(i) + 0.5) * scale
            var xmin = Int(center - support + 0.5)  // truncation toward zero, as Pillow's (int) cast
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            let n = min(max(xmax - xmin, 0), maxTaps)
            var total = 0.0
            for j in 0..<n {
                k[j] = filter.weight((Double(j + xmin) - center + 0.5) / filterScale)
                total += k[j]
            }
            // Store the taps in a window that stays inside the source, so every tap can be read
            // unconditionally; the weights sit at their offset in it, the rest are zero.
            let start = max(min(xmin, inSize - maxTaps), 0)
            let offset = xmin - start
            for j in 0..<n { weights[row * maxTaps + offset + j] = Float(total != 0 ? k[j] / total : 0) }
            starts.append(start)
        }
        self.starts = starts
        self.taps = maxTaps
        self.weights = weights
    }
}

/// Resamples the `region` of `image` (treated as a whole image: taps never leave it) to
/// outWidth x outHeight and hands each output row in `window` to `emit` as window.width x 3 floats
/// (0-255 scale, not yet rounded or clamped). As in Pillow, the horizontal pass runs first and its
/// result is rounded to 8 bits before the vertical pass.
func resample(_ image: RGBImage, region: (x: Int, y: Int, width: Int, height: Int),
              outWidth: Int, outHeight: Int, window: (x: Int, y: Int, width: Int, height: Int),
              filter: ResampleFilter, emit: (_ row: Int, _ values: UnsafePointer<Float>) -> Void) {
    let horizontal = ResampleAxis(inSize: region.width, outSize: outWidth,
                                  window: window.x..<(window.x + window.width), filter: filter)
    let vertical = ResampleAxis(inSize: region.height, outSize: outHeight,
                                window: window.y..<(window.y + window.height), filter: filter)
    guard let firstRow = vertical.starts.min(), let lastStart = vertical.starts.max() else { return }
    let rowCount = min(lastStart + vertical.taps, region.height) - firstRow
    let outStride = window.width * 3
    // Horizontal pass over the source rows the vertical taps touch, into floats.
    // One spare float per row lets the SIMD4 loads of the last pixel read past its blue sample.
    let srcFloats = region.width * 3 + 1
    var srcRow = [Float](repeating: 0, count: srcFloats)
    var mid = [Float](repeating: 0, count: rowCount * outStride)
    var line = [Float](repeating: 0, count: outStride)
    let stride = image.width * 3
    image.pixels.withUnsafeBufferPointer { pix in
        srcRow.withUnsafeMutableBufferPointer { srcBuf in
            mid.withUnsafeMutableBufferPointer { midBuf in
                horizontal.weights.withUnsafeBufferPointer { hw in
                    let src = srcBuf.baseAddress!, m = midBuf.baseAddress!, w = hw.baseAddress!
                    let taps = horizontal.taps
                    for r in 0..<rowCount {
                        let sy = region.y + firstRow + r
                        let p = pix.baseAddress! + sy * stride + region.x * 3
                        for i in 0..<(region.width * 3) { src[i] = Float(p[i]) }
                        let out = m + r * outStride
                        for (ox, start) in horizontal.starts.enumerated() {
                            var acc = SIMD4<Float>(repeating: 0)
                            let wk = w + ox * taps
                            var s = src + start * 3
                            for t in 0..<taps {
                                let v = UnsafeRawPointer(s).loadUnaligned(as: SIMD4<Float>.self)
                                acc += v * wk[t]
                                s += 3
                            }
                            // Pillow keeps the intermediate image in 8 bits: round and clip here too.
                            out[3 * ox] = clampRound255(acc[0])
                            out[3 * ox + 1] = clampRound255(acc[1])
                            out[3 * ox + 2] = clampRound255(acc[2])
                        }
                    }
                }
            }
        }
    }
    // Vertical pass: each output row is a weighted sum of whole intermediate rows.
    mid.withUnsafeBufferPointer { midBuf in
        line.withUnsafeMutableBufferPointer { lineBuf in
            vertical.weights.withUnsafeBufferPointer { vw in
                let m = midBuf.baseAddress!, out = lineBuf.baseAddress!
                let taps = vertical.taps
                for (oy, start) in vertical.starts.enumerated() {
                    let wk = vw.baseAddress! + oy * taps
                    for i in 0..<outStride { out[i] = 0 }
                    for t in 0..<taps {
                        let weight = wk[t]
                        if weight == 0 { continue }
                        let row = m + (start - firstRow + t) * outStride
                        for i in 0..<outStride { out[i] += weight * row[i] }
                    }
                    emit(window.y + oy, UnsafePointer(out))
                }
            }
        }
    }
}

@inline(__always) func clampRound255(_ v: Float) -> Float {
    min(max(v, 0), 255).rounded(.toNearestOrAwayFromZero)
}

/// Antialiased resize (Pillow's bicubic): the thumbnails and any size change that is not a model input.
public func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
    precondition(width > 0 && height > 0, "resize to \(width)x\(height)")
    if width == image.width && height == image.height { return image }
    guard image.width > 0, image.height > 0 else { return RGBImage(width: width, height: height) }
    var out = [UInt8](repeating: 0, count: width * height * 3)
    out.withUnsafeMutableBufferPointer { dst in
        resample(image, region: (0, 0, image.width, image.height), outWidth: width, outHeight: height,
                 window: (0, 0, width, height), filter: .bicubic) { row, values in
            let d = dst.baseAddress! + row * width * 3
            for i in 0..<(width * 3) { d[i] = UInt8(clampRound255(values[i])) }
        }
    }
    return RGBImage(width: width, height: height, pixels: out)
}

/// Fits the image inside maxWidth x maxHeight keeping its aspect ratio; never enlarges (like
/// Pillow's thumbnail), so small images stay sharp and are scaled by whoever draws them.
public func thumbnail(_ image: RGBImage, maxWidth: Int, maxHeight: Int) -> RGBImage {
    guard image.width > 0, image.height > 0, maxWidth > 0, maxHeight > 0 else { return image }
    let scale = min(Double(maxWidth) / Double(image.width), Double(maxHeight) / Double(image.height))
    if scale >= 1 { return image }
    let w = min(maxWidth, max(1, Int((Double(image.width) * scale).rounded())))
    let h = min(maxHeight, max(1, Int((Double(image.height) * scale).rounded())))
    return resize(image, width: w, height: h)
}

/// Integer box reduction: each output pixel is the rounded mean of a `factor` x `factor` block
/// (blocks on the right and bottom edges may be partial and average what they have, so no source
/// pixel is dropped). Rows are summed first (a plain vectorisable add over whole rows), then each
/// summed row is reduced across: about one add per sample, a small fraction of an antialiased
/// resize's cost, which is why the scan shrinks the decoded image this way before making its
/// thumbnail and signature.
public func boxReduce(_ image: RGBImage, factor: Int) -> RGBImage {
    precondition(factor >= 1, "boxReduce factor \(factor)")
    if factor == 1 || image.width == 0 || image.height == 0 { return image }
    let w = image.width, h = image.height, rowSamples = w * 3
    let ow = (w + factor - 1) / factor, oh = (h + factor - 1) / factor
    var out = [UInt8](repeating: 0, count: ow * oh * 3)
    var acc = [UInt32](repeating: 0, count: rowSamples)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            acc.withUnsafeMutableBufferPointer { a in
                let sums = a.baseAddress!
                for oy in 0..<oh {
                    let y0 = oy * factor, y1 = min(h, y0 + factor)
                    let first = src.baseAddress! + y0 * rowSamples
                    for i in 0..<rowSamples { sums[i] = UInt32(first[i]) }
                    for y in (y0 + 1)..<max(y0 + 1, y1) {
                        let row = src.baseAddress! + y * rowSamples
                        for i in 0..<rowSamples { sums[i] &+= UInt32(row[i]) }
                    }
                    let rows = UInt32(y1 - y0)
                    let o = dst.baseAddress! + oy * ow * 3
                    for ox in 0..<ow {
                        let x0 = ox * factor, x1 = min(w, x0 + factor)
                        var r: UInt32 = 0, g: UInt32 = 0, b: UInt32 = 0
                        var p = sums + x0 * 3
                        for _ in x0..<x1 { r &+= p[0]; g &+= p[1]; b &+= p[2]; p += 3 }
                        let n = rows * UInt32(x1 - x0)
                        o[3 * ox] = UInt8((r + n / 2) / n)
                        o[3 * ox + 1] = UInt8((g + n / 2) / n)
                        o[3 * ox + 2] = UInt8((b + n / 2) / n)
                    }
                }
            }
        }
    }
    return RGBImage(width: ow, height: oh, pixels: out)
}
