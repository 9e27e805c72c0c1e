import Foundation

/// Knobs of the GEMM drivers that `GemmBench` sweeps; the defaults are what the sweep chose on this
/// machine (docs/speed-gemm.md). Only a benchmark harness changes them, before it starts timing.
enum GemmTuning {
    /// Packed weights up to this many bytes run in BLIS order (panel outer, row tiles inner).
    nonisolated(unsafe) static var tileOrderBytes = 24 * 1024
    /// Row tiles per block in that order (0 or 1: always tile outer).
    nonisolated(unsafe) static var rowTiles = 16

    /// How many reduction steps (64-byte weight lines) ahead the micro-kernel prefetches; 0: none.
    nonisolated(unsafe) static var prefetchSteps = Int(ProcessInfo.processInfo.environment["CORRAL_PF"] ?? "") ?? 24

    /// Tile-outer order: while the tiles pass over one block of panels, the micro-kernel prefetches the
    /// next block into L2 (one line per reduction step) instead of the line 24 steps on. At batch 1 a
    /// layer's weights come from memory, and the first tile pass over a block used to wait for them:
    /// it needs 64 bytes per 6 cycles, about three times what one core gets from memory here.
    /// Lite0 1x1 CPU/image 0.89-0.97x with it (3 paired runs), 2x8 0.98x, ResNeXt-50 2x8 1.00x.
    /// `CORRAL_NEXT_BLOCK=0` turns it off, for side-by-side runs.
    nonisolated(unsafe) static var nextBlockPrefetch = ProcessInfo.processInfo.environment["CORRAL_NEXT_BLOCK"] != "0"
    /// Packed weights per block of panels in tile-outer order, KB (128 measured the same as 192).
    nonisolated(unsafe) static var blockKB = Int(ProcessInfo.processInfo.environment["CORRAL_BLOCK_KB"] ?? "") ?? 192

    /// A tile with one valid row runs on the 1x64 kernel (`gemmRow1x64`); `CORRAL_ROW1=0` turns it off.
    nonisolated(unsafe) static var singleRowKernel = ProcessInfo.processInfo.environment["CORRAL_ROW1"] != "0"

    /// 1x1 convs run on `gemm1x1Kernel6x16` instead of the general kernel; `CORRAL_LEAN_1X1=0` turns
    /// it off, for side-by-side runs.
    nonisolated(unsafe) static var lean1x1 = ProcessInfo.processInfo.environment["CORRAL_LEAN_1X1"] != "0"

    /// Dense KxK convs with short window rows run over gathered windows (GemmConvPlan.runGathered);
    /// `CORRAL_GATHER=0` turns it off, for side-by-side runs.
    nonisolated(unsafe) static var gatherWindows = ProcessInfo.processInfo.environment["CORRAL_GATHER"] != "0"

    /// A lone row also runs panels left over from groups of four on the 1x16 split-K kernel (and a
    /// block of 1-3 panels goes to the row kernel at all); `CORRAL_ROW_PANELS=0` turns it off.
    nonisolated(unsafe) static var rowPanels = ProcessInfo.processInfo.environment["CORRAL_ROW_PANELS"] != "0"

    /// Dense KxK tiles inside the image read window rows as runs (see GemmConvPlan.run).
    nonisolated(unsafe) static var rowRuns = true

    struct Settings: Sendable, Equatable { var tileOrderBytes: Int, rowTiles: Int, rowRuns = true }
    static var settings: Settings {
        get { Settings(tileOrderBytes: tileOrderBytes, rowTiles: rowTiles, rowRuns: rowRuns) }
        set { tileOrderBytes = newValue.tileOrderBytes; rowTiles = newValue.rowTiles; rowRuns = newValue.rowRuns }
    }
}

/// A dev harness for the GEMM side of the convolutions: times one layer shape at a time on the
/// calling thread (thread CPU time, so a neighbour's load inflates the figure less than wall time
/// would), the session-1 driver and the current one alternately, against the micro-kernel peak
/// measured in the same process. Not used by the product; `corral bench gemm` prints its table.
public enum GemmBench {
    public struct Layer: Sendable {
        public var name: String
        public var shape: ConvShape
        /// Input size.
        public var height: Int, width: Int
        /// How many layers of this shape the network has (weights the network total).
        public var count: Int
        /// Whether the network adds a residual in this conv's epilogue.
        public var residual: Bool

        public init(_ name: String, _ shape: ConvShape, _ height: Int, _ width: Int, count: Int = 1, residual: Bool = false) {
            self.name = name; self.shape = shape; self.height = height; self.width = width
            self.count = count; self.residual = residual
        }

