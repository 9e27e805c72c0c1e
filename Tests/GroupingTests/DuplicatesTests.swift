import XCTest
import TestSupport
@testable import Grouping

final class DuplicatesTests: XCTestCase {
    let base = TestImage.scene(seed: 3)

    func sig(_ i: TestImage) -> PixelSignature { PixelSignature(rgb: i.rgb, width: i.width, height: i.height) }

    var copies: [(String, TestImage)] {
        let b = base
        return [
            ("same", b),
            ("resized to a quarter and back", b.resized(60, 40).resized(240, 160)),
            ("downscaled", b.resized(160, 107)),
            ("crop 60% off-centre", b.cropped(x: 50, y: 5, w: 186, h: 124)),
            ("crop 60% other aspect", b.cropped(x: 10, y: 0, w: 150, h: 154)),
            ("mirrored", b.mirrored()),
            ("rotated 90", b.rotated90()),
            ("rotated 180", b.rotated180()),
            ("black frame", b.bordered(20)),
            ("white letterbox", b.bordered(30, colour: 255, letterbox: true)),
            // A high-contrast caption bar over 12% of the height is not matched (scores ~0.61, as
            // low as another shot): left out on purpose, see docs/grouping.md.
            ("grayscale", b.grayscale()),
            ("colour edit", b.colourEdited()),
            ("mirrored + crop", b.mirrored().cropped(x: 30, y: 20, w: 190, h: 130)),
        ]
    }

    var others: [(String, TestImage)] {
        [
            ("another shot of the scene", TestImage.scene(seed: 3, shift: (0.12, 0.04), jitter: 0.12, light: 0.9)),
            ("another shot, objects moved", TestImage.scene(seed: 3, jitter: 0.2)),
            ("a different scene", TestImage.scene(seed: 11)),
            ("a different scene 2", TestImage.scene(seed: 12)),
            ("a different scene 3", TestImage.scene(seed: 13)),
        ]
    }

    func testSignatureRoundTripsAndRejectsBadBytes() {
        let s = sig(base)
        XCTAssertEqual(s.bytes.count, 5 + 32 * 32)
        XCTAssertEqual(PixelSignature(bytes: s.bytes), s)
        XCTAssertTrue(s.isValid)
        XCTAssertFalse(PixelSignature(bytes: [1, 2, 3]).isValid)
        XCTAssertEqual(pixelSimilarity(s, PixelSignature(bytes: [1, 2, 3])), 0)
        XCTAssertFalse(PixelSignature(rgb: [], width: 0, height: 0).isValid)
    }

    func testBordersAreTrimmed() {
        let framed = base.bordered(20)
        let box = framed.rgb.withUnsafeBufferPointer { trimUniformBorders($0.baseAddress!, framed.width, framed.height) }
        XCTAssertEqual(box.x0, 20, accuracy: 1); XCTAssertEqual(box.y0, 20, accuracy: 1)
        XCTAssertEqual(box.x1, 260, accuracy: 1); XCTAssertEqual(box.y1, 180, accuracy: 1)
    }

    func testCopiesScoreAboveThresholdAndOtherShotsBelow() {
        let b = sig(base)
        let threshold = DuplicateOptions().pixelThreshold
        var report = ""
        for (name, img) in copies {
            let s = pixelSimilarity(b, sig(img)), r = pixelSimilarity(sig(img), b)
            report += "\(name): \(s) \(r)\n"
            XCTAssertGreaterThanOrEqual(min(s, r), threshold, name)
        }
        for (name, img) in others {
            let s = pixelSimilarity(b, sig(img))
            report += "\(name): \(s)\n"
            XCTAssertLessThan(s, threshold, name)
        }
        print(report)
    }

    /// Synthetic embeddings: copies near the original, a different shot close but not a copy,
    /// unrelated scenes far.
    func candidate(_ id: Int, _ img: TestImage, embedding: [Float], hash: String? = nil, fileSize: Int = 1000,
                   date: String? = nil, exif: Int = 0) -> DuplicateCandidate {
        DuplicateCandidate(id: id, embedding: embedding, signature: sig(img), contentHash: hash ?? "h\(id)",
                           width: img.width, height: img.height, fileSize: fileSize, captureDate: date, exifFieldCount: exif)
    }

    func embedding(_ base: [Float], noise: Float, seed: UInt64) -> [Float] {
        var rng = SeededRNG(seed: seed)
        return base.map { $0 + rng.nextSigned() * noise }
    }

