import XCTest
@testable import Tensors
import TestSupport

/// The band-by-band MBConv block against the same three layers run one after another, and against
/// the naive reference: odd image sizes, strides 1/2, kernels 3/5, TF-'SAME' asymmetric padding,
/// residual on/off, channel counts off the vector width, batch 1-3, 1 and 2 threads, and band heights
/// that do not divide the output (so halo reuse, part boundaries and the last short band all run).
final class FusedBlockTests: XCTestCase {
    struct Block {
        var expand: Conv2D?
        var depthwise: Conv2D
        var project: Conv2D
        var weights: [(ConvShape, [Float], [Float])]
    }

    /// stem: the first conv is a 3x3/2 'SAME' conv (EfficientNet's stem standing in for block 0's
    /// missing expand) instead of a 1x1.
    func makeBlock(cin: Int, mid: Int, cout: Int, kernel: Int, stride: Int, height: Int, width: Int,
                   expand: Bool, stem: Bool = false, rng: inout SeededRNG) -> Block {
        var shapes: [ConvShape] = []
        var (height, width) = (height, width)
        if expand && stem {
            let sh = ConvShape.samePadding(input: height, kernel: 3, stride: 2)
            let sw = ConvShape.samePadding(input: width, kernel: 3, stride: 2)
            let s = ConvShape(inChannels: cin, outChannels: mid, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                              padTop: sh.before, padLeft: sw.before, padBottom: sh.after, padRight: sw.after,
                              activation: .relu6)
            shapes.append(s)
            (height, width) = s.outputSize(height: height, width: width)
        } else if expand {
            shapes.append(ConvShape(inChannels: cin, outChannels: mid, kernel: 1, activation: .relu6))
        }
        let ph = ConvShape.samePadding(input: height, kernel: kernel, stride: stride)
        let pw = ConvShape.samePadding(input: width, kernel: kernel, stride: stride)
        shapes.append(ConvShape(inChannels: mid, outChannels: mid, kernelH: kernel, kernelW: kernel, strideH: stride,
                                strideW: stride, padTop: ph.before, padLeft: pw.before, padBottom: ph.after,
                                padRight: pw.after, groups: mid, activation: .relu6))
        shapes.append(ConvShape(inChannels: mid, outChannels: cout, kernel: 1))
        var weights: [(ConvShape, [Float], [Float])] = []
        for s in shapes {
            let fanIn = s.inChannelsPerGroup * s.kernelH * s.kernelW
            let w = (0..<(s.outChannels * fanIn)).map { _ in rng.nextSigned() * 2 / Float(fanIn).squareRoot() }
            let b = (0..<s.outChannels).map { _ in rng.nextSigned() }
            weights.append((s, w, b))
        }
        let convs = weights.map { Conv2D(shape: $0.0, weights: $0.1, bias: $0.2) }
        return Block(expand: expand ? convs[0] : nil, depthwise: convs[convs.count - 2], project: convs[convs.count - 1],
                     weights: weights)
    }