        public var m: Int { let (oh, ow) = shape.outputSize(height: height, width: width); return oh * ow }
        public var k: Int { shape.inChannelsPerGroup * shape.kernelH * shape.kernelW }
        public var n: Int { shape.outChannels }
    }

    static func pw(_ cin: Int, _ cout: Int, _ size: Int, stride: Int = 1, act: Activation, count: Int = 1, residual: Bool = false) -> Layer {
        Layer("1x1 \(cin)->\(cout)\(stride > 1 ? "/2" : "") @\(size)",
              ConvShape(inChannels: cin, outChannels: cout, kernel: 1, stride: stride, activation: act),
              size, size, count: count, residual: residual)
    }

    /// The GEMM-run layers of EfficientNet-Lite0 at 224x224 (stem and 1x1s; the depthwise ones are not GEMMs).
    public static let lite0: [Layer] = [
        Layer("stem 3x3/2 3->32 @224", ConvShape(inChannels: 3, outChannels: 32, kernel: 3, stride: 2, padding: 1, activation: .relu6), 224, 224),
        pw(32, 16, 112, act: .none),
        pw(16, 96, 112, act: .relu6),
        pw(96, 24, 56, act: .none),
        pw(24, 144, 56, act: .relu6, count: 2),
        pw(144, 24, 56, act: .none, residual: true),
        pw(144, 40, 28, act: .none),
        pw(40, 240, 28, act: .relu6, count: 2),
        pw(240, 40, 28, act: .none, residual: true),
        pw(240, 80, 14, act: .none),
        pw(80, 480, 14, act: .relu6, count: 3),
        pw(480, 80, 14, act: .none, count: 2, residual: true),
        pw(480, 112, 14, act: .none),
        pw(112, 672, 14, act: .relu6, count: 3),
        pw(672, 112, 14, act: .none, count: 2, residual: true),
        pw(672, 192, 7, act: .none),
        pw(192, 1152, 7, act: .relu6, count: 4),
        pw(1152, 192, 7, act: .none, count: 3, residual: true),
        pw(1152, 320, 7, act: .none),
        pw(320, 1280, 7, act: .relu6),
    ]

    static func g3(_ c: Int, _ size: Int, stride: Int = 1, count: Int = 1) -> Layer {
        Layer("3x3\(stride > 1 ? "/2" : "") \(c) g32 (\(c / 32)/group) @\(size)",
              ConvShape(inChannels: c, outChannels: c, kernel: 3, stride: stride, padding: 1, groups: 32, activation: .relu),
              size, size, count: count)
    }

    /// The layers of ResNeXt-50 32x4d at 224x224 (stem, 1x1s, grouped 3x3s, downsampling 1x1s).
    public static let resnext50: [Layer] = [
        Layer("stem 7x7/2 3->64 @224", ConvShape(inChannels: 3, outChannels: 64, kernel: 7, stride: 2, padding: 3, activation: .relu), 224, 224),
        pw(64, 128, 56, act: .relu), pw(256, 128, 56, act: .relu, count: 2), g3(128, 56, count: 3),
        pw(128, 256, 56, act: .relu, count: 3, residual: true), pw(64, 256, 56, act: .none),
        pw(256, 256, 56, act: .relu), g3(256, 56, stride: 2), pw(512, 256, 28, act: .relu, count: 3), g3(256, 28, count: 3),
        pw(256, 512, 28, act: .relu, count: 4, residual: true), pw(256, 512, 56, stride: 2, act: .none),
        pw(512, 512, 28, act: .relu), g3(512, 28, stride: 2), pw(1024, 512, 14, act: .relu, count: 5), g3(512, 14, count: 5),
        pw(512, 1024, 14, act: .relu, count: 6, residual: true), pw(512, 1024, 28, stride: 2, act: .none),
        pw(1024, 1024, 14, act: .relu), g3(1024, 14, stride: 2), pw(2048, 1024, 7, act: .relu, count: 2), g3(1024, 7, count: 2),
        pw(1024, 2048, 7, act: .relu, count: 3, residual: true), pw(1024, 2048, 14, stride: 2, act: .none),
    ]

    /// Which driver to time: session 1's, or the current one with a given reduction block (0: none).
    /// Grouped 3x3 shapes at several sizes, to separate the kernel from the memory traffic.
    public static let groupedProbe: [Layer] = [
        g3(128, 56), g3(128, 28), g3(128, 14), g3(128, 28, stride: 2),
        g3(256, 56), g3(256, 28), g3(256, 14), g3(256, 56, stride: 2), g3(256, 28, stride: 2),
        g3(512, 28), g3(512, 14), g3(512, 28, stride: 2),
    ]

