/// Draws a small RGB picture into terminal cells. With colour, each cell is the upper half block
/// '▀' whose foreground is the top pixel and background the bottom pixel, so a cell shows two square
/// pixels; without colour, each cell is a character from a brightness ramp.
public enum ThumbnailView {
    static let ramp: [Character] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]

    /// Draws `thumb` centred in the rectangle, keeping its aspect ratio.
    public static func draw(_ thumb: Thumbnail?, into buf: inout ScreenBuffer, x: Int, y: Int,
                            width: Int, height: Int, theme: Theme) {
        guard width > 0, height > 0 else { return }
        guard let thumb, thumb.width > 0, thumb.height > 0, thumb.pixels.count >= thumb.width * thumb.height * 3 else {
            drawMissing(into: &buf, x: x, y: y, width: width, height: height, theme: theme)
            return
        }
        // Fit into width x (2*height) square pixels.
        let boxW = width, boxH = height * 2
        var w = boxW, h = boxW * thumb.height / thumb.width
        if h > boxH { h = boxH; w = max(1, boxH * thumb.width / thumb.height) }
        h = max(2, h + (h & 1))   // whole cells
        if h > boxH { h = boxH - (boxH & 1) }
        let px = resample(thumb, width: w, height: h)
        let ox = x + (boxW - w) / 2, oy = y + (height - h / 2) / 2
        for cy in 0..<(h / 2) {
            for cx in 0..<w {
                let t = (2 * cy * w + cx) * 3, b = ((2 * cy + 1) * w + cx) * 3
                if theme.colorThumbnails {
                    let top = Color.rgb(px[t], px[t + 1], px[t + 2]), bot = Color.rgb(px[b], px[b + 1], px[b + 2])
                    buf.set(ox + cx, oy + cy, Cell("▀", style: Style(fg: top, bg: bot)))
                } else {
                    let lum = (luma(px, t) + luma(px, b)) / 2
                    let i = min(ramp.count - 1, lum * ramp.count / 256)
                    buf.set(ox + cx, oy + cy, Cell(ramp[i]))
                }
            }
        }
    }

    static func luma(_ p: [UInt8], _ i: Int) -> Int {
        (Int(p[i]) * 299 + Int(p[i + 1]) * 587 + Int(p[i + 2]) * 114) / 1000
    }

    static func drawMissing(into buf: inout ScreenBuffer, x: Int, y: Int, width: Int, height: Int, theme: Theme) {
        let style = theme[.border]
        for yy in 0..<height {
            for xx in 0..<width where yy == 0 || yy == height - 1 || xx == 0 || xx == width - 1 {
                buf.set(x + xx, y + yy, Cell("·", style: style))
            }
        }
        if height >= 3, width >= 5 {
            let label = TextWidth.truncate("no preview", width - 2)
            buf.put(label, x: x + (width - TextWidth.of(label)) / 2, y: y + height / 2, style: theme[.secondary])
        }
    }

    /// Area-average resampling: thumbnails shrink by large factors, and averaging keeps them
    /// recognisable where point sampling would alias.
    public static func resample(_ t: Thumbnail, width: Int, height: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for oy in 0..<height {
            let y0 = oy * t.height / height, y1 = max(y0 + 1, (oy + 1) * t.height / height)
            for ox in 0..<width {
                let x0 = ox * t.width / width, x1 = max(x0 + 1, (ox + 1) * t.width / width)
                var r = 0, g = 0, b = 0
                for sy in y0..<min(y1, t.height) {
                    var i = (sy * t.width + x0) * 3
                    for _ in x0..<min(x1, t.width) {
                        r += Int(t.pixels[i]); g += Int(t.pixels[i + 1]); b += Int(t.pixels[i + 2]); i += 3
                    }
                }
                let n = max(1, (min(y1, t.height) - y0) * (min(x1, t.width) - x0))
                let o = (oy * width + ox) * 3
                out[o] = UInt8(r / n); out[o + 1] = UInt8(g / n); out[o + 2] = UInt8(b / n)
            }
        }
        return out
    }
}
