/// A small-image fingerprint for the cheap pixel check of near-duplicates: the image with uniform
/// borders trimmed, as a 32 x 32 grayscale thumbnail, plus the trimmed region's size (its aspect
/// ratio matters when matching crops). Catalog stores `bytes` (1029 bytes) next to the embedding.
///
/// Why grayscale and why trimmed: copies people meet are often letterboxed/framed and converted
/// to grayscale or colour-edited; comparing luminance with normalised cross-correlation after
/// trimming borders is blind to all of those, while orientation and crops are searched at
/// comparison time (`pixelSimilarity`).
public struct PixelSignature: Sendable, Equatable {
    public static let side = 32
    static let version: UInt8 = 1
    public var bytes: [UInt8]

    /// RGB8 interleaved, row-major, no padding.
    public init(rgb: [UInt8], width: Int, height: Int) {
        let w = max(0, width), h = max(0, height)
        guard w > 0, h > 0, rgb.count >= w * h * 3 else {
            bytes = [PixelSignature.version, 0, 0, 0, 0] + [UInt8](repeating: 0, count: PixelSignature.side * PixelSignature.side)
            return
        }
        let box = rgb.withUnsafeBufferPointer { trimUniformBorders($0.baseAddress!, w, h) }
        let thumb = rgb.withUnsafeBufferPointer { grayThumbnail($0.baseAddress!, w, box) }
        let tw = UInt16(min(65535, box.x1 - box.x0)), th = UInt16(min(65535, box.y1 - box.y0))
        bytes = [PixelSignature.version, UInt8(tw & 0xFF), UInt8(tw >> 8), UInt8(th & 0xFF), UInt8(th >> 8)] + thumb
    }

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// False for bytes of another version or length (e.g. an old cache): such a signature never matches.
    public var isValid: Bool {
        bytes.count == 5 + PixelSignature.side * PixelSignature.side && bytes[0] == PixelSignature.version && trimmedWidth > 0 && trimmedHeight > 0
    }
    var trimmedWidth: Int { bytes.count > 4 ? Int(bytes[1]) | Int(bytes[2]) << 8 : 0 }
    var trimmedHeight: Int { bytes.count > 4 ? Int(bytes[3]) | Int(bytes[4]) << 8 : 0 }
    var aspect: Float { Float(trimmedWidth) / Float(max(1, trimmedHeight)) }
    var gray: [Float] { bytes[5...].map { Float($0) } }
}

struct Box { var x0: Int, y0: Int, x1: Int, y1: Int }

/// Shrinks the box while an outer row/column is one flat colour (letterbox bars, frames, scanner
/// margins). A line counts as border when 98% of its samples are within 14 levels of the line's
/// median colour on every channel and that colour stays within 24 of the first border line's.
/// At least 30% of each dimension is kept, so a flat image is never trimmed to nothing.
func trimUniformBorders(_ p: UnsafePointer<UInt8>, _ w: Int, _ h: Int) -> Box {
    var box = Box(x0: 0, y0: 0, x1: w, y1: h)
    if w < 8 || h < 8 { return box }
    func line(_ horizontal: Bool, _ index: Int) -> [(Int, Int, Int)] {
        let len = horizontal ? box.x1 - box.x0 : box.y1 - box.y0
        let step = max(1, len / 256)
        var out: [(Int, Int, Int)] = []
        var t = horizontal ? box.x0 : box.y0
        let end = horizontal ? box.x1 : box.y1
        while t < end {
            let o = horizontal ? (index * w + t) * 3 : (t * w + index) * 3
            out.append((Int(p[o]), Int(p[o + 1]), Int(p[o + 2])))
            t += step
        }
        return out
    }
    func flatColour(_ px: [(Int, Int, Int)]) -> (Int, Int, Int)? {
        guard !px.isEmpty else { return nil }
        let m = (px.map { $0.0 }.sorted()[px.count / 2], px.map { $0.1 }.sorted()[px.count / 2], px.map { $0.2 }.sorted()[px.count / 2])
        let near = px.filter { abs($0.0 - m.0) <= 14 && abs($0.1 - m.1) <= 14 && abs($0.2 - m.2) <= 14 }.count
        return near * 100 >= px.count * 98 ? m : nil
    }
    // 0 top, 1 bottom, 2 left, 3 right; trimmed in turn so corners do not block each other.
    var reference: [(Int, Int, Int)?] = [nil, nil, nil, nil]
    var done = [false, false, false, false]
    while !done.allSatisfy({ $0 }) {
        for side in 0..<4 where !done[side] {
            let horizontal = side < 2
            let canShrink = horizontal ? (box.y1 - box.y0) > max(4, h * 3 / 10) : (box.x1 - box.x0) > max(4, w * 3 / 10)
            let index = [box.y0, box.y1 - 1, box.x0, box.x1 - 1][side]
            guard canShrink, let c = flatColour(line(horizontal, index)) else { done[side] = true; continue }
            if let r = reference[side] {
                if abs(r.0 - c.0) > 24 || abs(r.1 - c.1) > 24 || abs(r.2 - c.2) > 24 { done[side] = true; continue }
            } else { reference[side] = c }
            switch side {
            case 0: box.y0 += 1
            case 1: box.y1 -= 1
            case 2: box.x0 += 1
            default: box.x1 -= 1
            }
        }
    }
    // A single flat line is as likely a clean photo edge as a border: only trim runs of 2+ lines.
    if box.y0 == 1 { box.y0 = 0 }
    if box.y1 == h - 1 { box.y1 = h }
    if box.x0 == 1 { box.x0 = 0 }
    if box.x1 == w - 1 { box.x1 = w }
    return box
}

