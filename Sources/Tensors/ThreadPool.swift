import Dispatch

/// Runs loops across a bounded number of workers. Kernels split work coarsely (one image, one row band
/// or one column panel per index), so plain Dispatch with a fixed worker count is all that is needed;
/// `threads` bounds the parallelism so a caller can leave cores to the rest of the program.
public final class ThreadPool: @unchecked Sendable {
    public let threads: Int

    public init(threads: Int) {
        self.threads = max(1, threads)
    }

    /// Calls `body(i)` for every i in 0..<count, on at most `threads` threads at once. Indices are
    /// handed out in contiguous blocks (one per worker) so neighbouring indices share caches.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        let workers = min(threads, count)
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let start = w * count / workers, end = (w + 1) * count / workers
                for i in start..<end { body(i) }
            }
        }
    }

    /// Calls `body(worker, range)` once per worker with a contiguous slice of 0..<count; kernels that
    /// keep per-worker scratch use the worker index to pick theirs.
    public func parallelRanges(_ count: Int, _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
        if count <= 0 { return }
        let workers = min(threads, count)
        if workers == 1 { body(0, 0..<count); return }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                body(w, (w * count / workers)..<((w + 1) * count / workers))
            }
        }
    }
}