    func check(cin: Int, mid: Int, cout: Int, kernel: Int, stride: Int, height: Int, width: Int,
               expand: Bool = true, stem: Bool = false, residual: Bool = false, batches: [Int] = [1, 2, 3],
               bands: [Int?] = [nil, 1, 2, 3], seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRNG(seed: seed)
        let block = makeBlock(cin: cin, mid: expand ? mid : cin, cout: cout, kernel: kernel, stride: stride,
                              height: height, width: width, expand: expand, stem: stem, rng: &rng)
        let (oh, ow) = block.weights.reduce((height, width)) { $1.0.outputSize(height: $0.0, width: $0.1) }
        for batch in batches {
            let x = (0..<(batch * height * width * cin)).map { _ in rng.nextSigned() }
            let r: [Float]? = residual ? (0..<(batch * oh * ow * cout)).map { _ in rng.nextSigned() } : nil
            // Naive reference, layer by layer.
            var v = x, h = height, w = width
            for (i, (s, wt, b)) in block.weights.enumerated() {
                v = Reference.conv2d(input: v, batch: batch, height: h, width: w, shape: s, weights: wt, bias: b,
                                     residual: i == block.weights.count - 1 ? r : nil)
                (h, w) = s.outputSize(height: h, width: w)
            }
            let expected = v
            let unfused = runUnfused(block, x: x, batch: batch, height: height, width: width, residual: r)
            XCTAssertLessThanOrEqual(maxRelativeError(unfused, expected), 1e-5, "unfused layers", file: file, line: line)
            for band in bands {
                let fused = FusedMBConv(expand: block.expand, depthwise: block.depthwise, project: block.project, bandRows: band)
                for threads in [1, 2] {
                    var y = [Float](repeating: .nan, count: expected.count)
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            withOptional(r) { rp in
                                fused.forward(input: xp.baseAddress!, batch: batch, height: height, width: width,
                                              output: yp.baseAddress!, residual: rp, pool: ThreadPool(threads: threads))
                            }
                        }
                    }
                    let what = "\(height)x\(width) \(cin)->\(mid)->\(cout) k\(kernel) s\(stride) expand \(expand) stem \(stem) residual \(residual) batch \(batch) band \(band.map(String.init) ?? "auto") threads \(threads)"
                    XCTAssertLessThanOrEqual(maxRelativeError(y, expected), 1e-5, "fused vs reference: " + what, file: file, line: line)
                    XCTAssertLessThanOrEqual(maxRelativeError(y, unfused), 1e-5, "fused vs layers: " + what, file: file, line: line)
                }
            }
        }
    }

    func withOptional(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> Void) {
        if let a { a.withUnsafeBufferPointer { body($0.baseAddress!) } } else { body(nil) }
    }

    func runUnfused(_ block: Block, x: [Float], batch: Int, height: Int, width: Int, residual: [Float]?) -> [Float] {
        let pool = ThreadPool(threads: 2)
        var v = x, h = height, w = width
        let convs = [block.expand, block.depthwise, block.project].compactMap { $0 }
        for (i, conv) in convs.enumerated() {
            let (oh, ow) = conv.outputSize(height: h, width: w)
            var y = [Float](repeating: .nan, count: batch * oh * ow * conv.shape.outChannels)
            v.withUnsafeBufferPointer { vp in
                y.withUnsafeMutableBufferPointer { yp in
                    withOptional(i == convs.count - 1 ? residual : nil) { rp in
                        conv.forward(input: vp.baseAddress!, batch: batch, height: h, width: w, output: yp.baseAddress!,
                                     residual: rp, pool: pool)
                    }
                }
            }
            v = y; h = oh; w = ow
        }
        return v
    }

    func testStride1WithResidual() {
        check(cin: 13, mid: 78, cout: 13, kernel: 3, stride: 1, height: 9, width: 7, residual: true)
        check(cin: 24, mid: 144, cout: 24, kernel: 5, stride: 1, height: 13, width: 11, residual: true, seed: 2)
    }

    func testStride1NoResidual() {
        check(cin: 17, mid: 40, cout: 21, kernel: 5, stride: 1, height: 13, width: 11, bands: [nil, 1, 4, 5])
    }

    func testStride2() {
        // 'SAME' with stride 2: even sizes pad only bottom/right, odd sizes pad both.
        check(cin: 16, mid: 96, cout: 24, kernel: 3, stride: 2, height: 9, width: 7)
        check(cin: 24, mid: 36, cout: 40, kernel: 5, stride: 2, height: 13, width: 11, seed: 3)
        check(cin: 5, mid: 30, cout: 9, kernel: 3, stride: 2, height: 10, width: 12, seed: 4)
        check(cin: 7, mid: 21, cout: 11, kernel: 5, stride: 2, height: 12, width: 9, bands: [1, 2], seed: 5)
    }

    func testWithoutExpand() {
        check(cin: 32, mid: 32, cout: 16, kernel: 3, stride: 1, height: 9, width: 7, expand: false)
        check(cin: 19, mid: 19, cout: 19, kernel: 5, stride: 2, height: 13, width: 11, expand: false, seed: 6)
        check(cin: 19, mid: 19, cout: 19, kernel: 3, stride: 1, height: 13, width: 11, expand: false, residual: true, seed: 7)
    }

    /// EfficientNet's stem as the first conv of block 0: a 3x3/2 conv on 3 channels computed a band of
    /// its output rows at a time, odd and even sizes ('SAME' pads differ), halo rows kept across bands.
    func testStemAsTheFirstConv() {
        check(cin: 3, mid: 32, cout: 16, kernel: 3, stride: 1, height: 17, width: 15, stem: true)
        check(cin: 3, mid: 20, cout: 24, kernel: 3, stride: 1, height: 12, width: 29, stem: true, bands: [nil, 1, 4], seed: 11)
        check(cin: 3, mid: 19, cout: 19, kernel: 5, stride: 2, height: 21, width: 18, stem: true, residual: false, seed: 12)
    }

    func testBandLargerThanImageAndTinyImages() {
        check(cin: 8, mid: 48, cout: 8, kernel: 3, stride: 1, height: 1, width: 1, residual: true, bands: [nil, 1, 7])
        check(cin: 8, mid: 48, cout: 16, kernel: 5, stride: 2, height: 2, width: 3, bands: [nil, 1, 7], seed: 8)
        check(cin: 9, mid: 27, cout: 9, kernel: 5, stride: 1, height: 3, width: 2, residual: true, bands: [nil, 1, 2, 9], seed: 9)
    }

    /// The automatic band fits the L2 budget and is at least one row.
    func testAutomaticBandFitsTheBudget() {
        var rng = SeededRNG(seed: 10)
        let block = makeBlock(cin: 16, mid: 96, cout: 24, kernel: 3, stride: 2, height: 112, width: 112, expand: true, rng: &rng)
        let fused = FusedMBConv(expand: block.expand, depthwise: block.depthwise, project: block.project)
        let band = fused.band(height: 112, width: 112)
        XCTAssertGreaterThanOrEqual(band, 1)
        let s = fused.scratchFloats(band: band, height: 112, width: 112)
        XCTAssertLessThanOrEqual((s.expanded + s.depthwise) * 4, FusedMBConv.scratchBudgetBytes)
        let bigger = fused.scratchFloats(band: band + 1, height: 112, width: 112)
        XCTAssertGreaterThan((bigger.expanded + bigger.depthwise) * 4, FusedMBConv.scratchBudgetBytes)
    }
}
