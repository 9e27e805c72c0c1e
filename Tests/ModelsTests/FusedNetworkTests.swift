import XCTest
@testable import Models
import Tensors
import TestSupport

/// Whole networks with MBConv blocks fused band by band against the same networks run layer by
/// layer: every block fused (threshold 0), odd input sizes, batch 1 and 3, 1 and 2 threads. The
/// golden tests cover the default threshold at the trained sizes.
final class FusedNetworkTests: XCTestCase {
    func logits(_ name: String, fuse: Int?, inputSize: Int, threads: Int, input: [Float], count: Int) throws -> (fusedSteps: Int, logits: [Float]) {
        let d = try XCTUnwrap(ModelCatalog.definition(named: name))
        let saved = Network.fuseMinimumBytes
        Network.fuseMinimumBytes = fuse
        defer { Network.fuseMinimumBytes = saved }
        let e = try Embedder(name: name, definition: d, weights: SeededWeights.weights(for: d, seed: 11), threads: threads,
                             inputSize: inputSize)
        let fusedSteps = e.takeLayerProfile().filter { $0.kind == "fused" }.count
        var out = [Float](repeating: .nan, count: count * d.classes)
        out.withUnsafeMutableBufferPointer { p in _ = e.run(batch: input, count: count, logits: p.baseAddress!) }
        return (fusedSteps, out)
    }

    func testEveryBlockFusedMatchesLayerByLayer() throws {
        for (name, size) in [("efficientnet-lite0", 45), ("efficientnet-lite2", 38)] {
            for count in [1, 3] {
                let input = SeededWeights.uniform("fused-input", seed: 3, count: count * size * size * 3)
                let plain = try logits(name, fuse: nil, inputSize: size, threads: 2, input: input, count: count)
                XCTAssertEqual(plain.fusedSteps, 0)
                for threads in [1, 2] {
                    let fused = try logits(name, fuse: 0, inputSize: size, threads: threads, input: input, count: count)
                    // Every block: 1 without expand + 15 (Lite0) or 20 (Lite2) with.
                    XCTAssertEqual(fused.fusedSteps, name == "efficientnet-lite0" ? 16 : 21, name)
                    XCTAssertLessThanOrEqual(maxRelativeError(fused.logits, plain.logits), 1e-4,
                                             "\(name) \(size)x\(size) batch \(count) threads \(threads)")
                    XCTAssertGreaterThan(cosineSimilarity(fused.logits, plain.logits), 0.99999)
                }
            }
        }
    }

    /// A scratch budget of a few KB forces bands of one or two rows even at a small input size, so
    /// halo reuse between bands and parts of an image split between two workers run in a whole network.
    func testSmallBandsMatchLayerByLayer() throws {
        let size = 57, count = 3
        let input = SeededWeights.uniform("fused-bands", seed: 5, count: count * size * size * 3)
        let plain = try logits("efficientnet-lite0", fuse: nil, inputSize: size, threads: 2, input: input, count: count)
        let saved = FusedMBConv.scratchBudgetBytes
        FusedMBConv.scratchBudgetBytes = 8 * 1024
        defer { FusedMBConv.scratchBudgetBytes = saved }
        for threads in [1, 2] {
            let fused = try logits("efficientnet-lite0", fuse: 0, inputSize: size, threads: threads, input: input, count: count)
            XCTAssertEqual(fused.fusedSteps, 16)
            XCTAssertLessThanOrEqual(maxRelativeError(fused.logits, plain.logits), 1e-4, "threads \(threads)")
        }
    }

    /// Batches on several threads run whole images per worker, each in its own part of the arenas and
    /// of the fused blocks' scratch: every image must come out as it does alone on one thread, for
    /// uneven splits (3 images on 2 workers, 5 on 4) and for a network with and without fused blocks.
    func testImagesPerWorkerMatchOneImageAtATime() throws {
        for (name, size, fuse) in [("efficientnet-lite0", 45, 0), ("efficientnet-lite0", 45, Int.max), ("resnet18", 32, 0)] {
            let d = try XCTUnwrap(ModelCatalog.definition(named: name))
            for (count, threads) in [(3, 2), (5, 4), (2, 2)] {
                let input = SeededWeights.uniform("per-worker", seed: 9, count: count * size * size * 3)
                let batched = try logits(name, fuse: fuse, inputSize: size, threads: threads, input: input, count: count)
                for n in 0..<count {
                    let one = Array(input[(n * size * size * 3)..<((n + 1) * size * size * 3)])
                    let alone = try logits(name, fuse: fuse, inputSize: size, threads: 1, input: one, count: 1)
                    let got = Array(batched.logits[(n * d.classes)..<((n + 1) * d.classes)])
                    XCTAssertLessThanOrEqual(maxRelativeError(got, alone.logits), 1e-5,
                                             "\(name) fuse \(fuse) image \(n) of \(count) on \(threads) threads")
                }
            }
        }
    }

    /// ResNets have no depthwise layers: nothing is fused, whatever the threshold.
    func testResNetHasNothingToFuse() throws {
        let input = SeededWeights.uniform("fused-input", seed: 4, count: 32 * 32 * 3)
        let r = try logits("resnet18", fuse: 0, inputSize: 32, threads: 2, input: input, count: 1)
        XCTAssertEqual(r.fusedSteps, 0)
    }
}
