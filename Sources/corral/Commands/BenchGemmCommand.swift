import ArgumentParser
import Foundation
import Tensors

/// `corral bench gemm`: the GEMM side of the convolutions, layer shape by layer shape, on one core.
/// Whole-network profiles (`bench embed --profile`) mix memory traffic between layers into every
/// figure; this isolates the kernel driver so a change to it can be judged shape by shape, against
/// session 1's driver in the same run.
struct BenchGemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time every GEMM layer shape of Lite0 / ResNeXt-50 on one core, old and current driver side by side.",
        discussion: """
        Thread CPU time per layer, GFLOP/s and % of the micro-kernel peak measured in the same run.
        Example: corral bench gemm --models lite0 --seconds 0.5
        """)

    @Option(name: .long, parsing: .upToNextOption, help: "lite0, resnext and/or grouped (ResNeXt's grouped 3x3 at several sizes).")
    var models: [String] = ["lite0", "resnext"]
    @Option(name: .long, help: "Images per call.") var batch: Int = 1
    @Option(name: .long, help: "Seconds of CPU time per layer.") var seconds: Double = 0.5
    @Option(name: .long, help: "Only layers whose name contains this text.") var filter: String?
    @Option(name: .long, help: "Start activations this many floats past a cache line.") var offset: Int = 0
    @Option(name: .long, parsing: .upToNextOption, help: "Extra driver variants as BYTES/TILES (packed-weight bytes run panel-outer / row tiles per block), e.g. 0/1 24576/16.")
    var variants: [String] = []
    @Option(name: .long, help: "Read this many MB of other data before each call (untimed), so weights and activations come from L3 (1-4) or memory (64), as inside a network.")
    var evict: Int = 0

    func validate() throws {
        for m in models where !["lite0", "resnext", "grouped"].contains(m) {
            throw ValidationError("unknown --models value '\(m)'; use lite0, resnext or grouped")
        }
        guard batch >= 1, batch <= 64 else { throw ValidationError("--batch must be 1...64") }
        guard seconds > 0, seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60]") }
        guard (0...1024).contains(evict) else { throw ValidationError("--evict must be 0...1024 MB") }
        guard (0..<16).contains(offset) else { throw ValidationError("--offset must be 0...15") }
        for v in variants where parse(v) == nil { throw ValidationError("--variants value '\(v)' is not BYTES/TILES, e.g. 24576/16") }
    }

    private func parse(_ v: String) -> (tileOrderBytes: Int, rowTiles: Int)? {
        let parts = v.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 0, parts[1] >= 0 else { return nil }
        return (parts[0], parts[1])
    }

    func run() throws {
        GemmBench.report(models: models, batch: batch, seconds: seconds, filter: filter, offset: offset,
                         variants: variants.compactMap(parse), evictMB: evict) { line in
            print(line)
            fflush(stdout)
        }
    }
}
