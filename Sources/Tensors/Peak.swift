import Dispatch
import Foundation

/// What this machine's cores can do right now, for "% of peak" figures: the conv micro-kernel run on
/// data that stays in L1, so only the FMA units limit it. Measured rather than taken from a data
/// sheet because the machine is shared (a busy neighbour lowers both this and the layer figures).
public enum KernelPeak {
    /// Which clock a figure is timed with. Wall time suits whole-network runs on several threads;
    /// thread CPU time suits one-core layer timings, where time the scheduler gives to other
    /// processes would otherwise count against the kernel.
    public enum Clock: Sendable { case wall, threadCPU }

    static func seconds(_ clock: Clock) -> Double {
        var ts = timespec()
        clock_gettime(clock == .wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// GFLOP/s of one core: the best of short runs of 500 calls of the 6x16 kernel the convolutions
    /// use, for about `seconds` in all, timed with `clock` (so a layer timed the same way compares
    /// like with like).
    public static func measure(seconds: Double = 0.25, clock: Clock = .wall) -> Double {
        let k = 128, nr = 16, mr = 6
        let b = UnsafeMutablePointer<Float>.allocate(capacity: k * nr)
        let a = UnsafeMutablePointer<Float>.allocate(capacity: mr * k)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: mr * nr)
        let bias = UnsafeMutablePointer<Float>.allocate(capacity: nr)
        defer { b.deallocate(); a.deallocate(); c.deallocate(); bias.deallocate() }
        b.initialize(repeating: 1e-3, count: k * nr); a.initialize(repeating: 1e-3, count: mr * k)
        bias.initialize(repeating: 0, count: nr)
        var rows = (0..<mr).map { UnsafePointer(a + $0 * k) }
        var best = 0.0
        let calls = 500
        rows.withUnsafeMutableBufferPointer { table in
            let end = self.seconds(clock) + seconds
            while self.seconds(clock) < end {
                let start = self.seconds(clock)
                for _ in 0..<calls {
                    if MulAddChoice.fused {
                        gemmKernel6x16(FusedMulAdd.self, rows: table.baseAddress!, taps: 1, kOffset: 0, kp: k, b: b, panelStride: 0, panels: 1,
                                       bias: bias, out: c, ldo: nr, residual: nil, mValid: mr, nLast: nr, act: .none)
                    } else {
                        gemmKernel6x16(SplitMulAdd.self, rows: table.baseAddress!, taps: 1, kOffset: 0, kp: k, b: b, panelStride: 0, panels: 1,
                                       bias: bias, out: c, ldo: nr, residual: nil, mValid: mr, nLast: nr, act: .none)
                    }
                }
                // A run the clock saw take no time (the thread CPU clock here has been seen to return
                // the same value across one: "inf GFLOP/s") says nothing; skip it.
                let elapsed = self.seconds(clock) - start
                if elapsed > 0 { best = max(best, Double(calls * 2 * mr * nr * k) / elapsed * 1e-9) }
            }
        }
        return best
    }
}
