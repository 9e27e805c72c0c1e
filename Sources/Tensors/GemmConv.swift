/// Dense and grouped convolution as an implicit GEMM over NHWC: M = output pixels (all images of the
/// batch), N = output channels in 16-wide panels, K = taps x input channels. Nothing is copied
/// (no im2col): for a tile of 6 output pixels a small table holds, per kernel tap, a pointer to each
/// pixel's input channels (or to a zero row in the padding), and the micro-kernel reads through it.
///
/// Groups: a panel of 16 output channels reads the input channels of the groups its outputs belong
/// to, with zeros packed where an input belongs to another group. With 16 or more channels per group
/// that costs nothing. With 8 or 4 (ResNeXt's first stages) the zeros would double or quadruple the
/// multiply-adds, so those shapes get micro-kernels that pack only in-group weights and broadcast
/// each group's own input into its lanes (MicroKernelGrouped.swift). Other small-group shapes keep
/// the zero-padded panels: correct, just slower.
struct GemmConvPlan {
    static let panelWidth = 16
    static let tileRows = 6

    let shape: ConvShape
    /// Which micro-kernel: the dense one, or one of the in-group variants for 8 or 4 channels per group.
    enum Mode { case dense, groups8, groups4 }
    let mode: Mode
    let panels: Int
    let taps: Int
    /// Per panel: first input channel read, count read per tap, offset of its packed weights.
    let panelCin: [Int]
    let panelK: [Int]
    let panelOffset: [Int]
    /// [panel][tap][k][16]
    let packed: UnsafeMutablePointer<Float>
    /// Cout rounded up to whole panels, zero-padded.
    let bias: UnsafeMutablePointer<Float>
    /// A zero row standing in for input pixels in the padding; Cin long.
    let zeros: UnsafeMutablePointer<Float>
    /// Panels per cache block: their packed weights together stay within a share of L2 while every
    /// row tile of the worker passes over them.
    let panelsPerBlock: Int

    init(shape s: ConvShape, oihw: UnsafePointer<Float>, bias b: UnsafePointer<Float>) {
        shape = s
        let nr = GemmConvPlan.panelWidth
        let cig = s.inChannelsPerGroup, cog = s.outChannelsPerGroup
        panels = (s.outChannels + nr - 1) / nr
        taps = s.kernelH * s.kernelW
        var cin0 = [Int](), ks = [Int](), offs = [Int](), total = 0
        if s.groups > 1 && cig == cog && (cig == 8 || cig == 4) && s.outChannels % nr == 0 {
            // Whole groups per panel, only in-group products packed: [tap][k < cig][16].
            mode = cig == 8 ? .groups8 : .groups4
            for p in 0..<panels {
                cin0.append(p * nr); ks.append(cig); offs.append(total)
                total += taps * cig * nr
            }
            packed = .allocate(capacity: total)
            for p in 0..<panels {
                for t in 0..<taps {
                    let ky = t / s.kernelW, kx = t % s.kernelW
                    for kk in 0..<cig {
                        for j in 0..<nr {
                            let o = p * nr + j
                            packed[offs[p] + (t * cig + kk) * nr + j] = oihw[((o * cig + kk) * s.kernelH + ky) * s.kernelW + kx]
                        }
                    }
                }
            }
        } else {
            mode = .dense
            for p in 0..<panels {
                let first = p * nr, last = min(first + nr, s.outChannels) - 1
                let glo = first / cog, ghi = last / cog
                cin0.append(glo * cig)
                ks.append((ghi - glo + 1) * cig)
                offs.append(total)
                total += taps * ks[p] * nr
            }
            packed = .allocate(capacity: max(total, 1))
            packed.initialize(repeating: 0, count: max(total, 1))
            for p in 0..<panels {
                let dst = packed + offs[p]
                for t in 0..<taps {
                    let ky = t / s.kernelW, kx = t % s.kernelW
                    for kk in 0..<ks[p] {
                        let ci = cin0[p] + kk
                        for j in 0..<nr {
                            let o = p * nr + j
                            guard o < s.outChannels, ci / cig == o / cog else { continue }
                            let cl = ci - (o / cog) * cig
                            dst[(t * ks[p] + kk) * nr + j] = oihw[((o * cig + cl) * s.kernelH + ky) * s.kernelW + kx]
                        }
                    }
                }
            }
        }
        panelCin = cin0; panelK = ks; panelOffset = offs
        bias = .allocate(capacity: panels * nr)
        bias.initialize(repeating: 0, count: panels * nr)
        bias.update(from: b, count: s.outChannels)
        zeros = .allocate(capacity: s.inChannels + 16)
        zeros.initialize(repeating: 0, count: s.inChannels + 16)
        let panelBytes = taps * (ks.max() ?? 1) * nr * 4
        panelsPerBlock = max(1, (192 * 1024) / panelBytes)
    }