    func testVerdictTiersAndKeeper() {
        var rng = SeededRNG(seed: 1)
        let e0 = (0..<64).map { _ in rng.nextSigned() }
        let far = (0..<64).map { _ in rng.nextSigned() }
        let cands = [
            candidate(0, base, embedding: e0, fileSize: 5000, exif: 12),
            candidate(1, base, embedding: e0, hash: "h0", fileSize: 5000),                  // same bytes
            candidate(2, base.mirrored(), embedding: embedding(e0, noise: 0.15, seed: 2)),  // copy
            candidate(3, base.cropped(x: 50, y: 5, w: 186, h: 124), embedding: embedding(e0, noise: 0.15, seed: 3)),
            candidate(4, TestImage.scene(seed: 3, shift: (0.12, 0.04), jitter: 0.12, light: 0.9),
                      embedding: embedding(e0, noise: 0.1, seed: 4)),                        // another shot
            candidate(5, TestImage.scene(seed: 11), embedding: far),                        // unrelated
            candidate(6, base.resized(480, 320), embedding: embedding(e0, noise: 0.15, seed: 6), fileSize: 900),
        ]
        let groups = findDuplicates(cands, options: { var o = DuplicateOptions(); o.similarThreshold = 0.9; return o }())
        XCTAssertEqual(groups.count, 1)
        guard let g = groups.first else { return }
        XCTAssertEqual(g.keep, 6)
        XCTAssertTrue(g.reason.hasPrefix("largest resolution"), g.reason)
        let verdict = Dictionary(uniqueKeysWithValues: g.members.map { ($0.id, $0.verdict) })
        XCTAssertEqual(verdict[2], .nearDuplicate)
        XCTAssertEqual(verdict[3], .nearDuplicate)
        XCTAssertEqual(verdict[0], .nearDuplicate)
        XCTAssertEqual(verdict[4], .similar)
        XCTAssertNil(verdict[5])
        // Same bytes are identical to each other even though the keeper is another file.
        XCTAssertEqual(pairVerdict(cands[0], cands[1], cosine: 1)?.verdict, .identical)
        XCTAssertEqual(Set(g.members.map { $0.id }), [0, 1, 2, 3, 4, 6])

        // Without "similar", the other shot drops out.
        var strict = DuplicateOptions(); strict.includeSimilar = false
        let g2 = findDuplicates(cands, options: strict)
        XCTAssertEqual(g2.count, 1)
        XCTAssertEqual(Set(g2[0].members.map { $0.id }), [0, 1, 2, 3, 6])
    }

    func testPixelHashMeansIdentical() {
        var a = candidate(0, base, embedding: [1, 0]), b = candidate(1, base.grayscale(), embedding: [0, 1])
        a.pixelHash = "p"; b.pixelHash = "p"
        XCTAssertEqual(pairVerdict(a, b, cosine: 0)?.verdict, .identical)
    }

    func testCompleteLinkageDoesNotChain() {
        // A~B and B~C pass, A~C does not: the result may hold {A,B} or {B,C}, never {A,B,C}.
        // Embeddings at 0, 40 and 80 degrees with the similar threshold at cos 45 degrees.
        let deg: (Float) -> [Float] = { [cos($0 * .pi / 180), sin($0 * .pi / 180)] }
        let cands = [
            candidate(0, TestImage.scene(seed: 21), embedding: deg(0)),
            candidate(1, TestImage.scene(seed: 22), embedding: deg(40)),
            candidate(2, TestImage.scene(seed: 23), embedding: deg(80)),
        ]
        var o = DuplicateOptions(); o.similarThreshold = 0.7; o.candidateThreshold = 0.1
        let groups = findDuplicates(cands, options: o)
        XCTAssertEqual(groups.count, 1)
        XCTAssertEqual(groups[0].members.count, 2)
        for g in groups {
            let ids = g.members.map { $0.id }
            XCTAssertFalse(ids.contains(0) && ids.contains(2))
        }
    }

    func testNotDuplicatesPairsAreRespected() {
        let cands = [candidate(0, base, embedding: [1, 0]), candidate(1, base.mirrored(), embedding: [0.99, 0.1])]
        XCTAssertEqual(findDuplicates(cands).count, 1)
        XCTAssertEqual(findDuplicates(cands, notDuplicates: [HashPair("h1", "h0")]).count, 0)
    }

