import XCTest
import Tensors
import TestSupport

/// Every convolution path against the naive Double-accumulating reference, on shapes chosen to hit
/// vector tails (channels 1, 3, 13, 15, 16, 17), odd image sizes, strides, asymmetric padding and
/// every grouping case.
final class ConvTests: XCTestCase {
    let pools = [ThreadPool(threads: 1), ThreadPool(threads: 2)]

    func random(_ count: Int, _ rng: inout SeededRNG, scale: Float = 1) -> [Float] {
        ConvCase.random(count, &rng, scale: scale)
    }

    func check(_ s: ConvShape, batch: Int = 1, height: Int = 9, width: Int = 7, residual: Bool = false,
               seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line) {
        let c = ConvCase(s, batch: batch, height: height, width: width, residual: residual, seed: seed)
        let (x, w, b, r, expected) = (c.x, c.weights, c.bias, c.residual, c.expected)
        let (oh, ow) = c.outputSize
        let conv = Conv2D(shape: s, weights: w, bias: b)
        XCTAssertTrue(conv.outputSize(height: height, width: width) == (oh, ow), file: file, line: line)
        for pool in pools {
            var y = [Float](repeating: .nan, count: expected.count)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    if let r {
                        r.withUnsafeBufferPointer { rp in
                            conv.forward(input: xp.baseAddress!, batch: batch, height: height, width: width,
                                         output: yp.baseAddress!, residual: rp.baseAddress!, pool: pool)
                        }
                    } else {
                        conv.forward(input: xp.baseAddress!, batch: batch, height: height, width: width,
                                     output: yp.baseAddress!, pool: pool)
                    }
                }
            }
            let err = maxRelativeError(y, expected)
            XCTAssertLessThanOrEqual(err, 1e-5, "\(s) batch \(batch) \(height)x\(width) threads \(pool.threads)",
                                     file: file, line: line)
        }
    }

    func testPointwise() {
        for (cin, cout) in [(1, 1), (3, 16), (13, 17), (16, 15), (17, 33), (64, 48), (96, 200), (40, 240)] {
            for act in [Activation.none, .relu, .relu6] {
                check(ConvShape(inChannels: cin, outChannels: cout, kernel: 1, activation: act))
            }
            check(ConvShape(inChannels: cin, outChannels: cout, kernel: 1, stride: 2), batch: 3, height: 9, width: 7)
            check(ConvShape(inChannels: cin, outChannels: cout, kernel: 1), batch: 3, height: 5, width: 11, residual: true)
        }
        // Many pixels: enough rows for every blocking edge of a GEMM kernel.
        check(ConvShape(inChannels: 67, outChannels: 81, kernel: 1, activation: .relu6), batch: 2, height: 23, width: 19)
        check(ConvShape(inChannels: 256, outChannels: 64, kernel: 1, activation: .relu), height: 14, width: 14, residual: true)
    }

    func testDense() {
        for k in [1, 3, 5, 7] {
            for stride in [1, 2] {
                for (cin, cout) in [(1, 3), (3, 16), (3, 32), (13, 15), (16, 17), (17, 16)] {
                    let pad = k / 2
                    check(ConvShape(inChannels: cin, outChannels: cout, kernel: k, stride: stride, padding: pad,
                                    activation: .relu6), seed: UInt64(k * 100 + stride * 10 + cin))
                }
            }
        }
        // No padding, kernel bigger than stride steps; batch 3 with residual.
        check(ConvShape(inChannels: 13, outChannels: 17, kernel: 3, stride: 1, padding: 0), batch: 3, residual: true)
        check(ConvShape(inChannels: 3, outChannels: 64, kernel: 7, stride: 2, padding: 3, activation: .relu), batch: 3, height: 17, width: 15)
    }

    func testAsymmetricPadding() {
        // TF 'SAME' with stride 2 on an even size pads only bottom/right; on odd sizes both.
        for (h, w) in [(9, 7), (8, 10), (1, 1), (2, 3)] {
            for k in [3, 5] {
                for stride in [1, 2] {
                    let ph = ConvShape.samePadding(input: h, kernel: k, stride: stride)
                    let pw = ConvShape.samePadding(input: w, kernel: k, stride: stride)
                    let dense = ConvShape(inChannels: 3, outChannels: 16, kernelH: k, kernelW: k, strideH: stride, strideW: stride,
                                          padTop: ph.before, padLeft: pw.before, padBottom: ph.after, padRight: pw.after,
                                          activation: .relu6)
                    check(dense, height: h, width: w)
                    var dw = dense
                    dw.inChannels = 17; dw.outChannels = 17; dw.groups = 17
                    check(dw, batch: 3, height: h, width: w)
                    let (oh, ow) = dense.outputSize(height: h, width: w)
                    XCTAssertEqual(oh, (h + stride - 1) / stride)
                    XCTAssertEqual(ow, (w + stride - 1) / stride)
                }
            }
        }
        // Uneven on purpose: more padding on top/left than bottom/right, and different H/W strides.
        check(ConvShape(inChannels: 5, outChannels: 7, kernelH: 3, kernelW: 5, strideH: 2, strideW: 1,
                        padTop: 2, padLeft: 1, padBottom: 0, padRight: 3))
    }

    func testDepthwise() {
        for c in [1, 3, 13, 15, 16, 17, 32, 40, 144] {
            for k in [3, 5] {
                for stride in [1, 2] {
                    check(ConvShape(inChannels: c, outChannels: c, kernel: k, stride: stride, padding: k / 2,
                                    groups: c, activation: .relu6), batch: c == 17 ? 3 : 1, seed: UInt64(c * 7 + k + stride))
                }
            }
        }
        // Channel multiplier 2 (groups == inChannels, 2 outputs per group).
        check(ConvShape(inChannels: 13, outChannels: 26, kernel: 3, stride: 1, padding: 1, groups: 13))
        check(ConvShape(inChannels: 16, outChannels: 16, kernel: 3, stride: 1, padding: 1, groups: 16), height: 14, width: 14, residual: true)
        // Wide rows: the 4-pixel x 16-channel interior kernel, with residual, both strides and kernel sizes.
        for (k, stride) in [(3, 1), (5, 2), (5, 1), (3, 2)] {
            check(ConvShape(inChannels: 56, outChannels: 56, kernel: k, stride: stride, padding: k / 2, groups: 56,
                            activation: .relu6), batch: 2, height: 16, width: 19, residual: true)
        }
    }

    func testGrouped() {
        for (cin, cout, groups) in [(4, 6, 2), (16, 16, 4), (26, 13, 13), (64, 64, 32), (128, 128, 32), (32, 64, 4), (34, 34, 2)] {
            for stride in [1, 2] {
                check(ConvShape(inChannels: cin, outChannels: cout, kernel: 3, stride: stride, padding: 1,
                                groups: groups, activation: .relu), batch: stride == 2 ? 3 : 1)
            }
        }
        check(ConvShape(inChannels: 64, outChannels: 64, kernel: 3, stride: 1, padding: 1, groups: 32), height: 13, width: 11, residual: true)
        // The in-group kernels: 8 and 4 channels per group (ResNeXt stages 2 and 1), strides, residual, batch.
        for (c, groups) in [(64, 8), (256, 32), (16, 4), (128, 32), (48, 6), (48, 12)] {
            for stride in [1, 2] {
                check(ConvShape(inChannels: c, outChannels: c, kernel: 3, stride: stride, padding: 1, groups: groups,
                                activation: .relu), batch: 2, height: 11, width: 9, residual: stride == 1)
            }
        }
        check(ConvShape(inChannels: 32, outChannels: 32, kernel: 1, groups: 4), residual: true)
    }

    func testFlopsAndOutputSize() {
        let s = ConvShape(inChannels: 32, outChannels: 64, kernel: 3, stride: 2, padding: 1, groups: 4)
        XCTAssertTrue(s.outputSize(height: 224, width: 224) == (112, 112))
        XCTAssertEqual(s.flops(height: 224, width: 224), 2.0 * 112 * 112 * 64 * 8 * 9)
        XCTAssertTrue(ConvShape.samePadding(input: 224, kernel: 3, stride: 2) == (0, 1))
        XCTAssertTrue(ConvShape.samePadding(input: 225, kernel: 3, stride: 2) == (1, 1))
        XCTAssertTrue(ConvShape.samePadding(input: 14, kernel: 5, stride: 1) == (2, 2))
    }
}
