import CPrefetch
import Foundation

/// The vector type every kernel is written in. Eight floats is one ymm register on AVX2 (the vector
/// width of this machine, an AMD Zen 3: it has no AVX-512), two xmm registers on baseline x86-64.
typealias Vec = SIMD8<Float>
let vecWidth = 8

extension UnsafePointer where Pointee == Float {
    @inline(__always) func vec(_ offset: Int = 0) -> Vec {
        UnsafeRawPointer(self + offset).loadUnaligned(as: Vec.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) func vec(_ offset: Int = 0) -> Vec {
        UnsafeRawPointer(self + offset).loadUnaligned(as: Vec.self)
    }
    /// An unaligned 32-byte store, through a C always-inline helper: Swift's own unaligned stores
    /// (`storeBytes(of:as:)`, a constant-size `copyMemory`) reached big kernels as out-of-line calls
    /// whenever the optimiser's inlining budget for the kernel ran out (see CPrefetch.h).
    @inline(__always) func store(_ v: Vec, _ offset: Int = 0) {
        corral_store8(self + offset, v)
    }
}

/// How a kernel multiplies and accumulates. Kernels are generic over this and specialised twice:
/// `Fused` is one FMA instruction when the build targets a CPU with FMA (`-target-cpu native`), but a
/// library call per lane on baseline x86-64, where `Split` (multiply, then add) is the sane choice.
/// Which one the binary runs is decided once, by timing both (see `MulAddChoice`).
protocol MulAdd {
    static func madd(_ acc: inout Vec, _ a: Vec, _ b: Vec)
}

enum FusedMulAdd: MulAdd {
    @inline(__always) static func madd(_ acc: inout Vec, _ a: Vec, _ b: Vec) { acc.addProduct(a, b) }
}

enum SplitMulAdd: MulAdd {
    @inline(__always) static func madd(_ acc: inout Vec, _ a: Vec, _ b: Vec) { acc += a * b }
}

/// Swift has no compile-time test for CPU features, so the choice between fused and split
/// multiply-add is made at run time: when FMA is compiled in, both run at the same speed (or fused is
/// faster); when it is not, fused calls `fmaf` per lane and is an order of magnitude slower. The
/// best of several alternating trials is compared, so a preempted trial cannot flip the decision.
enum MulAddChoice {
    static let fused: Bool = {
        if let env = ProcessInfo.processInfo.environment["CORRAL_FMA"] { return env == "1" }
        let a = UnsafeMutablePointer<Float>.allocate(capacity: 64)
        defer { a.deallocate() }
        for i in 0..<64 { a[i] = Float(i) * 1e-3 }
        var bestFused = Double.infinity, bestSplit = Double.infinity
        var sink: Float = 0
        for _ in 0..<5 {
            var t = DispatchTime.now().uptimeNanoseconds
            sink += probe(FusedMulAdd.self, a)
            bestFused = min(bestFused, Double(DispatchTime.now().uptimeNanoseconds - t))
            t = DispatchTime.now().uptimeNanoseconds
            sink += probe(SplitMulAdd.self, a)
            bestSplit = min(bestSplit, Double(DispatchTime.now().uptimeNanoseconds - t))
        }
        if sink.isNaN { print("") }  // keeps the probes from being optimised away
        return bestFused <= 2 * bestSplit
    }()

    @inline(never)
    static func probe<F: MulAdd>(_: F.Type, _ a: UnsafePointer<Float>) -> Float {
        var c0 = Vec(), c1 = Vec(), c2 = Vec(), c3 = Vec()
        let b = a.vec(8)
        for i in 0..<2000 {
            let k = i & 31
            F.madd(&c0, Vec(repeating: a[k]), b); F.madd(&c1, Vec(repeating: a[k + 1]), b)
            F.madd(&c2, Vec(repeating: a[k + 2]), b); F.madd(&c3, Vec(repeating: a[k + 3]), b)
        }
        return (c0 + c1 + c2 + c3).sum()
    }
}

/// The activation part of a kernel's epilogue, on one vector.
@inline(__always)
func activate(_ v: Vec, _ act: Activation) -> Vec {
    switch act {
    case .none: return v
    // `replacing(with:where:)` lowers to vmaxps/vminps; the generic pointwiseMax/Min stay scalar calls.
    case .relu: return v.replacing(with: 0, where: v .< 0)
    case .relu6:
        var r = v.replacing(with: 0, where: v .< 0)
        r.replace(with: 6, where: r .> 6)
        return r
    }
}