    func testKeeperRules() {
        func c(_ id: Int, _ w: Int, _ size: Int, _ exif: Int, _ date: String?) -> DuplicateCandidate {
            DuplicateCandidate(id: id, embedding: [1], signature: PixelSignature(bytes: []), contentHash: "\(id)",
                               width: w, height: 10, fileSize: size, captureDate: date, exifFieldCount: exif)
        }
        XCTAssertEqual(chooseKeeper([c(1, 10, 5, 0, nil), c(2, 20, 1, 0, nil)]).id, 2)
        XCTAssertEqual(chooseKeeper([c(1, 10, 5, 0, nil), c(2, 10, 9, 0, nil)]).reason, "larger file, less compression (9 bytes)")
        XCTAssertEqual(chooseKeeper([c(1, 10, 5, 3, nil), c(2, 10, 5, 9, nil)]).id, 2)
        let byDate = chooseKeeper([c(1, 10, 5, 3, "2020:01:02 10:00:00"), c(2, 10, 5, 3, "2019:05:01 09:00:00")])
        XCTAssertEqual(byDate.id, 2)
        XCTAssertTrue(byDate.reason.hasPrefix("oldest capture date"))
        XCTAssertEqual(chooseKeeper([c(1, 10, 5, 3, nil), c(2, 10, 5, 3, nil)]).reason, "equal on every rule; first found")
    }

    func testNearestAndSimilarPairsAgainstBruteForce() {
        var rng = SeededRNG(seed: 9)
        let n = 301, d = 37
        let x = normalizedRows((0..<(n * d)).map { _ in rng.nextSigned() }, n: n, d: d)
        let q = Array(x[(5 * d)..<(6 * d)])
        let top = nearest(to: q, in: x, dim: d, k: 4)
        XCTAssertEqual(top.first?.index, 5)
        XCTAssertEqual(top.first?.similarity ?? 0, 1, accuracy: 1e-5)
        var brute = (0..<n).map { j -> (Int, Float) in (j, (0..<d).reduce(Float(0)) { $0 + x[5 * d + $1] * x[j * d + $1] }) }
        brute.sort { $0.1 > $1.1 }
        XCTAssertEqual(top.map { $0.index }, brute.prefix(4).map { $0.0 })
        let pairs = similarPairs(x, n: n, d: d, k: 3, minSimilarity: -1)
        // Every row's true best neighbour appears among the pairs.
        let set = Set(pairs.map { $0.i * n + $0.j })
        for i in stride(from: 0, to: n, by: 17) {
            var best = -1; var bs = -Float.infinity
            for j in 0..<n where j != i {
                let s = (0..<d).reduce(Float(0)) { $0 + x[i * d + $1] * x[j * d + $1] }
                if s > bs { bs = s; best = j }
            }
            XCTAssertTrue(set.contains(min(i, best) * n + max(i, best)), "row \(i)")
        }
    }
}

final class BlankSignatureTests: XCTestCase {
    func testBlankPicturesAreNotNearDuplicatesByPixelsAlone() {
        // White overlays whose only content was alpha composite to (nearly) blank images.
        let white = PixelSignature(rgb: [UInt8](repeating: 255, count: 64 * 48 * 3), width: 64, height: 48)
        var almost = [UInt8](repeating: 254, count: 64 * 48 * 3)
        for i in stride(from: 0, to: almost.count, by: 97) { almost[i] = 255 }
        let nearlyWhite = PixelSignature(rgb: almost, width: 64, height: 48)
        XCTAssertTrue(white.isBlank); XCTAssertTrue(nearlyWhite.isBlank)
        XCTAssertEqual(pixelSimilarity(white, nearlyWhite), 0)
        XCTAssertFalse(PixelSignature(rgb: TestImage.scene(seed: 3).rgb, width: 240, height: 160).isBlank)
        func cand(_ id: Int, _ s: PixelSignature) -> DuplicateCandidate {
            DuplicateCandidate(id: id, embedding: [1, 0], signature: s, contentHash: "h\(id)", width: 64, height: 48, fileSize: 10)
        }
        XCTAssertNil(pairVerdict(cand(0, white), cand(1, nearlyWhite), cosine: 0.8))
        XCTAssertEqual(pairVerdict(cand(0, white), cand(1, nearlyWhite), cosine: 0.99)?.verdict, .similar)
        // The same bytes stay identical.
        var same = cand(1, nearlyWhite); same.contentHash = "h0"
        XCTAssertEqual(pairVerdict(cand(0, white), same, cosine: 0.99)?.verdict, .identical)
    }
}
