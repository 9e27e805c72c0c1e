/// Output size of a pooling window (floor mode, like PyTorch's default).
public func poolOutputSize(height: Int, width: Int, kernel: Int, stride: Int, padding: Int) -> (height: Int, width: Int) {
    ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
}

/// Max pooling over NHWC; padded positions never win (they count as -infinity), as in PyTorch.
public func maxPool2D(_ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int,
                      kernel: Int, stride: Int, padding: Int,
                      output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
    let (oh, ow) = poolOutputSize(height: height, width: width, kernel: kernel, stride: stride, padding: padding)
    precondition(oh > 0 && ow > 0, "maxPool2D: input \(height)x\(width) too small")
    pool.parallelFor(batch * oh) { task in
        let n = task / oh, oy = task % oh
        let image = input + n * height * width * channels
        let y0 = max(oy * stride - padding, 0), y1 = min(oy * stride - padding + kernel, height)
        for ox in 0..<ow {
            let o = output + ((n * oh + oy) * ow + ox) * channels
            o.update(repeating: -.infinity, count: channels)
            let x0 = max(ox * stride - padding, 0), x1 = min(ox * stride - padding + kernel, width)
            for iy in y0..<y1 {
                for ix in x0..<x1 {
                    let p = image + (iy * width + ix) * channels
                    for c in 0..<channels { o[c] = max(o[c], p[c]) }
                }
            }
        }
    }
}

/// Average pooling over NHWC. `countIncludePadding` true divides by the full window (PyTorch's
/// default); false divides by the number of real pixels under the window.
public func avgPool2D(_ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int,
                      kernel: Int, stride: Int, padding: Int, countIncludePadding: Bool = true,
                      output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
    let (oh, ow) = poolOutputSize(height: height, width: width, kernel: kernel, stride: stride, padding: padding)
    precondition(oh > 0 && ow > 0, "avgPool2D: input \(height)x\(width) too small")
    pool.parallelFor(batch * oh) { task in
        let n = task / oh, oy = task % oh
        let image = input + n * height * width * channels
        let y0 = max(oy * stride - padding, 0), y1 = min(oy * stride - padding + kernel, height)
        for ox in 0..<ow {
            let o = output + ((n * oh + oy) * ow + ox) * channels
            o.update(repeating: 0, count: channels)
            let x0 = max(ox * stride - padding, 0), x1 = min(ox * stride - padding + kernel, width)
            for iy in y0..<y1 {
                for ix in x0..<x1 {
                    let p = image + (iy * width + ix) * channels
                    for c in 0..<channels { o[c] += p[c] }
                }
            }
            let count = countIncludePadding ? kernel * kernel : max(1, (y1 - y0) * (x1 - x0))
            let scale = 1 / Float(count)
            for c in 0..<channels { o[c] *= scale }
        }
    }
}

/// Mean over all pixels of each image: NHWC [batch, h, w, c] -> [batch, c].
public func globalAveragePool(_ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels: Int,
                              output: UnsafeMutablePointer<Float>) {
    let pixels = height * width
    let scale = 1 / Float(max(pixels, 1))
    for n in 0..<batch {
        let o = output + n * channels
        o.update(repeating: 0, count: channels)
        let image = input + n * pixels * channels
        for p in 0..<pixels {
            let px = image + p * channels
            for c in 0..<channels { o[c] += px[c] }
        }
        for c in 0..<channels { o[c] *= scale }
    }
}
