@testable import Grouping

struct ReferenceAlignment { var orientation: Int; var aInsideB: Bool; var x0, y0, w, h: Float; var score: Float }

/// Session 1's pixelSimilarity, kept verbatim as the reference the fast one is tested against.
/// How well two signatures match as the same photo: the best normalised cross-correlation over the
/// 8 orientations of `b`, and over placements of either picture inside the other down to 45% of its
/// area (crops, screenshots in a viewer window), searched coarse (8 x 8) then refined (16 x 16).
/// 1 = same picture; unrelated photos rarely pass 0.6 after the search.
func referencePixelSimilarity(_ a: PixelSignature, _ b: PixelSignature) -> Float {
    guard a.isValid, b.isValid else { return 0 }
    let s = PixelSignature.side
    let ga = Grid(side: s, v: a.gray, aspect: a.aspect)
    let gb = Grid(side: s, v: b.gray, aspect: b.aspect)
    let fineA = ga.shrunk(by: 2), coarseSrcA = ga.shrunk(by: 2)   // 16 x 16
    let coarseA = ga.shrunk(by: 4)                                // 8 x 8
    var candidates: [ReferenceAlignment] = []
    var orientedB: [Grid] = []
    for o in 0..<8 {
        let gbo = gb.oriented(o)
        orientedB.append(gbo)
        let coarseB = gbo.shrunk(by: 4), srcB = gbo.shrunk(by: 2)
        for aInside in [true, false] {
            let inner = aInside ? coarseA : coarseB, outer = aInside ? srcB : coarseSrcA
            let ai = aInside ? ga.aspect : gbo.aspect, ao = aInside ? gbo.aspect : ga.aspect
            let wMax = min(1, ai / ao), hMax = wMax * ao / ai
            for scale: Float in [1, 0.9, 0.8, 0.7] {
                let w = wMax * scale, h = hMax * scale
                if w * h < 0.45 { break }
                let nx = 1 - w < 0.02 ? 1 : 5, ny = 1 - h < 0.02 ? 1 : 5
                for yi in 0..<ny { for xi in 0..<nx {
                    let x0 = nx == 1 ? (1 - w) / 2 : (1 - w) * Float(xi) / Float(nx - 1)
                    let y0 = ny == 1 ? (1 - h) / 2 : (1 - h) * Float(yi) / Float(ny - 1)
                    let score = ncc(inner.v, outer.window(x0: x0, y0: y0, w: w, h: h, g: 8))
                    candidates.append(ReferenceAlignment(orientation: o, aInsideB: aInside, x0: x0, y0: y0, w: w, h: h, score: score))
                } }
            }
        }
    }
    candidates.sort { $0.score > $1.score }
    var best: Float = -1
    // Sub-rectangles of the inner picture also tried in the refinement: a caption bar, a title or
    // a logo strip along one side of a copy should not decide the verdict.
    let parts: [(Float, Float, Float, Float)] = [(0, 0, 1, 1), (0, 0, 1, 0.85), (0, 0.15, 1, 0.85), (0, 0, 0.85, 1), (0.15, 0, 0.85, 1)]
    for c in candidates.prefix(4) {
        let gbo = orientedB[c.orientation]
        let inner = c.aInsideB ? ga : gbo
        let outer = c.aInsideB ? gbo : ga
        let innerFine = c.aInsideB ? fineA.v : gbo.shrunk(by: 2).v
        // Refine position and scale around the coarse hit on the 16 x 16 lattice.
        let stepX = max(0.02, (1 - c.w) / 8), stepY = max(0.02, (1 - c.h) / 8)
        var bestHere: (Float, Float, Float, Float, Float) = (-1, c.x0, c.y0, c.w, c.h)
        for ds: Float in [0.96, 1, 1.04] {
            let w = min(1, c.w * ds), h = min(1, c.h * ds)
            for dy in -1...1 { for dx in -1...1 {
                let x0 = min(max(0, c.x0 + Float(dx) * stepX + (c.w - w) / 2), 1 - w)
                let y0 = min(max(0, c.y0 + Float(dy) * stepY + (c.h - h) / 2), 1 - h)
                let v = structureScore(innerFine, outer.window(x0: x0, y0: y0, w: w, h: h, g: 16), g: 16)
                if v > bestHere.0 { bestHere = (v, x0, y0, w, h) }
            } }
        }
        best = max(best, bestHere.0)
        let (_, x0, y0, w, h) = bestHere
        for p in parts.dropFirst() {
            let innerPart = inner.window(x0: p.0, y0: p.1, w: p.2, h: p.3, g: 16)
            let outerPart = outer.window(x0: x0 + p.0 * w, y0: y0 + p.1 * h, w: p.2 * w, h: p.3 * h, g: 16)
            best = max(best, structureScore(innerPart, outerPart, g: 16))
        }
    }
    return best
}

import XCTest
import TestSupport

/// The fast pixelSimilarity against session 1's: same scores up to float rounding on copies of
/// every kind, other shots, unrelated pictures and mixed aspects, in both argument orders.
final class PixelSimilarityFastTests: XCTestCase {
    func sig(_ i: TestImage) -> PixelSignature { PixelSignature(rgb: i.rgb, width: i.width, height: i.height) }

    func testMatchesReference() {
        let base = TestImage.scene(seed: 3)
        var images: [TestImage] = [
            base, base.resized(60, 40).resized(240, 160), base.cropped(x: 50, y: 5, w: 186, h: 124),
            base.cropped(x: 10, y: 0, w: 150, h: 154), base.mirrored(), base.rotated90(), base.rotated180(),
            base.bordered(20), base.bordered(30, colour: 255, letterbox: true), base.grayscale(), base.captioned(),
            base.mirrored().cropped(x: 30, y: 20, w: 190, h: 130), base.rotated90().cropped(x: 0, y: 30, w: 150, h: 200),
            TestImage.scene(seed: 3, shift: (0.12, 0.04), jitter: 0.12, light: 0.9), TestImage.scene(seed: 11),
            TestImage.scene(seed: 12, width: 120, height: 200),
        ]
        images.append(TestImage.scene(seed: 13).rotated90())
        let sigs = images.map(sig)
        var planted = PlantedSet(count: 40, dim: 4, topics: 2, scenesPerTopic: 2, families: 8, seed: 9).signatures
        planted.append(PixelSignature(bytes: PlantedSet.header(100, 100) + [UInt8](repeating: 90, count: 1024)))   // flat
        var worst: Float = 0, compared = 0, verdictsDiffer = 0
        for set in [sigs, planted] {
            for i in 0..<set.count { for j in 0..<set.count where i != j && (set.count < 20 || (i + j) % 3 == 0) {
                let fast = pixelSimilarity(set[i], set[j]), ref = referencePixelSimilarity(set[i], set[j])
                worst = max(worst, abs(fast - ref)); compared += 1
                if (fast >= 0.75) != (ref >= 0.75) { verdictsDiffer += 1 }
                // stopAt only ever returns early with a score at or above it.
                let early = pixelSimilarity(set[i], set[j], stopAt: 0.75)
                XCTAssertEqual(early >= 0.75, fast >= 0.75)
            } }
        }
        XCTAssertGreaterThan(compared, 400)
        XCTAssertLessThan(worst, 2e-3, "largest score difference to the reference")
        XCTAssertEqual(verdictsDiffer, 0)
    }
}