    public enum Driver: Sendable, Equatable {
        case legacy
        /// tileOrderBytes / rowTiles, as in `GemmTuning`.
        case current(tileOrderBytes: Int, rowTiles: Int)
        public static var current: Driver { .current(tileOrderBytes: GemmTuning.tileOrderBytes, rowTiles: GemmTuning.rowTiles) }
    }

    /// Seconds of CPU time the calling thread has used.
    static func threadSeconds() -> Double { KernelPeak.seconds(.threadCPU) }

    /// The micro-kernel peak timed in thread CPU time like the layers here.
    public static func peak(seconds: Double = 0.5) -> Double { KernelPeak.measure(seconds: seconds, clock: .threadCPU) }

    /// GFLOP/s of each driver on one layer, per sample: the drivers take turns, each sample runs one
    /// driver for about `sampleSeconds` of thread CPU time on the calling thread, until `seconds` in all.
    /// Index [driver][sample]; samples of the same index were taken back to back.
    public static func compare(_ layer: Layer, batch: Int = 1, drivers: [Driver] = [.legacy, .current],
                               seconds: Double = 0.5, sampleSeconds: Double = 0.005, offset: Int = 0,
                               evictMB: Int = 0) -> [[Double]] {
        let s = layer.shape
        var rng = SplitMix64(seed: 7)
        let (oh, ow) = s.outputSize(height: layer.height, width: layer.width)
        let inCount = batch * layer.height * layer.width * s.inChannels, outCount = batch * oh * ow * s.outChannels
        let fanIn = s.inChannelsPerGroup * s.kernelH * s.kernelW
        let w = (0..<(s.outChannels * fanIn)).map { _ in rng.nextSigned() / Float(fanIn).squareRoot() }
        let b = (0..<s.outChannels).map { _ in rng.nextSigned() }
        // Activations start `offset` floats past a cache line (the network's arenas come from malloc).
        let xa = allocateAligned(inCount + 16), ya = allocateAligned(outCount + 16), ra = allocateAligned(outCount + 16)
        defer { freeAligned(xa); freeAligned(ya); freeAligned(ra) }
        let x = xa + offset, y = ya + offset, r = ra + offset
        for i in 0..<inCount { x[i] = Float(rng.nextUnit()) }
        for i in 0..<outCount { r[i] = Float(rng.nextUnit()) }
        let plan = w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
            GemmConvPlan(shape: s, oihw: wp.baseAddress!, bias: bp.baseAddress!) } }
        defer { plan.deallocate() }
        let pool = ThreadPool(threads: 1)
        let flops = Double(batch) * s.flops(height: layer.height, width: layer.width)
        let res: UnsafePointer<Float>? = layer.residual ? UnsafePointer(r) : nil
        func once(_ d: Driver) {
            switch d {
            case .legacy:
                if MulAddChoice.fused {
                    plan.runLegacy(FusedMulAdd.self, input: x, batch: batch, height: layer.height, width: layer.width, output: y, residual: res, pool: pool)
                } else {
                    plan.runLegacy(SplitMulAdd.self, input: x, batch: batch, height: layer.height, width: layer.width, output: y, residual: res, pool: pool)
                }
            case .current(let tileOrderBytes, let rowTiles):
                let saved = GemmTuning.settings
                GemmTuning.settings = .init(tileOrderBytes: tileOrderBytes, rowTiles: rowTiles)
                defer { GemmTuning.settings = saved }
                plan.forward(input: x, batch: batch, height: layer.height, width: layer.width, output: y, residual: res, pool: pool)
            }
        }
        var out = [[Double]](repeating: [], count: drivers.count)
        for d in drivers { once(d) }  // warm caches and pages
        // Evicting: before every call, read `evictMB` of other data (clean lines, so no write-backs
        // land in the timed call): past L2 (~1 MB) the layer's weights and activations come from L3,
        // past L3 from memory, as inside a network where each layer's weights are read once per image.
        // Only the call is timed.
        let cold = evictMB > 0
        let evictCount = evictMB << 18
        let evict = allocateAligned(evictCount + 16)
        evict.initialize(repeating: 1, count: evictCount + 16)
        defer { freeAligned(evict) }
        var sink = Vec()
        // `seconds` of timed calls; evicting is not timed, so cap the whole at a multiple of it.
        var timed = 0.0
        let deadline = threadSeconds() + 21 * seconds
        while timed < seconds && threadSeconds() < deadline {
            for (i, d) in drivers.enumerated() {
                var calls = 0, elapsed = 0.0
                repeat {
                    if cold { for j in stride(from: 0, to: evictCount, by: 16) { sink += evict.vec(j) } }
                    let start = threadSeconds()
                    once(d)
                    elapsed += threadSeconds() - start
                    calls += 1
                } while elapsed < sampleSeconds
                timed += elapsed
                out[i].append(Double(calls) * flops / elapsed * 1e-9)
            }
        }
        if sink[0] == -1 { print("") }
        return out
    }
}

