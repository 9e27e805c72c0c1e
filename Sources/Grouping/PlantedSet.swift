import Dispatch
import Tensors

/// A synthetic library shaped like real embeddings, for the scale benchmark and the search tests:
/// L2-normalised rows with a shared direction (real embeddings are non-negative, so unrelated
/// photos still have cosine ~0.15-0.2), topics, and scenes inside topics (a row's scene mates
/// sit at cosine ~0.6, so at 100,000 rows every row has dozens of neighbours above the 0.5
/// candidate threshold, like a real library full of similar shots), plus planted families of
/// copies (cosine 0.6-0.99 to their original) whose pixel signatures are edited copies of the
/// original's, while scene mates get unrelated pictures.
public struct PlantedSet: Sendable {
    public var count: Int, dim: Int
    /// count x dim, rows L2-normalised.
    public var rows: [Float]
    /// Topic of each row (the k-means ground truth at `topics` clusters).
    public var topic: [Int32]
    /// Family id of each row, -1 for rows without copies.
    public var family: [Int32]
    public var signatures: [PixelSignature]

    /// Every pair (i < j) inside one family: the duplicates a search must find.
    public var plantedPairs: [(Int, Int)] {
        var byFamily: [Int32: [Int]] = [:]
        for (i, f) in family.enumerated() where f >= 0 { byFamily[f, default: []].append(i) }
        var out: [(Int, Int)] = []
        for (_, m) in byFamily.sorted(by: { $0.key < $1.key }) {
            for a in 0..<m.count { for b in (a + 1)..<m.count { out.append((m[a], m[b])) } }
        }
        return out
    }

    /// `families` originals get 1-4 copies each (counted in `count`); 30% of the copies are hard
    /// (cosine 0.6-0.85, like rotated or heavily cropped copies), the rest 0.85-0.99.
    public init(count n: Int, dim d: Int, topics: Int, scenesPerTopic: Int, families: Int,
                seed: UInt64, signatures wantSignatures: Bool = true) {
        count = n; dim = d
        var rng = SplitMix64(seed: seed)
        func unitVector(_ out: UnsafeMutablePointer<Float>, _ rng: inout SplitMix64) {
            var s: Float = 0
            for t in 0..<d { let v = rng.nextSigned(); out[t] = v; s += v * v }
            let inv = 1 / s.squareRoot()
            for t in 0..<d { out[t] *= inv }
        }
        let scenes = topics * scenesPerTopic
        var basis = [Float](repeating: 0, count: (1 + topics + scenes) * d)
        basis.withUnsafeMutableBufferPointer { b in for r in 0..<(1 + topics + scenes) { unitVector(b.baseAddress! + r * d, &rng) } }
        // Squared weights: shared 0.15, topic 0.2, scene 0.25, own 0.4.
        let wShared = Float(0.15).squareRoot(), wTopic = Float(0.2).squareRoot(), wScene = Float(0.25).squareRoot(), wOwn = Float(0.4).squareRoot()
        // Plan rows: originals first get their copies right after them.
        var plan: [(original: Int, cosine: Float)] = []   // original = -1 for a base row
        var fam = [Int32](), famOf = 0
        plan.reserveCapacity(n); fam.reserveCapacity(n)
        var familiesLeft = families
        while plan.count < n {
            let i = plan.count
            plan.append((-1, 1))
            let remaining = n - plan.count
            if familiesLeft > 0 && remaining >= 1 && rng.nextUnit() < Double(familiesLeft) / Double(max(1, (n - i) / 3)) {
                let copies = min(remaining, 1 + Int(rng.next() % 4))
                fam.append(Int32(famOf))
                for _ in 0..<copies {
                    let hard = rng.nextUnit() < 0.3
                    let c = hard ? 0.6 + 0.25 * Float(rng.nextUnit()) : 0.85 + 0.14 * Float(rng.nextUnit())
                    plan.append((i, c)); fam.append(Int32(famOf))
                }
                famOf += 1; familiesLeft -= 1
            } else { fam.append(-1) }
        }
        family = fam
        var topicOf = [Int32](repeating: 0, count: n), sceneOf = [Int](repeating: 0, count: n)
        for i in 0..<n {
            if plan[i].original >= 0 { topicOf[i] = topicOf[plan[i].original]; sceneOf[i] = sceneOf[plan[i].original]; continue }
            let s = Int(rng.next() % UInt64(scenes))
            sceneOf[i] = s; topicOf[i] = Int32(s / scenesPerTopic)
        }
        topic = topicOf
        // Rows in parallel, each from its own generator (seeded by row), so the set does not depend on cores.
        var x = [Float](repeating: 0, count: n * d)
        let rowSeed = rng.next()
        x.withUnsafeMutableBufferPointer { xb in basis.withUnsafeBufferPointer { bb in
            let xp = xb.baseAddress!, bp = bb.baseAddress!
            // Base rows first, then copies (which read their original).
            for pass in 0..<2 {
                DispatchQueue.concurrentPerform(iterations: (n + 1023) / 1024) { chunk in
                    let own = UnsafeMutablePointer<Float>.allocate(capacity: d)
                    defer { own.deallocate() }
                    for i in (chunk * 1024)..<min(n, chunk * 1024 + 1024) {
                        let p = plan[i]
                        if (p.original >= 0) != (pass == 1) { continue }
                        var r = SplitMix64(seed: rowSeed ^ (UInt64(i) &* 0x9E37_79B9_7F4A_7C15))
                        unitVector(own, &r)
                        let row = xp + i * d
                        if p.original < 0 {
                            let t = bp + (1 + Int(topicOf[i])) * d, s = bp + (1 + topics + sceneOf[i]) * d
                            for u in 0..<d { row[u] = wShared * bp[u] + wTopic * t[u] + wScene * s[u] + wOwn * own[u] }
                        } else {
                            // cos(copy, original) = 1 / sqrt(1 + eta^2) with the fresh direction orthogonal-ish.
                            let eta = (1 / (p.cosine * p.cosine) - 1).squareRoot()
                            let o = xp + p.original * d
                            for u in 0..<d { row[u] = o[u] + eta * own[u] }
                        }
                        var s: Float = 0
                        for u in 0..<d { s += row[u] * row[u] }
                        let inv = 1 / s.squareRoot()
                        for u in 0..<d { row[u] *= inv }
                    }
                }
            }
        } }
        rows = x
        guard wantSignatures else { signatures = []; return }
        // Pictures: a smooth random pattern per base row; copies get an edited copy of their
        // original's (contrast/brightness change, noise, and a mirror or 180-degree turn for some).
        var sig = [PixelSignature](repeating: PixelSignature(bytes: []), count: n)
        sig.withUnsafeMutableBufferPointer { sb in
            let sp = sb.baseAddress!
            for pass in 0..<2 {
                DispatchQueue.concurrentPerform(iterations: (n + 1023) / 1024) { chunk in
                    for i in (chunk * 1024)..<min(n, chunk * 1024 + 1024) {
                        let p = plan[i]
                        if (p.original >= 0) != (pass == 1) { continue }
                        var r = SplitMix64(seed: rowSeed ^ 0x5151 ^ (UInt64(i) &* 0xD1B5_4A32_D192_ED03))
                        sp[i] = p.original < 0 ? PlantedSet.randomPicture(&r) : PlantedSet.editedCopy(of: sp[p.original], &r)
                    }
                }
            }
        }
        signatures = sig
    }

