import CPrefetch
import Dispatch
import Foundation

/// Runs loops across a bounded number of workers. Kernels split work coarsely (row bands, tiles of
/// pixels), so plain Dispatch with a fixed worker count is all that is needed; `threads` bounds the
/// parallelism so a caller can leave cores to the rest of the program.
///
/// Work is handed out in chunks on demand rather than split evenly up front: on a shared machine one
/// core is often slower for a while, and a static split would make every layer wait for it.
public final class ThreadPool: @unchecked Sendable {
    public let threads: Int

    /// One worker: `parallelRanges` then calls its body directly, so this can be shared by any threads.
    static let serial = ThreadPool(threads: 1)

    public init(threads: Int) {
        self.threads = max(1, threads)
    }

    /// Calls `body(i)` for every i in 0..<count, on at most `threads` threads at once.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        parallelRanges(count) { _, range in
            for i in range { body(i) }
        }
    }

    /// Calls `body(worker, range)` with contiguous slices that together cover 0..<count exactly once;
    /// `worker` (< threads) identifies the calling worker, for kernels that keep per-worker scratch.
    /// Each worker takes the next slice when done with its last (about four slices per worker).
    public func parallelRanges(_ count: Int, _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
        if count <= 0 { return }
        let workers = min(threads, count)
        if workers == 1 { withFlushToZero { body(0, 0..<count) }; return }
        let chunks = min(count, workers * 4)
        let lock = NSLock()
        var next = 0
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                withFlushToZero {
                while true {
                    lock.lock()
                    let c = next
                    next += 1
                    lock.unlock()
                    if c >= chunks { break }
                    body(w, (c * count / chunks)..<((c + 1) * count / chunks))
                }
                }
            }
        }
    }
}

/// Runs `body` with denormal inputs and results flushed to zero (MXCSR DAZ + FTZ on x86-64), then
/// restores the thread's previous mode. Why: with the real EfficientNet weights some activations and
/// folded weights are denormal, and multiply-adds that produce or read denormals take a slow path;
/// values below 1e-38 change nothing a network computes. Set per call because worker threads are
/// Dispatch's, shared with the rest of the program.
@inline(__always)
public func withFlushToZero<R>(_ body: () throws -> R) rethrows -> R {
    let saved = corral_flush_denormals_begin()
    defer { corral_flush_denormals_end(saved) }
    return try body()
}