/// Area-averaged 32 x 32 luminance (Rec. 601) of the box.
func grayThumbnail(_ p: UnsafePointer<UInt8>, _ w: Int, _ box: Box) -> [UInt8] {
    let s = PixelSignature.side
    let bw = box.x1 - box.x0, bh = box.y1 - box.y0
    var sum = [Float](repeating: 0, count: s * s), count = [Float](repeating: 0, count: s * s)
    // Large images are sampled on a grid of at most ~1024 x 1024 points: plenty for 32 x 32 cells.
    let sx = max(1, bw / 1024), sy = max(1, bh / 1024)
    var y = box.y0
    while y < box.y1 {
        let cy = min(s - 1, (y - box.y0) * s / bh)
        var x = box.x0
        while x < box.x1 {
            let cx = min(s - 1, (x - box.x0) * s / bw)
            let o = (y * w + x) * 3
            sum[cy * s + cx] += 0.299 * Float(p[o]) + 0.587 * Float(p[o + 1]) + 0.114 * Float(p[o + 2])
            count[cy * s + cx] += 1
            x += sx
        }
        y += sy
    }
    // Cells smaller than a pixel (tiny images) borrow the nearest filled cell.
    var out = [UInt8](repeating: 0, count: s * s)
    for cy in 0..<s { for cx in 0..<s {
        var i = cy * s + cx
        if count[i] == 0 {
            let ny = min(bh - 1, cy * bh / s), nx = min(bw - 1, cx * bw / s)
            i = min(s - 1, ny * s / bh) * s + min(s - 1, nx * s / bw)
        }
        out[cy * s + cx] = UInt8(max(0, min(255, (sum[i] / max(1, count[i])).rounded())))
    } }
    return out
}

// MARK: comparison

/// A square grid of luminance with the geometric aspect (width / height) it stands for.
struct Grid {
    var side: Int
    var v: [Float]
    var aspect: Float

    /// Box-downsampled by an integer factor.
    func shrunk(by f: Int) -> Grid {
        let s = side / f
        var out = [Float](repeating: 0, count: s * s)
        for y in 0..<s { for x in 0..<s {
            var acc: Float = 0
            for dy in 0..<f { for dx in 0..<f { acc += v[(y * f + dy) * side + x * f + dx] } }
            out[y * s + x] = acc / Float(f * f)
        } }
        return Grid(side: s, v: out, aspect: aspect)
    }

    /// Where output cell (x, y) of orientation `o` reads from in a side x side grid (see `oriented`).
    @inline(__always)
    static func source(_ x: Int, _ y: Int, _ side: Int, _ o: Int) -> Int {
        var sx = x, sy = y
        if o & 4 != 0 { swap(&sx, &sy) }
        if o & 1 != 0 { sx = side - 1 - sx }
        if o & 2 != 0 { sy = side - 1 - sy }
        return sy * side + sx
    }

    /// One of the 8 dihedral orientations: bit 0 mirror left-right, bit 1 flip top-bottom, bit 2
    /// transpose (so 90/270 rotations are transpose + a flip). Transposes swap the aspect.
    func oriented(_ o: Int) -> Grid {
        var out = [Float](repeating: 0, count: side * side)
        for y in 0..<side { for x in 0..<side { out[y * side + x] = v[Grid.source(x, y, side, o)] } }
        return Grid(side: side, v: out, aspect: o & 4 != 0 ? 1 / aspect : aspect)
    }

    /// Bilinear sample at continuous pixel coordinates (pixel centres at i + 0.5).
    @inline(__always)
    func sample(_ u: Float, _ w: Float) -> Float {
        let fx = min(max(u - 0.5, 0), Float(side - 1)), fy = min(max(w - 0.5, 0), Float(side - 1))
        let x0 = Int(fx), y0 = Int(fy)
        let x1 = min(side - 1, x0 + 1), y1 = min(side - 1, y0 + 1)
        let ax = fx - Float(x0), ay = fy - Float(y0)
        let top = v[y0 * side + x0] * (1 - ax) + v[y0 * side + x1] * ax
        let bottom = v[y1 * side + x0] * (1 - ax) + v[y1 * side + x1] * ax
        return top * (1 - ay) + bottom * ay
    }

    /// The window [x0, x0 + w] x [y0, y0 + h] (fractions of the grid) sampled on a g x g lattice.
    func window(x0: Float, y0: Float, w: Float, h: Float, g: Int) -> [Float] {
        var out = [Float](repeating: 0, count: g * g)
        let s = Float(side)
        for j in 0..<g { for i in 0..<g {
            out[j * g + i] = sample((x0 + w * (Float(i) + 0.5) / Float(g)) * s, (y0 + h * (Float(j) + 0.5) / Float(g)) * s)
        } }
        return out
    }
}

/// Pearson correlation: 1 for the same picture under any brightness/contrast change.
func ncc(_ a: [Float], _ b: [Float]) -> Float {
    let n = Float(a.count)
    var ma: Float = 0, mb: Float = 0
    for i in a.indices { ma += a[i]; mb += b[i] }
    ma /= n; mb /= n
    var sab: Float = 0, saa: Float = 0, sbb: Float = 0
    for i in a.indices { let x = a[i] - ma, y = b[i] - mb; sab += x * y; saa += x * x; sbb += y * y }
    // Flat pictures carry no structure to compare: equal only if both are flat at similar levels.
    if saa < n * 4 || sbb < n * 4 { return (saa < n * 4 && sbb < n * 4 && abs(ma - mb) < 12) ? 1 : 0 }
    return sab / (saa * sbb).squareRoot()
}

/// Luma correlation averaged with the correlation of the local differences (horizontal and
/// vertical steps of the g x g lattice). Smooth gradients and two frames of one scene a little
/// apart correlate well in luma; their fine structure does not, while a copy keeps both.
func structureScore(_ a: [Float], _ b: [Float], g: Int) -> Float {
    var da: [Float] = [], db: [Float] = []
    da.reserveCapacity(2 * g * g); db.reserveCapacity(2 * g * g)
    for y in 0..<g { for x in 0..<(g - 1) { da.append(a[y * g + x + 1] - a[y * g + x]); db.append(b[y * g + x + 1] - b[y * g + x]) } }
    for y in 0..<(g - 1) { for x in 0..<g { da.append(a[(y + 1) * g + x] - a[y * g + x]); db.append(b[(y + 1) * g + x] - b[y * g + x]) } }
    return 0.5 * (ncc(a, b) + differenceNCC(da, db))
}

/// Correlation of difference images; two nearly flat ones (smooth gradients) count as 0.5: no
/// evidence either way, so smooth pictures need more than their luma to be called copies.
func differenceNCC(_ a: [Float], _ b: [Float]) -> Float {
    let n = Float(a.count)
    var sab: Float = 0, saa: Float = 0, sbb: Float = 0
    for i in a.indices { sab += a[i] * b[i]; saa += a[i] * a[i]; sbb += b[i] * b[i] }
    if saa < n * 0.25 || sbb < n * 0.25 { return saa < n * 0.25 && sbb < n * 0.25 ? 0.5 : 0 }
    return sab / (saa * sbb).squareRoot()
}

