/// Naive loop versions of every kernel, written for obviousness rather than speed, accumulating in
/// Double. Tests compare the fast kernels with these; models never call them.
public enum Reference {
    /// NHWC input, OIHW weights (PyTorch), NHWC output: act(conv + bias + residual).
    public static func conv2d(input: [Float], batch: Int, height: Int, width: Int, shape s: ConvShape,
                              weights: [Float], bias: [Float], residual: [Float]? = nil) -> [Float] {
        let (oh, ow) = s.outputSize(height: height, width: width)
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        var out = [Float](repeating: 0, count: batch * oh * ow * s.outChannels)
        for n in 0..<batch {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for o in 0..<s.outChannels {
                        let g = o / cog
                        var acc = bias.isEmpty ? 0 : Double(bias[o])
                        for ci in 0..<cig {
                            let c = g * cig + ci
                            for ky in 0..<s.kernelH {
                                let iy = oy * s.strideH - s.padTop + ky
                                if iy < 0 || iy >= height { continue }
                                for kx in 0..<s.kernelW {
                                    let ix = ox * s.strideW - s.padLeft + kx
                                    if ix < 0 || ix >= width { continue }
                                    let x = input[((n * height + iy) * width + ix) * s.inChannels + c]
                                    let w = weights[((o * cig + ci) * s.kernelH + ky) * s.kernelW + kx]
                                    acc += Double(x) * Double(w)
                                }
                            }
                        }
                        let idx = ((n * oh + oy) * ow + ox) * s.outChannels + o
                        if let residual { acc += Double(residual[idx]) }
                        out[idx] = s.activation.apply(Float(acc))
                    }
                }
            }
        }
        return out
    }

    public static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposeB: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc: Double = 0
                for p in 0..<k {
                    let bv = transposeB ? b[j * k + p] : b[p * n + j]
                    acc += Double(a[i * k + p]) * Double(bv)
                }
                c[i * n + j] = Float(acc)
            }
        }
        return c
    }

    public static func fullyConnected(_ x: [Float], batch: Int, inFeatures: Int, outFeatures: Int,
                                      weights: [Float], bias: [Float]) -> [Float] {
        var y = matmul(x, weights, m: batch, n: outFeatures, k: inFeatures, transposeB: true)
        if !bias.isEmpty { for r in 0..<batch { for j in 0..<outFeatures { y[r * outFeatures + j] += bias[j] } } }
        return y
    }

    /// Max (`average` false) or average pooling, NHWC, symmetric padding.
    public static func pool2d(_ x: [Float], batch: Int, height: Int, width: Int, channels: Int,
                              kernel: Int, stride: Int, padding: Int, average: Bool,
                              countIncludePadding: Bool = true) -> [Float] {
        let oh = (height + 2 * padding - kernel) / stride + 1, ow = (width + 2 * padding - kernel) / stride + 1
        var out = [Float](repeating: 0, count: batch * oh * ow * channels)
        for n in 0..<batch { for oy in 0..<oh { for ox in 0..<ow { for c in 0..<channels {
            var best = -Double.infinity, sum: Double = 0, count = 0
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                    if iy < 0 || iy >= height || ix < 0 || ix >= width { continue }
                    let v = Double(x[((n * height + iy) * width + ix) * channels + c])
                    best = max(best, v); sum += v; count += 1
                }
            }
            let divisor = countIncludePadding ? Double(kernel * kernel) : Double(max(count, 1))
            out[((n * oh + oy) * ow + ox) * channels + c] = Float(average ? sum / divisor : best)
        } } } }
        return out
    }

    public static func globalAveragePool(_ x: [Float], batch: Int, height: Int, width: Int, channels: Int) -> [Float] {
        var out = [Float](repeating: 0, count: batch * channels)
        for n in 0..<batch {
            for c in 0..<channels {
                var sum: Double = 0
                for p in 0..<(height * width) { sum += Double(x[(n * height * width + p) * channels + c]) }
                out[n * channels + c] = Float(sum / Double(height * width))
            }
        }
        return out
    }

    public static func softmax(_ x: [Float]) -> [Float] {
        let m = Double(x.max() ?? 0)
        let e = x.map { ExpHelper.exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }

    public static func l2Normalize(_ x: [Float]) -> [Float] {
        let n = x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        return n > 0 ? x.map { Float(Double($0) / n) } : x
    }
}

import Foundation
enum ExpHelper { static func exp(_ x: Double) -> Double { Foundation.exp(x) } }
