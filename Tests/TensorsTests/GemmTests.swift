import XCTest
@testable import Tensors
import TestSupport

/// The GEMM drivers (GemmConv.swift, MatMul.swift) against the naive reference, with both multiply-add
/// strategies compiled in (fused FMA and split multiply + add, what CORRAL_FMA=1/0 picks), on shapes
/// that hit every edge: M not a multiple of 6, N not a multiple of 16 (and <= 8, the 6x8 tail
/// kernel), K of 1, 3, 13, 17 and past the K-block threshold (513, 1030), strided and padded taps,
/// the in-group kernels with 1-3 images, residual on and off, every activation, 1 and 2 threads;
/// 1x1 shapes on the 1x1 kernel and on the general one, window rows short enough to be gathered,
/// and lone last rows whose panels come in blocks of one to three (the 1x16 row kernel).
final class GemmTests: XCTestCase {
    let pools = [ThreadPool(threads: 1), ThreadPool(threads: 2)]

    func random(_ count: Int, _ rng: inout SeededRNG, scale: Float = 1) -> [Float] {
        ConvCase.random(count, &rng, scale: scale)
    }

    enum Driver: CaseIterable { case fused, split, legacyFused }

    func check(_ s: ConvShape, batch: Int = 1, height: Int, width: Int, residual: Bool = false, seed: UInt64 = 1,
               file: StaticString = #filePath, line: UInt = #line) {
        let c = ConvCase(s, batch: batch, height: height, width: width, residual: residual, seed: seed)
        let (x, w, b, r, expected) = (c.x, c.weights, c.bias, c.residual, c.expected)
        let plan = w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
            GemmConvPlan(shape: s, oihw: wp.baseAddress!, bias: bp.baseAddress!) } }
        defer { plan.deallocate() }
        let saved = GemmTuning.settings, savedLean = GemmTuning.lean1x1
        defer { GemmTuning.settings = saved; GemmTuning.lean1x1 = savedLean }
        // Tile-outer order (1), and the BLIS order with blocks that do and do not divide the tiles.
        // Row runs for dense KxK off once, so the per-tap table is checked on interior tiles too.
        // 1x1 convs on their own kernel, and (lean false) on the general one, in both orders.
        for (pool, rowTiles, runs, lean) in [(pools[0], 1, true, true), (pools[1], 1, true, true), (pools[0], 2, true, true),
                                             (pools[1], 3, false, true), (pools[0], 16, true, true),
                                             (pools[0], 1, true, false), (pools[1], 3, true, false)] {
            GemmTuning.settings = .init(tileOrderBytes: rowTiles > 1 ? Int.max : 0, rowTiles: rowTiles, rowRuns: runs)
            GemmTuning.lean1x1 = lean
            for driver in Driver.allCases {
                var y = [Float](repeating: .nan, count: expected.count)
                let rBuffer = r ?? [0]
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in rBuffer.withUnsafeBufferPointer { rAll in
                        let rp = r == nil ? nil : rAll.baseAddress
                        switch driver {
                        case .fused:
                            plan.run(FusedMulAdd.self, input: xp.baseAddress!, batch: batch, height: height, width: width,
                                     output: yp.baseAddress!, residual: rp, pool: pool)
                        case .split:
                            plan.run(SplitMulAdd.self, input: xp.baseAddress!, batch: batch, height: height, width: width,
                                     output: yp.baseAddress!, residual: rp, pool: pool)
                        case .legacyFused:
                            plan.runLegacy(FusedMulAdd.self, input: xp.baseAddress!, batch: batch, height: height, width: width,
                                           output: yp.baseAddress!, residual: rp, pool: pool)
                        }
                    } }
                }
                let err = maxRelativeError(y, expected)
                XCTAssertLessThanOrEqual(err, 1e-5, "\(s) batch \(batch) \(height)x\(width) residual \(residual) threads \(pool.threads) row tiles \(rowTiles) 1x1 kernel \(lean) \(driver)",
                                         file: file, line: line)
            }
        }
    }

    func testPointwiseEdges() {
        var seed: UInt64 = 1
        for k in [1, 3, 13, 17, 40, 513, 1030] {
            for n in [1, 8, 15, 24, 40, 33] {
                seed += 1
                let act: Activation = [.none, .relu, .relu6][Int(seed % 3)]
                // 5x7 = 35 pixels (5 full tiles + 5 rows), 1x1 = a single partial tile.
                check(ConvShape(inChannels: k, outChannels: n, kernel: 1, activation: act), height: 5, width: 7,
                      residual: seed % 2 == 0, seed: seed)
            }
            check(ConvShape(inChannels: k, outChannels: 17, kernel: 1, activation: .relu6), batch: 3, height: 1, width: 1, seed: seed)
            check(ConvShape(inChannels: k, outChannels: 48, kernel: 1, stride: 2, activation: .relu), batch: 2, height: 9, width: 7,
                  residual: true, seed: seed + 100)
        }
        // The network shapes with edge tiles: 7x7 = 49 pixels, Cout 24/40 (6x8 tail), K past the block size.
        check(ConvShape(inChannels: 1152, outChannels: 40, kernel: 1), height: 7, width: 7, residual: true)
        check(ConvShape(inChannels: 144, outChannels: 24, kernel: 1), batch: 2, height: 7, width: 7, residual: true)
        check(ConvShape(inChannels: 2048, outChannels: 24, kernel: 1, activation: .relu), batch: 2, height: 3, width: 3)
        // A lone last row (7x7 = 8 tiles + 1 row; a 1x1 map) on the 1x64 kernel: groups of four panels,
        // then a remainder of whole and partial panels; with a 3x3 window (several taps) too.
        for (n, act) in [(64, Activation.relu6), (72, .none), (96, .relu), (200, .relu), (1000, .relu6)] {
            check(ConvShape(inChannels: 37, outChannels: n, kernel: 1, activation: act), height: 7, width: 7,
                  residual: n != 1000, seed: UInt64(n))
            check(ConvShape(inChannels: 129, outChannels: n, kernel: 1, activation: act), height: 1, width: 1,
                  residual: n == 72, seed: UInt64(n + 1))
        }
        check(ConvShape(inChannels: 5, outChannels: 80, kernel: 3, padding: 1, activation: .relu6), height: 7, width: 7,
              residual: true)
        // Long K: blocks of one or two panels, so the lone row runs whole panels on the 1x16 split-K
        // kernel (K = 1030 is not a multiple of its four chains), then a partial panel.
        for n in [16, 40, 48] {
            check(ConvShape(inChannels: 1030, outChannels: n, kernel: 1, activation: .relu), height: 7, width: 7,
                  residual: n != 40, seed: UInt64(n + 7))
        }
        check(ConvShape(inChannels: 2050, outChannels: 32, kernel: 1), height: 1, width: 1, seed: 9)
    }

    func testDenseAndGroupedEdges() {
        for stride in [1, 2] {
            check(ConvShape(inChannels: 13, outChannels: 40, kernel: 3, stride: stride, padding: 1, activation: .relu6),
                  batch: 2, height: 9, width: 7, residual: stride == 1)
            check(ConvShape(inChannels: 3, outChannels: 24, kernel: 3, stride: stride, padding: 1, activation: .relu6),
                  height: 11, width: 10)
            check(ConvShape(inChannels: 17, outChannels: 8, kernelH: 3, kernelW: 5, strideH: stride, strideW: 1,
                            padTop: 2, padLeft: 1, padBottom: 0, padRight: 3), height: 7, width: 9)
            // The stems: 3 channels, 3x3/2 and 7x7/2, wide enough for interior tiles (row runs) and
            // borders; batch 2 so tiles cross images.
            check(ConvShape(inChannels: 3, outChannels: 32, kernel: 3, stride: stride, padding: 1, activation: .relu6),
                  batch: 2, height: 13, width: 29)
            check(ConvShape(inChannels: 3, outChannels: 64, kernel: 7, stride: stride, padding: 3, activation: .relu),
                  batch: 2, height: 15, width: 31, residual: true)
            // Window rows shorter than 8 floats (the gathered path's element-wise copy) and of 8-15.
            check(ConvShape(inChannels: 2, outChannels: 20, kernel: 3, stride: stride, padding: 1, activation: .relu),
                  batch: 2, height: 9, width: 11, residual: true)
            check(ConvShape(inChannels: 1, outChannels: 16, kernel: 5, stride: stride, padding: 2), height: 8, width: 13)
            check(ConvShape(inChannels: 5, outChannels: 24, kernelH: 3, kernelW: 3, strideH: 1, strideW: stride,
                            padTop: 0, padLeft: 0, padBottom: 1, padRight: 1), height: 9, width: 20)
            for (c, groups) in [(32, 8), (64, 8), (32, 4), (64, 16), (128, 32), (256, 32)] {
                for batch in [1, 3] {
                    // Each kernel is compiled once per activation: 4 and 8 channels per group meet all three.
                    let act: Activation = [.none, .relu, .relu6][(c / groups + batch) % 3]
                    check(ConvShape(inChannels: c, outChannels: c, kernel: 3, stride: stride, padding: 1, groups: groups,
                                    activation: act), batch: batch, height: 7, width: 5, residual: batch == 1 && stride == 1,
                          seed: UInt64(c + groups + batch))
                }
            }
            // Grouped with 16+ channels per group and a partial last panel (dense driver, one panel per call).
            check(ConvShape(inChannels: 40, outChannels: 40, kernel: 3, stride: stride, padding: 1, groups: 2),
                  batch: 2, height: 5, width: 5)
        }
    }

    func testMatmulLongK() {
        var rng = SeededRNG(seed: 3)
        for (m, n, k) in [(7, 24, 1030), (13, 40, 513), (6, 16, 2048), (1, 1000, 1280)] {
            let a = random(m * k, &rng), b = random(k * n, &rng, scale: 1 / Float(k).squareRoot())
            for transposeB in [false, true] {
                let expected = Reference.matmul(a, b, m: m, n: n, k: k, transposeB: transposeB)
                for pool in pools {
                    var c = [Float](repeating: .nan, count: m * n)
                    matmul(a, b, &c, m: m, n: n, k: k, transposeB: transposeB, pool: pool)
                    XCTAssertLessThanOrEqual(maxRelativeError(c, expected), 1e-5, "m \(m) n \(n) k \(k) transposeB \(transposeB)")
                }
            }
        }
    }
}