    func deallocate() {
        packed.deallocate(); bias.deallocate(); zeros.deallocate()
    }

    func forward(input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                 output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, pool: ThreadPool) {
        if MulAddChoice.fused {
            run(FusedMulAdd.self, input: input, batch: batch, height: height, width: width, output: output, residual: residual, pool: pool)
        } else {
            run(SplitMulAdd.self, input: input, batch: batch, height: height, width: width, output: output, residual: residual, pool: pool)
        }
    }

    private func run<F: MulAdd>(_ f: F.Type, input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                                output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, pool: ThreadPool) {
        let s = shape
        let (oh, ow) = s.outputSize(height: height, width: width)
        let mr = GemmConvPlan.tileRows, nr = GemmConvPlan.panelWidth
        let m = batch * oh * ow
        let tiles = (m + mr - 1) / mr
        let cin = s.inChannels, cout = s.outChannels
        let taps = self.taps, kw = s.kernelW
        pool.parallelRanges(tiles) { _, range in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: taps * mr) { tableBuffer in
                let table = tableBuffer.baseAddress!
                var pb = 0
                while pb < panels {
                    let pe = min(pb + panelsPerBlock, panels)
                    for tile in range {
                        let m0 = tile * mr, mValid = min(mr, m - m0)
                        // Row pointers per tap; rows past the end repeat the last real pixel.
                        for r in 0..<mr {
                            let pix = m0 + min(r, mValid - 1)
                            let n = pix / (oh * ow), rem = pix % (oh * ow)
                            let oy = rem / ow, ox = rem % ow
                            let image = input + n * height * width * cin
                            let iy0 = oy * s.strideH - s.padTop, ix0 = ox * s.strideW - s.padLeft
                            for t in 0..<taps {
                                let iy = iy0 + t / kw, ix = ix0 + t % kw
                                table[t * mr + r] = (iy >= 0 && iy < height && ix >= 0 && ix < width)
                                    ? image + (iy * width + ix) * cin : UnsafePointer(zeros)
                            }
                        }
                        let out = output + m0 * cout
                        let res = residual.map { $0 + m0 * cout }
                        for p in pb..<pe {
                            let r = res.map { $0 + p * nr }, nValid = min(nr, cout - p * nr)
                            switch mode {
                            case .dense:
                                microKernel6x16(f, rows: table, taps: taps, kOffset: panelCin[p], kp: panelK[p],
                                                b: packed + panelOffset[p], bias: bias + p * nr, out: out + p * nr, ldo: cout,
                                                residual: r, mValid: mValid, nValid: nValid, act: s.activation)
                            case .groups8:
                                microKernel6x16Groups8(f, rows: table, taps: taps, kOffset: panelCin[p], kp: panelK[p],
                                                       b: packed + panelOffset[p], bias: bias + p * nr, out: out + p * nr, ldo: cout,
                                                       residual: r, mValid: mValid, nValid: nValid, act: s.activation)
                            case .groups4:
                                microKernel6x16Groups4(f, rows: table, taps: taps, kOffset: panelCin[p], kp: panelK[p],
                                                       b: packed + panelOffset[p], bias: bias + p * nr, out: out + p * nr, ldo: cout,
                                                       residual: r, mValid: mValid, nValid: nValid, act: s.activation)
                            }
                        }
                    }
                    pb = pe
                }
            }
        }
    }
}
