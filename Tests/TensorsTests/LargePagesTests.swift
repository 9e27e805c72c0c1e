import XCTest
@testable import Tensors

/// The weight and arena allocator: memory comes zeroed and 64-byte aligned, small blocks share a
/// chunk, large ones get their own, and a chunk goes back to the system when its last block is freed
/// (tests and long sessions create and drop many networks).
final class LargePagesTests: XCTestCase {
    func testZeroedAlignedAndReleased() {
        let before = LargePages.chunkCount
        var blocks: [UnsafeMutablePointer<Float>] = []
        for count in [1, 15, 1024, 5000, 300_000, 1_000_000] {
            let p = allocateAligned(count)
            XCTAssertEqual(Int(bitPattern: p) % 64, 0, "\(count) floats not 64-byte aligned")
            XCTAssertFalse((0..<count).contains { p[$0] != 0 }, "\(count) floats not zeroed")
            p.update(repeating: 1, count: count)
            blocks.append(p)
        }
        // Larger than a shared chunk: a mapping of its own.
        let bigCount = LargePages.pageBytes * 9 / 4
        let big = allocateAligned(bigCount)
        big[bigCount - 1] = 2
        XCTAssertGreaterThan(LargePages.chunkCount, before)
        freeAligned(big)
        blocks.forEach(freeAligned)
        XCTAssertEqual(LargePages.chunkCount, before, "chunks not returned after their blocks were freed")
        let again = allocateAligned(300_000)
        XCTAssertFalse((0..<300_000).contains { again[$0] != 0 }, "reused memory not zeroed")
        freeAligned(again)
    }

    func testOffMeansPlainMemory() {
        let saved = LargePages.enabled
        defer { LargePages.enabled = saved }
        LargePages.enabled = false
        let before = LargePages.chunkCount
        let p = allocateAligned(500_000)
        XCTAssertEqual(LargePages.chunkCount, before)
        XCTAssertEqual(Int(bitPattern: p) % 64, 0)
        XCTAssertEqual(p[499_999], 0)
        freeAligned(p)
    }

    /// Kernels' per-thread scratch: aligned, as large as asked, kept (not reallocated) while it is large
    /// enough, and a different buffer on another thread.
    func testThreadScratchIsPerThreadAndKept() {
        let first = ThreadScratch.with(Float.self, count: 5000) { p -> Int in
            XCTAssertEqual(Int(bitPattern: p) % 64, 0)
            for i in 0..<5000 { p[i] = Float(i) }   // the whole range is writable
            return Int(bitPattern: p)
        }
        let again = ThreadScratch.with(Float.self, count: 100) { Int(bitPattern: $0) }
        XCTAssertEqual(again, first, "a smaller request must reuse the thread's buffer")
        let bigger = ThreadScratch.with(Float.self, count: 100_000) { p -> Int in
            p[99_999] = 1
            return Int(bitPattern: p)
        }
        XCTAssertEqual(bigger % 64, 0)
        final class Box: @unchecked Sendable { var value = 0 }   // written by one thread, read after the wait
        let other = Box()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            other.value = ThreadScratch.with(Float.self, count: 100) { Int(bitPattern: $0) }
            done.signal()
        }
        done.wait()
        XCTAssertNotEqual(other.value, bigger, "two threads must not share a scratch buffer")
    }
}
