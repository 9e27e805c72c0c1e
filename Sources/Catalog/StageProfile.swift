import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Per-step CPU time of the decode stage, summed over threads: `corral bench decode --breakdown`
/// uses it to show where a scan's worker time goes beyond the bare decode. Thread CPU time (not
/// wall time) so the figures hold up on a machine other processes are using.
public final class StageProfile: @unchecked Sendable {
    private let lock = NSLock()
    private var totals: [String: UInt64] = [:]
    public private(set) var steps: [String] = []

    public init() {}

    @inline(__always) public static func threadNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public func add(_ step: String, nanoseconds: UInt64) {
        lock.lock(); defer { lock.unlock() }
        if totals[step] == nil { steps.append(step) }
        totals[step, default: 0] += nanoseconds
    }

    public func nanoseconds(_ step: String) -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        return totals[step] ?? 0
    }

    /// Runs `body`, charging its thread CPU time to `step`.
    @inline(__always) public func measure<T>(_ step: String, _ body: () throws -> T) rethrows -> T {
        let t0 = StageProfile.threadNanoseconds()
        defer { add(step, nanoseconds: StageProfile.threadNanoseconds() - t0) }
        return try body()
    }
}

extension Optional where Wrapped == StageProfile {
    @inline(__always) func measure<T>(_ step: String, _ body: () throws -> T) rethrows -> T {
        switch self {
        case .some(let p): return try p.measure(step, body)
        case .none: return try body()
        }
    }
}
