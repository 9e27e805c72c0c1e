import XCTest
import Tensors
import TestSupport

final class OpsTests: XCTestCase {
    /// Denormals flush to zero inside `withFlushToZero`, stay flushed after a nested call returns,
    /// and the thread's mode comes back afterwards (the kernels run on Dispatch's shared threads).
    func testFlushToZeroNestsAndRestores() {
        // The smallest normal float, from a value the compiler cannot fold: half of it is denormal.
        let normal = [Float(bitPattern: 0x0080_0000 | UInt32(ProcessInfo.processInfo.processIdentifier & 0))]
        func half() -> Float { normal.withUnsafeBufferPointer { $0[0] } * 0.5 }
        XCTAssertNotEqual(half(), 0)
        withFlushToZero {
            XCTAssertEqual(half(), 0)
            withFlushToZero { XCTAssertEqual(half(), 0) }
            XCTAssertEqual(half(), 0, "a nested call must not restore the outer call's mode early")
        }
        XCTAssertNotEqual(half(), 0, "the mode must be restored")
    }

    let pools = [ThreadPool(threads: 1), ThreadPool(threads: 2)]

    func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededRNG(seed: seed)
        return (0..<count).map { _ in rng.nextSigned() }
    }

    func testThreadPoolVisitsEveryIndexOnce() {
        for threads in [1, 2, 3, 8] {
            let pool = ThreadPool(threads: threads)
            for count in [0, 1, 2, 7, 100] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                pool.parallelFor(count) { i in hits[i] += 1 }
                for i in 0..<count { XCTAssertEqual(hits[i], 1, "threads \(threads) count \(count) index \(i)") }
                var covered = [Int](repeating: 0, count: count)
                covered.withUnsafeMutableBufferPointer { c in
                    pool.parallelRanges(count) { w, r in
                        XCTAssertLessThan(w, threads)
                        for i in r { c[i] += 1 }
                    }
                }
                XCTAssertEqual(covered, [Int](repeating: 1, count: count))
                hits.deallocate()
            }
        }
    }

    func testMatmul() {
        for (m, n, k) in [(1, 1, 1), (1, 1000, 1280), (13, 17, 15), (3, 16, 1), (33, 65, 129), (100, 50, 7), (7, 130, 2048)] {
            let a = random(m * k, seed: UInt64(m)), b = random(k * n, seed: UInt64(n + 1000))
            for transposeB in [false, true] {
                let expected = Reference.matmul(a, b, m: m, n: n, k: k, transposeB: transposeB)
                for pool in pools {
                    var c = [Float](repeating: .nan, count: m * n)
                    matmul(a, b, &c, m: m, n: n, k: k, transposeB: transposeB, pool: pool)
                    // Long dot products of values in [-1, 1]: compare relative to their magnitude.
                    let scale = Float(k).squareRoot()
                    XCTAssertLessThanOrEqual(maxRelativeError(c.map { $0 / scale }, expected.map { $0 / scale }), 1e-5,
                                             "m \(m) n \(n) k \(k) transposeB \(transposeB)")
                }
            }
        }
    }

    func testFullyConnected() {
        for (batch, inF, outF) in [(1, 1280, 1000), (3, 17, 13), (5, 2048, 10)] {
            let x = random(batch * inF, seed: 1), w = random(outF * inF, seed: 2).map { $0 / Float(inF).squareRoot() }
            let b = random(outF, seed: 3)
            let expected = Reference.fullyConnected(x, batch: batch, inFeatures: inF, outFeatures: outF, weights: w, bias: b)
            var y = [Float](repeating: .nan, count: batch * outF)
            fullyConnected(x, batch: batch, inFeatures: inF, outFeatures: outF, weights: w, bias: b, output: &y, pool: pools[1])
            XCTAssertLessThanOrEqual(maxRelativeError(y, expected), 1e-5)
        }
    }

    func testPooling() {
        for (h, w) in [(9, 7), (112, 112), (1, 1), (4, 6)] {
            for c in [1, 3, 16, 17] {
                for (k, s, p) in [(3, 2, 1), (2, 2, 0), (3, 1, 1), (1, 1, 0)] where h + 2 * p >= k && w + 2 * p >= k {
                    if h * w > 100 && c > 3 { continue }
                    let batch = c == 17 ? 3 : 1
                    let x = random(batch * h * w * c, seed: UInt64(h * c + k))
                    let (oh, ow) = poolOutputSize(height: h, width: w, kernel: k, stride: s, padding: p)
                    for pool in pools {
                        var y = [Float](repeating: .nan, count: batch * oh * ow * c)
                        maxPool2D(x, batch: batch, height: h, width: w, channels: c, kernel: k, stride: s, padding: p, output: &y, pool: pool)
                        XCTAssertEqual(y, Reference.pool2d(x, batch: batch, height: h, width: w, channels: c, kernel: k,
                                                          stride: s, padding: p, average: false), "max \(h)x\(w)x\(c) k\(k)s\(s)p\(p)")
                        for include in [true, false] {
                            avgPool2D(x, batch: batch, height: h, width: w, channels: c, kernel: k, stride: s, padding: p,
                                      countIncludePadding: include, output: &y, pool: pool)
                            let e = Reference.pool2d(x, batch: batch, height: h, width: w, channels: c, kernel: k, stride: s,
                                                     padding: p, average: true, countIncludePadding: include)
                            XCTAssertLessThanOrEqual(maxRelativeError(y, e), 1e-5, "avg \(h)x\(w)x\(c) k\(k)s\(s)p\(p)")
                        }
                    }
                }
            }
        }
    }

    func testGlobalAveragePool() {
        for (batch, h, w, c) in [(1, 7, 7, 1280), (3, 9, 7, 17), (2, 1, 1, 3)] {
            let x = random(batch * h * w * c, seed: UInt64(c))
            var y = [Float](repeating: .nan, count: batch * c)
            globalAveragePool(x, batch: batch, height: h, width: w, channels: c, output: &y)
            XCTAssertLessThanOrEqual(maxRelativeError(y, Reference.globalAveragePool(x, batch: batch, height: h, width: w, channels: c)), 1e-5)
        }
    }

    func testSoftmaxAndNormalize() {
        let x = random(1000, seed: 9).map { $0 * 30 }
        let p = softmax(x)
        XCTAssertLessThanOrEqual(maxRelativeError(p, Reference.softmax(x)), 1e-5)
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-4)
        // Huge logits must not overflow into NaN.
        let big = softmax([1000, 999, -1000])
        XCTAssertFalse(big.contains { $0.isNaN })
        XCTAssertEqual(big[0], 1 / (1 + expf(-1)), accuracy: 1e-6)

        let v = random(1280, seed: 4)
        let n = l2Normalize(v)
        XCTAssertLessThanOrEqual(maxRelativeError(n, Reference.l2Normalize(v)), 1e-5)
        XCTAssertEqual(n.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4)
        XCTAssertEqual(l2Normalize([0, 0, 0]), [0, 0, 0])

        var rows = random(3 * 17, seed: 5)
        let copy = rows
        rows.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, rows: 3, columns: 17) }
        for r in 0..<3 {
            XCTAssertLessThanOrEqual(maxRelativeError(Array(rows[(r * 17)..<(r * 17 + 17)]),
                                                      Reference.softmax(Array(copy[(r * 17)..<(r * 17 + 17)]))), 1e-5)
        }
    }

    func testAdd() {
        let a = random(37, seed: 1).map { $0 * 8 }, b = random(37, seed: 2).map { $0 * 8 }
        for act in [Activation.none, .relu, .relu6] {
            var y = [Float](repeating: .nan, count: 37)
            add(a, b, &y, count: 37, activation: act)
            XCTAssertEqual(y, zip(a, b).map { act.apply($0 + $1) })
        }
    }
}
