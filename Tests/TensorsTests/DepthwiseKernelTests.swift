import XCTest
@testable import Tensors
import TestSupport

/// Both depthwise kernels (the channel-tiled one over a padded ring of rows, the default, and the
/// per-tap pointer-table one) against the naive reference, including the tiled kernel's row tasks
/// (that do not divide the output, wide rows), its windows with constant sizes (3x3 and 5x5 at
/// stride 1 and 2) and the general path (any other window), and, through fused blocks, its row-band
/// entry point.
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
            // Windows outside the specialised four take the general path: 7x7, 1x1, 3x5 at strides 2x1.
            for (kh, kw, sh, sw) in [(7, 7, 1, 1), (1, 1, 1, 1), (3, 5, 2, 1), (5, 3, 1, 2)] {
                conv.check(ConvShape(inChannels: 21, outChannels: 21, kernelH: kh, kernelW: kw, strideH: sh, strideW: sw,
                                     padTop: kh / 2, padLeft: kw / 2, padBottom: kh / 2, padRight: kw / 2,
                                     groups: 21, activation: .relu6), batch: 2, height: 11, width: 9, residual: kh == 7,
                           seed: UInt64(kh * 7 + kw + sh))
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

    /// Tall and wide maps: 23 rows are three row tasks of the standalone layer on two threads (the last
    /// one short, each refilling its ring), one on one thread; 131 and 400 columns make ring rows far
    /// wider than one group of pixels.
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
