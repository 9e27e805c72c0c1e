import XCTest
import Foundation
@testable import Tensors

/// Per-layer GEMM timings for docs/speed-gemm.md; prints, never asserts a speed. Runs only with
/// CORRAL_GEMM_BENCH=1. CORRAL_GEMM_BENCH_MODELS=lite0,resnext,grouped picks networks (grouped: ResNeXt's grouped 3x3 at several sizes), CORRAL_GEMM_BENCH_BATCH
/// the batch, CORRAL_GEMM_BENCH_SECONDS the time per layer, CORRAL_GEMM_BENCH_FILTER a substring of
/// the layer names, CORRAL_GEMM_BENCH_VARIANTS=0/1,24576/16 the variants of the current driver
/// (largest packed weights run in BLIS order / row tiles per block there, see GemmTuning) to time next to session 1's driver ("legacy"), CORRAL_GEMM_BENCH_OFFSET=4 starts the activations 16 bytes
/// past a cache line, as malloc'd buffers are.
final class GemmBenchTests: XCTestCase {
    func testPrintLayerTimings() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["CORRAL_GEMM_BENCH"] == "1" else { throw XCTSkip("set CORRAL_GEMM_BENCH=1 to time the GEMM layers") }
        let models = (env["CORRAL_GEMM_BENCH_MODELS"] ?? "lite0,resnext").split(separator: ",").map(String.init)
        let batch = Int(env["CORRAL_GEMM_BENCH_BATCH"] ?? "1") ?? 1
        let seconds = Double(env["CORRAL_GEMM_BENCH_SECONDS"] ?? "0.5") ?? 0.5
        let filter = env["CORRAL_GEMM_BENCH_FILTER"]
        let offset = Int(env["CORRAL_GEMM_BENCH_OFFSET"] ?? "0") ?? 0
        // Variants of the current driver as tileOrderBytes/rowTiles, e.g. "0/1,24576/16".
        let t = GemmTuning.settings
        let variants = (env["CORRAL_GEMM_BENCH_VARIANTS"] ?? "\(t.tileOrderBytes)/\(t.rowTiles)")
            .split(separator: ",").map { $0.split(separator: "/").compactMap { Int($0) } }.filter { $0.count == 2 }
        let drivers: [GemmBench.Driver] = [.legacy] + variants.map { .current(tileOrderBytes: $0[0], rowTiles: $0[1]) }
        let names = ["legacy"] + variants.map { $0.map(String.init).joined(separator: "/") }
        let peak = GemmBench.peak()
        print(String(format: "one-core micro-kernel peak %.1f GFLOP/s (thread CPU time), fused=%@, batch %d, activations %d floats off a cache line",
                     peak, MulAddChoice.fused ? "yes" : "no", batch, offset))
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        for model in models {
            let layers = model == "lite0" ? GemmBench.lite0 : model == "grouped" ? GemmBench.groupedProbe : GemmBench.resnext50
            print("\n\(model)")
            var header = pad("layer", 34) + " count      M     K     N |"
            for n in names { header += " " + pad(n, 12) + " GF/s %peak |" }
            for n in names.dropFirst() { header += " \(n)/legacy" }
            print(header)
            var flops = 0.0
            var times = [Double](repeating: 0, count: drivers.count)
            for layer in layers where filter.map({ layer.name.contains($0) }) ?? true {
                let r = GemmBench.compare(layer, batch: batch, drivers: drivers, seconds: seconds, offset: offset)
                let f = Double(layer.count * batch) * layer.shape.flops(height: layer.height, width: layer.width) * 1e-9
                flops += f
                var line = pad(layer.name, 34) + String(format: " %5d %6d %5d %5d |", layer.count, layer.m * batch, layer.k, layer.n)
                for i in drivers.indices {
                    let g = median(r[i])
                    times[i] += f / g
                    line += String(format: " %11.1f %4.0f%% |", g, 100 * g / peak)
                }
                for i in drivers.indices.dropFirst() {
                    line += String(format: " %9.2f", median(zip(r[i], r[0]).map { $0 / $1 }))
                }
                print(line)
            }
            var total = "network total (count-weighted):"
            for i in drivers.indices {
                total += String(format: " %@ %.1f GF/s %.0f%% %.2f ms;", names[i], flops / times[i], 100 * flops / times[i] / peak, times[i] * 1e3)
            }
            print(total)
        }
        print(String(format: "peak again at the end: %.1f GFLOP/s", GemmBench.peak()))
    }
}