extension GemmBench {
    /// The per-layer table `corral bench gemm` prints: for each chosen network, every GEMM layer
    /// timed on one core with session 1's driver ("legacy") next to the current one (and any extra
    /// driver variants, as "tileOrderBytes/rowTiles" pairs), in GFLOP/s and % of the micro-kernel
    /// peak measured in the same process. It prints figures and never judges them: speed is read by
    /// a person comparing columns measured side by side, not asserted.
    /// models: "lite0", "resnext", "grouped" (ResNeXt's grouped 3x3 at several sizes).
    public static func report(models: [String], batch: Int, seconds: Double, filter: String?, offset: Int,
                              variants: [(tileOrderBytes: Int, rowTiles: Int)], evictMB: Int = 0, print emit: (String) -> Void) {
        let t = GemmTuning.settings
        let chosen = variants.isEmpty ? [(tileOrderBytes: t.tileOrderBytes, rowTiles: t.rowTiles)] : variants
        let drivers: [Driver] = [.legacy] + chosen.map { .current(tileOrderBytes: $0.tileOrderBytes, rowTiles: $0.rowTiles) }
        let names = ["legacy"] + chosen.map { "\($0.tileOrderBytes)/\($0.rowTiles)" }
        let peak = GemmBench.peak()
        emit(String(format: "one-core micro-kernel peak %.1f GFLOP/s (thread CPU time), fused=%@, batch %d, activations %d floats off a cache line%@",
                    peak, MulAddChoice.fused ? "yes" : "no", batch, offset, evictMB > 0 ? ", \(evictMB) MB read before each call" : ""))
        func tenths(_ v: [Double], _ n: Int) -> Double { let s = v.sorted(); return s.isEmpty ? .nan : s[s.count * n / 10] }
        func median(_ v: [Double]) -> Double { tenths(v, 5) }
        // The fastest tenth of the samples: the peak is a best-of figure, and this VM's core alternates
        // between two speeds about 25% apart, so a layer's median is a mix of both and its fastest
        // tenth is the figure in the same phase as the peak.
        func fast(_ v: [Double]) -> Double { tenths(v, 9) }
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        for model in models {
            let layers = model == "lite0" ? lite0 : model == "grouped" ? groupedProbe : resnext50
            emit("\n\(model)")
            var header = pad("layer", 34) + " count      M     K     N |"
            for n in names { header += " " + pad(n, 12) + " GF/s %peak fast% |" }
            for n in names.dropFirst() { header += " \(n)/legacy" }
            emit(header)
            var flops = 0.0
            var times = [Double](repeating: 0, count: drivers.count), fastTimes = times
            for layer in layers where filter.map({ layer.name.contains($0) }) ?? true {
                let r = compare(layer, batch: batch, drivers: drivers, seconds: seconds, offset: offset, evictMB: evictMB)
                let f = Double(layer.count * batch) * layer.shape.flops(height: layer.height, width: layer.width) * 1e-9
                flops += f
                var line = pad(layer.name, 34) + String(format: " %5d %6d %5d %5d |", layer.count, layer.m * batch, layer.k, layer.n)
                for i in drivers.indices {
                    let g = median(r[i]), gf = fast(r[i])
                    times[i] += f / g
                    fastTimes[i] += f / gf
                    line += String(format: " %11.1f %4.0f%% %4.0f%% |", g, 100 * g / peak, 100 * gf / peak)
                }
                for i in drivers.indices.dropFirst() {
                    line += String(format: " %9.2f", median(zip(r[i], r[0]).map { $0 / $1 }))
                }
                emit(line)
            }
            var total = "network total (count-weighted):"
            for i in drivers.indices {
                total += String(format: " %@ %.1f GF/s %.0f%% %.2f ms (fastest tenth %.0f%%);", names[i], flops / times[i],
                                100 * flops / times[i] / peak, times[i] * 1e3, 100 * flops / fastTimes[i] / peak)
            }
            emit(total)
        }
        emit(String(format: "peak again at the end: %.1f GFLOP/s", GemmBench.peak()))
    }
}
