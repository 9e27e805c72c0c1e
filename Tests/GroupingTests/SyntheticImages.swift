import TestSupport

/// Procedural test pictures and the edits people apply to photos, so the verdict tests need no
/// third-party images.
struct TestImage {
    var width: Int, height: Int
    var rgb: [UInt8]

    subscript(x: Int, y: Int) -> (Float, Float, Float) {
        let o = (y * width + x) * 3
        return (Float(rgb[o]), Float(rgb[o + 1]), Float(rgb[o + 2]))
    }

    /// A "scene": a two-colour gradient sky/ground, blobs and boxes at seeded places, fine noise.
    /// `shift` moves the camera and `jitter` moves the objects (a different shot of the same scene).
    static func scene(seed: UInt64, width: Int = 240, height: Int = 160, shift: (Float, Float) = (0, 0),
                      jitter: Float = 0, light: Float = 1) -> TestImage {
        var rng = SeededRNG(seed: seed)
        func u() -> Float { (rng.nextSigned() + 1) / 2 }
        let top = (u() * 255, u() * 255, u() * 255), bottom = (u() * 255, u() * 255, u() * 255)
        let horizon = 0.35 + 0.3 * u()
        var shapes: [(cx: Float, cy: Float, r: Float, box: Bool, c: (Float, Float, Float))] = []
        for _ in 0..<7 {
            shapes.append((u(), u(), 0.05 + 0.12 * u(), u() > 0.5, (u() * 255, u() * 255, u() * 255)))
        }
        var jr = SeededRNG(seed: seed &+ 77 &+ UInt64(jitter * 1000))
        if jitter > 0 {
            for i in shapes.indices { shapes[i].cx += jr.nextSigned() * jitter; shapes[i].cy += jr.nextSigned() * jitter }
        }
        var noise = SeededRNG(seed: seed &* 31 &+ 5)
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height { for x in 0..<width {
            let fx = Float(x) / Float(width) + shift.0, fy = Float(y) / Float(height) + shift.1
            let t = fy < horizon ? fy / horizon * 0.5 : 0.5 + (fy - horizon) / (1 - horizon) * 0.5
            var c = (top.0 + (bottom.0 - top.0) * t, top.1 + (bottom.1 - top.1) * t, top.2 + (bottom.2 - top.2) * t)
            if fy > horizon { c = (c.0 * 0.6, c.1 * 0.8, c.2 * 0.5) }
            for s in shapes {
                let dx = (fx - s.cx) * 1.5, dy = fy - s.cy
                let inside = s.box ? (abs(dx) < s.r && abs(dy) < s.r * 0.7) : (dx * dx + dy * dy < s.r * s.r)
                if inside { c = s.c }
            }
            let nz = noise.nextSigned() * 6
            let o = (y * width + x) * 3
            px[o] = clamp((c.0 + nz) * light); px[o + 1] = clamp((c.1 + nz) * light); px[o + 2] = clamp((c.2 + nz) * light)
        } }
        return TestImage(width: width, height: height, rgb: px)
    }

    func resized(_ w: Int, _ h: Int) -> TestImage {
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w {
            // Box filter over the source footprint (area average), bilinear when enlarging.
            let sx0 = Float(x) * Float(width) / Float(w), sx1 = Float(x + 1) * Float(width) / Float(w)
            let sy0 = Float(y) * Float(height) / Float(h), sy1 = Float(y + 1) * Float(height) / Float(h)
            var acc: (Float, Float, Float) = (0, 0, 0); var n: Float = 0
            var yy = Int(sy0)
            repeat {
                var xx = Int(sx0)
                repeat {
                    let p = self[min(width - 1, xx), min(height - 1, yy)]
                    acc = (acc.0 + p.0, acc.1 + p.1, acc.2 + p.2); n += 1
                    xx += 1
                } while Float(xx) < sx1
                yy += 1
            } while Float(yy) < sy1
            let o = (y * w + x) * 3
            out[o] = clamp(acc.0 / n); out[o + 1] = clamp(acc.1 / n); out[o + 2] = clamp(acc.2 / n)
        } }
        return TestImage(width: w, height: h, rgb: out)
    }

    func cropped(x: Int, y: Int, w: Int, h: Int) -> TestImage {
        var out: [UInt8] = []
        for yy in y..<(y + h) { out += rgb[((yy * width + x) * 3)..<((yy * width + x + w) * 3)] }
        return TestImage(width: w, height: h, rgb: out)
    }

    func mirrored() -> TestImage { map(width, height) { x, y in (width - 1 - x, y) } }
    func rotated90() -> TestImage { map(height, width) { x, y in (y, height - 1 - x) } }
    func rotated180() -> TestImage { map(width, height) { x, y in (width - 1 - x, height - 1 - y) } }

    private func map(_ w: Int, _ h: Int, _ src: (Int, Int) -> (Int, Int)) -> TestImage {
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w {
            let (sx, sy) = src(x, y)
            let o = (y * w + x) * 3, s = (sy * width + sx) * 3
            out[o] = rgb[s]; out[o + 1] = rgb[s + 1]; out[o + 2] = rgb[s + 2]
        } }
        return TestImage(width: w, height: h, rgb: out)
    }

    func bordered(_ b: Int, colour: UInt8 = 0, letterbox: Bool = false) -> TestImage {
        let w = letterbox ? width : width + 2 * b, h = height + 2 * b
        var out = [UInt8](repeating: colour, count: w * h * 3)
        let ox = letterbox ? 0 : b
        for y in 0..<height { for x in 0..<width {
            let o = ((y + b) * w + x + ox) * 3, s = (y * width + x) * 3
            out[o] = rgb[s]; out[o + 1] = rgb[s + 1]; out[o + 2] = rgb[s + 2]
        } }
        return TestImage(width: w, height: h, rgb: out)
    }

    /// A white bar over the bottom 12% with dark "letters".
    func captioned() -> TestImage {
        var out = self
        let bar = height * 12 / 100
        for y in (height - bar)..<height { for x in 0..<width {
            let letter = (x / 6) % 3 != 2 && (y - (height - bar)) > bar / 4 && (y - (height - bar)) < bar * 3 / 4 && x > width / 10 && x < width * 8 / 10
            let v: UInt8 = letter ? 20 : 245
            let o = (y * width + x) * 3
            out.rgb[o] = v; out.rgb[o + 1] = v; out.rgb[o + 2] = v
        } }
        return out
    }

    func grayscale() -> TestImage {
        var out = self
        for i in 0..<(width * height) {
            let g = clamp(0.299 * Float(rgb[3 * i]) + 0.587 * Float(rgb[3 * i + 1]) + 0.114 * Float(rgb[3 * i + 2]))
            out.rgb[3 * i] = g; out.rgb[3 * i + 1] = g; out.rgb[3 * i + 2] = g
        }
        return out
    }

    /// Warmer and more contrasty: a typical "filter".
    func colourEdited() -> TestImage {
        var out = self
        for i in 0..<(width * height) {
            out.rgb[3 * i] = clamp((Float(rgb[3 * i]) - 128) * 1.3 + 140)
            out.rgb[3 * i + 1] = clamp((Float(rgb[3 * i + 1]) - 128) * 1.2 + 128)
            out.rgb[3 * i + 2] = clamp((Float(rgb[3 * i + 2]) - 128) * 1.1 + 110)
        }
        return out
    }
}

func clamp(_ v: Float) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }
