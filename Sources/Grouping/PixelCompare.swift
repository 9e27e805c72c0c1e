/// `pixelSimilarity`, the pixel check of near-duplicate candidates, in a form that scales to the
/// millions of candidate pairs of a 100,000-image library. The search is session 1's (8
/// orientations, placements of either picture inside the other down to 45% of its area, coarse
/// on 8 x 8 then refined on 16 x 16, strips left out for captions); what changed is the work:
/// - a window of a picture at a placement does not depend on how the other picture is turned, so
///   the windows of A are sampled once per aspect class instead of once per orientation, and the
///   windows of B once in B's own frame: turning B only permutes the lattice, which is the same
///   as permuting A's 8 x 8 (correlation is blind to a common permutation): 4x fewer samples;
/// - every vector is centred and its energy computed once, so a correlation is one 64-long dot;
/// - no array is allocated per window (one scratch block per call);
/// - `stopAt` ends the search as soon as the verdict is decided (a copy found).
/// Scores equal the reference implementation's up to float rounding (tested), which can at most
/// swap two coarse candidates of nearly equal score.

private let side = PixelSignature.side          // 32
private let g8 = 8, n8 = 64                     // coarse lattice
private let scales: [Float] = [1, 0.9, 0.8, 0.7]

/// A centred vector's statistics, as `ncc` needs them.
private struct Stats { var mean: Float; var energy: Float }

@inline(__always)
private func centre(_ v: UnsafeMutablePointer<Float>, _ n: Int) -> Stats {
    var m: Float = 0
    for i in 0..<n { m += v[i] }
    m /= Float(n)
    var e: Float = 0
    for i in 0..<n { v[i] -= m; e += v[i] * v[i] }
    return Stats(mean: m, energy: e)
}

/// `ncc` on centred vectors (same flat-picture rule).
@inline(__always)
private func nccCentred(_ a: UnsafePointer<Float>, _ sa: Stats, _ b: UnsafePointer<Float>, _ sb: Stats, _ n: Int) -> Float {
    let flat = Float(n) * 4
    if sa.energy < flat || sb.energy < flat { return (sa.energy < flat && sb.energy < flat && abs(sa.mean - sb.mean) < 12) ? 1 : 0 }
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n { acc.addProduct(load8(a + i), load8(b + i)); i += 8 }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s / (sa.energy * sb.energy).squareRoot()
}

@inline(__always)
private func shrink(_ src: UnsafePointer<Float>, _ srcSide: Int, by f: Int, _ out: UnsafeMutablePointer<Float>) {
    let s = srcSide / f
    for y in 0..<s { for x in 0..<s {
        var acc: Float = 0
        for dy in 0..<f { for dx in 0..<f { acc += src[(y * f + dy) * srcSide + x * f + dx] } }
        out[y * s + x] = acc / Float(f * f)
    } }
}

/// Grid.oriented on a raw grid.
@inline(__always)
private func orient(_ src: UnsafePointer<Float>, _ n: Int, _ o: Int, _ out: UnsafeMutablePointer<Float>) {
    for y in 0..<n { for x in 0..<n { out[y * n + x] = src[Grid.source(x, y, n, o)] } }
}

/// Grid.window on a raw grid: the rectangle (fractions) sampled bilinearly on a g x g lattice,
/// with the per-column and per-row coordinates computed once instead of per sample.
@inline(__always)
private func window(_ grid: UnsafePointer<Float>, _ n: Int, _ x0: Float, _ y0: Float, _ w: Float, _ h: Float, _ g: Int,
                    _ out: UnsafeMutablePointer<Float>) {
    let s = Float(n)
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * g) { ib in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * g) { fb in
        let ix0 = ib.baseAddress!, ix1 = ix0 + g, iy0 = ix0 + 2 * g, iy1 = ix0 + 3 * g
        let ax = fb.baseAddress!, ay = ax + g
        for i in 0..<g {
            let fx = min(max((x0 + w * (Float(i) + 0.5) / Float(g)) * s - 0.5, 0), Float(n - 1))
            ix0[i] = Int(fx); ix1[i] = min(n - 1, ix0[i] + 1); ax[i] = fx - Float(ix0[i])
            let fy = min(max((y0 + h * (Float(i) + 0.5) / Float(g)) * s - 0.5, 0), Float(n - 1))
            iy0[i] = Int(fy); iy1[i] = min(n - 1, iy0[i] + 1); ay[i] = fy - Float(iy0[i])
        }
        for j in 0..<g {
            let r0 = grid + iy0[j] * n, r1 = grid + iy1[j] * n, wy = ay[j]
            for i in 0..<g {
                let wx = ax[i]
                let top = r0[ix0[i]] * (1 - wx) + r0[ix1[i]] * wx
                let bottom = r1[ix0[i]] * (1 - wx) + r1[ix1[i]] * wx
                out[j * g + i] = top * (1 - wy) + bottom * wy
            }
        }
    } }
}

/// structureScore with the inner picture's part prepared once: luma correlation averaged with the
/// correlation of the local differences. `inner` is centred (stats `si`), `innerDiff` its
/// differences (energy `innerDiffEnergy`); `w` is overwritten.
@inline(__always)
private func structure(_ inner: UnsafePointer<Float>, _ si: Stats, _ innerDiff: UnsafePointer<Float>, _ innerDiffEnergy: Float,
                       _ w: UnsafeMutablePointer<Float>, _ g: Int, _ diff: UnsafeMutablePointer<Float>) -> Float {
    let nd = differences(w, g, diff)
    var de: Float = 0, dab: Float = 0
    for i in 0..<nd { de += diff[i] * diff[i]; dab += innerDiff[i] * diff[i] }
    let sw = centre(w, g * g)
    let luma = nccCentred(inner, si, w, sw, g * g)
    let flat = Float(nd) * 0.25
    let d: Float = (innerDiffEnergy < flat || de < flat) ? ((innerDiffEnergy < flat && de < flat) ? 0.5 : 0) : dab / (innerDiffEnergy * de).squareRoot()
    return 0.5 * (luma + d)
}

/// Horizontal then vertical steps of a g x g lattice, the order structureScore uses.
@inline(__always)
private func differences(_ v: UnsafePointer<Float>, _ g: Int, _ out: UnsafeMutablePointer<Float>) -> Int {
    var k = 0
    for y in 0..<g { for x in 0..<(g - 1) { out[k] = v[y * g + x + 1] - v[y * g + x]; k += 1 } }
    for y in 0..<(g - 1) { for x in 0..<g { out[k] = v[(y + 1) * g + x] - v[y * g + x]; k += 1 } }
    return k
}

private struct Candidate { var orientation: Int; var aInsideB: Bool; var x0, y0, w, h: Float; var score: Float }

/// How well two signatures match as the same photo: the best normalised cross-correlation over the
/// 8 orientations of `b`, and over placements of either picture inside the other down to 45% of its
/// area (crops, screenshots in a viewer window), searched coarse (8 x 8) then refined (16 x 16).
/// 1 = same picture; unrelated photos rarely pass 0.6 after the search. With `stopAt`, returns
/// as soon as a score reaches it (the caller only needs to know that it did).
public func pixelSimilarity(_ a: PixelSignature, _ b: PixelSignature, stopAt: Float = .infinity) -> Float {
    pixelSimilarityDetail(a, b, stopAt: stopAt).score
}

/// The score and the best coarse (8 x 8) correlation it was refined from. With `skipBelow`, the
/// refinement is skipped when the coarse best is under it and the coarse best is returned.
func pixelSimilarityDetail(_ a: PixelSignature, _ b: PixelSignature, stopAt: Float = .infinity,
                           skipBelow: Float = -.infinity) -> (score: Float, coarseBest: Float) {
    guard a.isValid, b.isValid else { return (0, 0) }
    // A blank picture (a flat colour, or a transparent overlay composited to one) carries no
    // evidence of being a copy of anything: two blank images share the embedding and can be
    // "similar", never near-duplicates by pixels alone.
    if a.isBlank || b.isBlank { return (0, 0) }
    // Scratch layout (floats).
    let nA = 0, nB = nA + 1024, nCoarseA = nB + 1024, nSrcA = nCoarseA + 64, nCoarseB = nSrcA + 256, nSrcB = nCoarseB + 64
    let nInnerA = nSrcB + 256            // 8 permutations of coarse A, centred
    let nInnerB = nInnerA + 8 * 64       // 8 orientations of coarse B, centred
    let slots = 2 * 4 * 25               // aspect class x scale x 5 x 5 placements
    let nWinA = nInnerB + 8 * 64, nWinB = nWinA + slots * 64
    let nTmp = nWinB + slots * 64        // refinement: oriented B, inner fine, windows, differences
    let total = nTmp + 1024 + 256 * 4 + 480 * 2
    let buf = UnsafeMutablePointer<Float>.allocate(capacity: total)
    defer { buf.deallocate() }
    for i in 0..<1024 { buf[nA + i] = Float(a.bytes[5 + i]); buf[nB + i] = Float(b.bytes[5 + i]) }
    let A = buf + nA, B = buf + nB
    shrink(A, side, by: 4, buf + nCoarseA); shrink(A, side, by: 2, buf + nSrcA)
    shrink(B, side, by: 4, buf + nCoarseB); shrink(B, side, by: 2, buf + nSrcB)
    let aspectA = a.aspect, aspectB = b.aspect
    var innerAStats = [Stats](repeating: Stats(mean: 0, energy: 0), count: 8)
    var innerBStats = innerAStats
    for o in 0..<8 {
        // B turned by o compared with A's window: permute A's lattice into B's frame instead.
        let pa = buf + nInnerA + o * 64
        for j in 0..<g8 { for i in 0..<g8 {
            var bi = i, bj = j
            if o & 4 != 0 { swap(&bi, &bj) }
            if o & 1 != 0 { bi = g8 - 1 - bi }
            if o & 2 != 0 { bj = g8 - 1 - bj }
            pa[bj * g8 + bi] = buf[nCoarseA + j * g8 + i]
        } }
        innerAStats[o] = centre(pa, n8)
        let pb = buf + nInnerB + o * 64
        orient(buf + nCoarseB, g8, o, pb)
        innerBStats[o] = centre(pb, n8)
    }
    var winAStats = [Stats?](repeating: nil, count: slots), winBStats = winAStats
    // Only the 4 best coarse placements are refined: keep them as they come (score descending,
    // earlier first on ties, i.e. a stable sort's first 4) instead of sorting all ~1,200.
    var top: [Candidate] = []
    top.reserveCapacity(5)
    for o in 0..<8 {
        let t = o & 4 != 0 ? 1 : 0
        let turnedAspectB = t == 1 ? 1 / aspectB : aspectB
        for aInside in [true, false] {
            let ai = aInside ? aspectA : turnedAspectB, ao = aInside ? turnedAspectB : aspectA
            let wMax = min(1, ai / ao), hMax = wMax * ao / ai
            for (si, scale) in scales.enumerated() {
                let w = wMax * scale, h = hMax * scale
                if w * h < 0.45 { break }
                let nx = 1 - w < 0.02 ? 1 : 5, ny = 1 - h < 0.02 ? 1 : 5
                for yi in 0..<ny { for xi in 0..<nx {
                    let x0 = nx == 1 ? (1 - w) / 2 : (1 - w) * Float(xi) / Float(nx - 1)
                    let y0 = ny == 1 ? (1 - h) / 2 : (1 - h) * Float(yi) / Float(ny - 1)
                    let score: Float
                    if aInside {
                        // The window of turned B at (x0, y0, w, h) is B's window at the mapped
                        // placement, its lattice permuted like A's above.
                        var bw = w, bh = h, bxi = xi, byi = yi, bnx = nx, bny = ny
                        if t == 1 { swap(&bw, &bh); swap(&bxi, &byi); swap(&bnx, &bny) }
                        if o & 1 != 0 { bxi = bnx - 1 - bxi }
                        if o & 2 != 0 { byi = bny - 1 - byi }
                        let slot = ((t * 4 + si) * 5 + byi) * 5 + bxi
                        let win = buf + nWinB + slot * 64
                        if winBStats[slot] == nil {
                            let bx0 = bnx == 1 ? (1 - bw) / 2 : (1 - bw) * Float(bxi) / Float(bnx - 1)
                            let by0 = bny == 1 ? (1 - bh) / 2 : (1 - bh) * Float(byi) / Float(bny - 1)
                            window(buf + nSrcB, 16, bx0, by0, bw, bh, g8, win)
                            winBStats[slot] = centre(win, n8)
                        }
                        score = nccCentred(buf + nInnerA + o * 64, innerAStats[o], win, winBStats[slot]!, n8)
                    } else {
                        let slot = ((t * 4 + si) * 5 + yi) * 5 + xi
                        let win = buf + nWinA + slot * 64
                        if winAStats[slot] == nil {
                            window(buf + nSrcA, 16, x0, y0, w, h, g8, win)
                            winAStats[slot] = centre(win, n8)
                        }
                        score = nccCentred(buf + nInnerB + o * 64, innerBStats[o], win, winAStats[slot]!, n8)
                    }
                    if top.count < 4 || score > top[top.count - 1].score {
                        var pos = top.count
                        while pos > 0 && top[pos - 1].score < score { pos -= 1 }
                        top.insert(Candidate(orientation: o, aInsideB: aInside, x0: x0, y0: y0, w: w, h: h, score: score), at: pos)
                        if top.count > 4 { top.removeLast() }
                    }
                } }
            }
        }
    }
    let coarseBest = top[0].score
    if coarseBest < skipBelow { return (coarseBest, coarseBest) }
    var best: Float = -1
    let parts: [(Float, Float, Float, Float)] = [(0, 0, 1, 0.85), (0, 0.15, 1, 0.85), (0, 0, 0.85, 1), (0.15, 0, 0.85, 1)]
    let gbo = buf + nTmp, innerFine = gbo + 1024, win = innerFine + 256, part = win + 256, partOuter = part + 256
    let innerDiff = partOuter + 256, diff = innerDiff + 480
    for c in top {
        orient(B, side, c.orientation, gbo)
        let inner = c.aInsideB ? UnsafePointer(A) : UnsafePointer(gbo)
        let outer = c.aInsideB ? UnsafePointer(gbo) : UnsafePointer(A)
        shrink(inner, side, by: 2, innerFine)
        _ = differences(innerFine, 16, innerDiff)
        var ide: Float = 0
        for i in 0..<480 { ide += innerDiff[i] * innerDiff[i] }
        let si = centre(innerFine, 256)
        // Refine position and scale around the coarse hit on the 16 x 16 lattice.
        let stepX = max(0.02, (1 - c.w) / 8), stepY = max(0.02, (1 - c.h) / 8)
        var bestHere: (Float, Float, Float, Float, Float) = (-1, c.x0, c.y0, c.w, c.h)
        for ds: Float in [0.96, 1, 1.04] {
            let w = min(1, c.w * ds), h = min(1, c.h * ds)
            for dy in -1...1 { for dx in -1...1 {
                let x0 = min(max(0, c.x0 + Float(dx) * stepX + (c.w - w) / 2), 1 - w)
                let y0 = min(max(0, c.y0 + Float(dy) * stepY + (c.h - h) / 2), 1 - h)
                window(outer, side, x0, y0, w, h, 16, win)
                let v = structure(innerFine, si, innerDiff, ide, win, 16, diff)
                if v > bestHere.0 { bestHere = (v, x0, y0, w, h) }
            } }
        }
        best = max(best, bestHere.0)
        if best >= stopAt { return (best, coarseBest) }
        let (_, x0, y0, w, h) = bestHere
        // Sub-rectangles of the inner picture: a caption bar, a title or a logo strip along one
        // side of a copy should not decide the verdict.
        for p in parts {
            window(inner, side, p.0, p.1, p.2, p.3, 16, part)
            _ = differences(part, 16, innerDiff)
            var pe: Float = 0
            for i in 0..<480 { pe += innerDiff[i] * innerDiff[i] }
            let sp = centre(part, 256)
            window(outer, side, x0 + p.0 * w, y0 + p.1 * h, p.2 * w, p.3 * h, 16, partOuter)
            best = max(best, structure(part, sp, innerDiff, pe, partOuter, 16, diff))
            if best >= stopAt { return (best, coarseBest) }
        }
    }
    return (best, coarseBest)
}

extension PixelSignature {
    /// Luma standard deviation under 2 levels over the 32 x 32 thumbnail.
    public var isBlank: Bool {
        guard isValid else { return false }
        var sum = 0, sq = 0
        for v in bytes[5...] { sum += Int(v); sq += Int(v) * Int(v) }
        let n = bytes.count - 5
        return sq * n - sum * sum < 4 * n * n
    }
}
