/// A model's evaluation preprocessing, declared by the model so that decode and resize do exactly
/// what its accuracy was measured with. Output is NHWC float32 [inputSize, inputSize, 3].
public enum Preprocessing: Sendable, Equatable {
    /// EfficientNet-Lite at input size S: centre crop of side c = floor(S / (S + 32) * shortSide)
    /// (computed exactly in integers) at offset ((h - c + 1) / 2, (w - c + 1) / 2), bicubic resize
    /// to S x S (Pillow semantics, rounded to 8-bit like a PIL image), then (x - 127) / 128.
    case efficientNet(size: Int)
    /// torchvision ResNet/ResNeXt: resize the short side to `resize` (bilinear, antialiased, as
    /// torchvision's PIL path), centre crop `crop`, then (x / 255 - mean) / std with ImageNet stats.
    case torchvision(resize: Int, crop: Int)

    public var inputSize: Int {
        switch self {
        case .efficientNet(let s): return s
        case .torchvision(_, let crop): return crop
        }
    }

    /// The short side a decode must keep so the crop is still taken at full resolution: S + 32
    /// (256 for Lite0), or the resize target. Pass it to `decodeImage(minimumShortSide:)`.
    public var minimumShortSide: Int {
        switch self {
        case .efficientNet(let s): return s + 32
        case .torchvision(let resize, _): return resize
        }
    }

    /// The short side to decode at for embedding: twice `minimumShortSide`. Decoding nearer the
    /// minimum leaves the antialiased resize too little to work with: decoded to a short side of
    /// 405-417 (about 1.6x for Lite0), Elephants.jpg and aloeL.jpg drift to cosine 0.987 from a
    /// full-size decode; at 2x every dev photo and generated camera-size image stays >= 0.991
    /// (DecodeScaleTests, docs/catalog.md). Imaging then picks the smallest DCT scale n/8,
    /// n >= 2, that keeps it.
    /// Every path that embeds (scan, embed, bench) uses this one value.
    public var decodeShortSide: Int { 2 * minimumShortSide }

    public func apply(_ image: RGBImage) -> [Float] {
        let n = inputSize * inputSize * 3
        return [Float](unsafeUninitializedCapacity: n) { buffer, count in
            apply(image, into: buffer.baseAddress!)
            count = n
        }
    }

    public func apply(_ image: RGBImage, into output: UnsafeMutablePointer<Float>) {
        let size = inputSize
        let w = image.width, h = image.height
        guard w > 0, h > 0 else {
            output.initialize(repeating: 0, count: size * size * 3)
            return
        }
        switch self {
        case .efficientNet(let s):
            let c = max(1, s * min(w, h) / (s + 32))
            let top = (h - c + 1) / 2, left = (w - c + 1) / 2
            resample(image, region: (left, top, c, c), outWidth: s, outHeight: s, window: (0, 0, s, s),
                     filter: .bicubic) { row, values in
                let o = output + row * s * 3
                for i in 0..<(s * 3) { o[i] = (clampRound255(values[i]) - 127) * (1.0 / 128) }
            }
        case .torchvision(let resize, let crop):
            // torchvision.transforms.Resize(int): short side to `resize`, long side int(resize * long / short).
            let (rw, rh) = w <= h ? (resize, resize * h / w) : (resize * w / h, resize)
            let cw = min(crop, rw), ch = min(crop, rh)
            // CenterCrop: int(round((size - crop) / 2)), Python rounding (half to even).
            let top = Int((Double(rh - ch) / 2).rounded(.toNearestOrEven))
            let left = Int((Double(rw - cw) / 2).rounded(.toNearestOrEven))
            if cw < crop || ch < crop { output.initialize(repeating: 0, count: crop * crop * 3) }
            let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
            let scale = (0..<3).map { 1 / (255 * std[$0]) }, bias = (0..<3).map { -mean[$0] / std[$0] }
            resample(image, region: (0, 0, w, h), outWidth: rw, outHeight: rh, window: (left, top, cw, ch),
                     filter: .bilinear) { row, values in
                let o = output + (row - top) * crop * 3
                for x in 0..<cw {
                    for k in 0..<3 { o[3 * x + k] = clampRound255(values[3 * x + k]) * scale[k] + bias[k] }
                }
            }
        }
    }
}
