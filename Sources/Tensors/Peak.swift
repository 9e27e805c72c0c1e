import Dispatch

/// What this machine's cores can do right now, for "% of peak" figures: the conv micro-kernel run on
/// data that stays in L1, so only the FMA units limit it. Measured rather than taken from a data
/// sheet because the machine is shared (a busy neighbour lowers both this and the layer figures).
public enum KernelPeak {
    /// GFLOP/s of one core: the best of several short runs of about `seconds / 5` each.
    public static func measure(seconds: Double = 0.25) -> Double {
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
        let calls = 2000
        rows.withUnsafeMutableBufferPointer { table in
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                var elapsed: UInt64 = 0
                var done = 0
                repeat {
                    for _ in 0..<calls {
                        if MulAddChoice.fused {
                            microKernel6x16(FusedMulAdd.self, rows: table.baseAddress!, taps: 1, kOffset: 0, kp: k, b: b,
                                            bias: bias, out: c, ldo: nr, residual: nil, mValid: mr, nValid: nr, act: .none)
                        } else {
                            microKernel6x16(SplitMulAdd.self, rows: table.baseAddress!, taps: 1, kOffset: 0, kp: k, b: b,
                                            bias: bias, out: c, ldo: nr, residual: nil, mValid: mr, nValid: nr, act: .none)
                        }
                    }
                    done += calls
                    elapsed = DispatchTime.now().uptimeNanoseconds - start
                } while Double(elapsed) < seconds / 5 * 1e9
                best = max(best, Double(done * 2 * mr * nr * k) / Double(elapsed))
            }
        }
        return best
    }
}
