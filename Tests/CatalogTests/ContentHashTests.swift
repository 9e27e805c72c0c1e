import XCTest
@testable import Catalog
import TestSupport

final class ContentHashTests: XCTestCase {
    /// Feeding the bytes in any chunking gives the same digest as one call (the tail buffer logic).
    func testChunkingDoesNotChangeDigest() {
        var rng = SeededRNG(seed: 7)
        for n in [0, 1, 7, 31, 32, 33, 63, 64, 65, 1000, 4099] {
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let whole = ContentHasher.hash(bytes)
            for chunk in [1, 3, 17, 32, 100] {
                var h = ContentHasher()
                var i = 0
                while i < n { let j = min(n, i + chunk); h.update(Array(bytes[i..<j])); i = j }
                XCTAssertEqual(h.hexDigest(), whole, "n=\(n) chunk=\(chunk)")
            }
            XCTAssertEqual(whole.count, 32)
        }
    }

    /// Every single-bit flip, and appending a zero byte, changes the digest (length is mixed in).
    func testSensitivity() {
        var rng = SeededRNG(seed: 9)
        let base = (0..<97).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var seen = Set([ContentHasher.hash(base)])
        for i in 0..<base.count { for bit in 0..<8 {
            var b = base; b[i] ^= UInt8(1 << bit)
            XCTAssertTrue(seen.insert(ContentHasher.hash(b)).inserted, "flip \(i):\(bit) collided")
        } }
        XCTAssertTrue(seen.insert(ContentHasher.hash(base + [0])).inserted)
        XCTAssertNotEqual(ContentHasher.hash([]), ContentHasher.hash([0]))
    }

    /// Both 64-bit halves carry information: flipping one input bit flips about half of each half.
    func testAvalancheOfBothHalves() {
        var rng = SeededRNG(seed: 11)
        var totalA = 0, totalB = 0, trials = 0
        for _ in 0..<200 {
            var b = (0..<40).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var h1 = ContentHasher(); h1.update(b); let (a1, b1) = h1.finalize()
            b[Int(rng.next() % 40)] ^= UInt8(1 << (rng.next() % 8))
            var h2 = ContentHasher(); h2.update(b); let (a2, b2) = h2.finalize()
            totalA += (a1 ^ a2).nonzeroBitCount; totalB += (b1 ^ b2).nonzeroBitCount; trials += 1
        }
        XCTAssertEqual(Double(totalA) / Double(trials), 32, accuracy: 3)
        XCTAssertEqual(Double(totalB) / Double(trials), 32, accuracy: 3)
    }
}
