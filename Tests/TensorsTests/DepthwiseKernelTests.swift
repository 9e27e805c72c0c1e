import XCTest
@testable import Tensors
import TestSupport

/// Both depthwise kernels (the channel-tiled one over a padded L1 copy, the default, and the per-tap
/// pointer-table one) against the naive reference, including the row chunking of the tiled kernel
/// (chunks that do not divide the output, rows wider than the L1 budget) and, through fused
/// blocks, its row-band entry point.
final class DepthwiseKernelTests: XCTestCase {
    let conv = ConvTests(name: "helper", testClosure: { _ in })
    let fused = FusedBlockTests(name: "helper", testClosure: { _ in })

    func bothKernels(_ body: () -> Void) {
        let saved = DepthwisePlan.tiled
        defer { DepthwisePlan.tiled = saved }
        for tiled in [true, false] {
            DepthwisePlan.tiled = tiled
            body()
        }
    }

    func testShapes() {
        bothKernels {
            for c in [1, 13, 16, 17, 40, 144] {
                for (k, stride) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
                    conv.check(ConvShape(inChannels: c, outChannels: c, kernel: k, stride: stride, padding: k / 2, groups: c,
                                         activation: .relu6), batch: 2, height: 9, width: 7, residual: c == 17,
                               seed: UInt64(c * 11 + k + stride))
                }
            }
            // TF 'SAME' on even sizes with stride 2: padding only at the bottom/right.
            for (h, w) in [(8, 10), (2, 3), (1, 1)] {
                for k in [3, 5] {
                    let ph = ConvShape.samePadding(input: h, kernel: k, stride: 2), pw = ConvShape.samePadding(input: w, kernel: k, stride: 2)
                    conv.check(ConvShape(inChannels: 24, outChannels: 24, kernelH: k, kernelW: k, strideH: 2, strideW: 2,
                                         padTop: ph.before, padLeft: pw.before, padBottom: ph.after, padRight: pw.after,
                                         groups: 24, activation: .relu6), batch: 3, height: h, width: w)
                }
            }
        }
    }

    /// Rows chunked by the L1 budget: 40 wide gives several output rows per copy (23 does not divide),
    /// 131 wide is a single row per copy, 400 wide exceeds the budget even for one kernel window.
    func testChunking() {
        bothKernels {
            for (h, w) in [(23, 40), (11, 131), (6, 400)] {
                for (k, stride) in [(3, 1), (5, 2)] {
                    conv.check(ConvShape(inChannels: 32, outChannels: 32, kernel: k, stride: stride, padding: k / 2, groups: 32,
                                         activation: .relu6), batch: 2, height: h, width: w, residual: stride == 1)
                }
            }
        }
    }

    func testFusedBlocksWithBothKernels() {
        bothKernels {
            fused.check(cin: 13, mid: 78, cout: 13, kernel: 3, stride: 1, height: 9, width: 7, residual: true, bands: [nil, 2])
            fused.check(cin: 24, mid: 40, cout: 40, kernel: 5, stride: 2, height: 13, width: 11, bands: [nil, 1, 3], seed: 3)
            fused.check(cin: 19, mid: 19, cout: 19, kernel: 3, stride: 1, height: 13, width: 45, expand: false, residual: true,
                        bands: [nil, 4], seed: 7)
        }
    }
}