    static func header(_ w: Int, _ h: Int) -> [UInt8] { [PixelSignature.version, UInt8(w & 0xFF), UInt8(w >> 8), UInt8(h & 0xFF), UInt8(h >> 8)] }

    /// Sum of 10 random low-frequency waves (1-4 cycles across) and a little grain: textured like a
    /// 32 x 32 photo thumbnail, and unrelated between two draws.
    static func randomPicture(_ r: inout SplitMix64) -> PixelSignature {
        let s = PixelSignature.side
        var v = [Float](repeating: 0, count: s * s)
        for _ in 0..<10 {
            let fx = Float(r.nextSigned()) * 4, fy = Float(r.nextSigned()) * 4, ph = Float(r.nextUnit()) * 6.283, a = 20 + 20 * Float(r.nextUnit())
            for y in 0..<s { for x in 0..<s {
                v[y * s + x] += a * approxSin(6.283 * (fx * Float(x) + fy * Float(y)) / Float(s) + ph)
            } }
        }
        let bytes = v.map { UInt8(max(0, min(255, 128 + $0 * 0.6 + Float(r.nextSigned()) * 6))) }
        return PixelSignature(bytes: header(640, 480) + bytes)
    }

    static func editedCopy(of o: PixelSignature, _ r: inout SplitMix64) -> PixelSignature {
        let s = PixelSignature.side
        let g = Array(o.bytes[5...])
        let contrast = 0.8 + 0.4 * Float(r.nextUnit()), bright = Float(r.nextSigned()) * 20
        let turn = r.next() % 4   // 0, 1: as is; 2: mirrored; 3: turned 180 degrees
        var out = [UInt8](repeating: 0, count: s * s)
        for y in 0..<s { for x in 0..<s {
            let (sx, sy) = turn == 2 ? (s - 1 - x, y) : turn == 3 ? (s - 1 - x, s - 1 - y) : (x, y)
            let v = (Float(g[sy * s + sx]) - 128) * contrast + 128 + bright + Float(r.nextSigned()) * 5
            out[y * s + x] = UInt8(max(0, min(255, v)))
        } }
        return PixelSignature(bytes: header(640, 480) + out)
    }
}

/// sin on [-inf, inf] to ~1e-3 (Bhaskara on the reduced angle): the standard library has none
/// and pictures do not need more.
@inline(__always)
func approxSin(_ a: Float) -> Float {
    let twoPi: Float = 6.2831853
    var t = a - twoPi * (a / twoPi).rounded(.down)   // [0, 2pi)
    var sign: Float = 1
    if t > .pi { t -= .pi; sign = -1 }
    return sign * 16 * t * (.pi - t) / (5 * .pi * .pi - 4 * t * (.pi - t))
}
