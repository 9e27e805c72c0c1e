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
    /// Dense: [panel][tap][k][16]. 4 or 8 channels per group: per 8 output channels, the layout the
    /// pair kernels read (MicroKernelGrouped.swift).
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
            // Whole groups per panel, only in-group products packed.
            mode = cig == 8 ? .groups8 : .groups4
            if cig == 4 {
                let pairs = allocateAligned(s.outChannels * taps * 4)
                for p8 in 0..<(s.outChannels / 8) {
                    for t in 0..<taps {
                        let ky = t / s.kernelW, kx = t % s.kernelW
                        for q in 0..<2 { for g in 0..<2 { for j in 0..<4 { for e in 0..<2 {
                            let o = p8 * 8 + g * 4 + j, k = 2 * q + e
                            pairs[((p8 * taps + t) * 2 + q) * 16 + g * 8 + j * 2 + e] =
                                oihw[((o * cig + k) * s.kernelH + ky) * s.kernelW + kx]
                        } } } }
                    }
                }
                packed = pairs
            } else {
                // 8 channels per group: per group [tap][q < 4][j < 8][e < 2].
                let pairs = allocateAligned(s.outChannels * taps * 8)
                for g in 0..<s.groups {
                    for t in 0..<taps {
                        let ky = t / s.kernelW, kx = t % s.kernelW
                        for q in 0..<4 { for j in 0..<8 { for e in 0..<2 {
                            let o = g * 8 + j, k = 2 * q + e
                            pairs[((g * taps + t) * 4 + q) * 16 + j * 2 + e] =
                                oihw[((o * cig + k) * s.kernelH + ky) * s.kernelW + kx]
                        } } }
                    }
                }
                packed = pairs
            }
            // Per panel: its own 16 input channels (whole groups), cig read per tap.
            for p in 0..<panels {
                cin0.append(p * nr); ks.append(cig); offs.append(total)
                total += taps * cig * nr
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
            packed = allocateAligned(max(total, 1))
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
        bias = allocateAligned(panels * nr)
        bias.initialize(repeating: 0, count: panels * nr)
        bias.update(from: b, count: s.outChannels)
        // Long enough for a whole window row (kernelW pixels), which the row-run tables read at once.
        zeros = allocateAligned(s.inChannels * s.kernelW + 16)
        zeros.initialize(repeating: 0, count: s.inChannels * s.kernelW + 16)
        let panelBytes = taps * (ks.max() ?? 1) * nr * 4
        panelsPerBlock = max(1, (GemmTuning.blockKB * 1024) / panelBytes)
    }

    func deallocate() {
        freeAligned(packed); freeAligned(bias); freeAligned(zeros)
    }

    func forward(input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                 output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, pool: ThreadPool,
                 pixels: Range<Int>? = nil, layout: OutputLayout? = nil) {
        if MulAddChoice.fused {
            run(FusedMulAdd.self, input: input, batch: batch, height: height, width: width, output: output, residual: residual,
                pool: pool, pixels: pixels, layout: layout)
        } else {
            run(SplitMulAdd.self, input: input, batch: batch, height: height, width: width, output: output, residual: residual,
                pool: pool, pixels: pixels, layout: layout)
        }
    }

    /// Where output pixel m, channel c goes when not plain NHWC: output + (c / 16) * panel + m * 16 +
    /// c % 16, i.e. one plane per 16-channel panel (the depthwise ring's layout, DepthwiseTiled.swift).
    struct OutputLayout { var panel: Int }

    /// Output pixels `pixels` (of all batch x OH x OW; default all of them) into `output`, which holds
    /// the first of those pixels (a fused block computes a band of rows of a KxK conv this way).
    func run<F: MulAdd>(_ f: F.Type, input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                        output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, pool: ThreadPool,
                        pixels: Range<Int>? = nil, layout: OutputLayout? = nil) {
        let s = shape
        precondition(layout == nil || (mode == .dense && s.groups == 1 && residual == nil), "conv: tiled output only for dense convs")
        // Output addressing: floats from one pixel to the next, and from one 16-channel panel to the next.
        let ldo = layout == nil ? s.outChannels : 16, outPanel = layout?.panel ?? 16
        let (oh, ow) = s.outputSize(height: height, width: width)
        let mr = GemmConvPlan.tileRows, nr = GemmConvPlan.panelWidth
        let mStart = pixels?.lowerBound ?? 0
        let m = pixels?.upperBound ?? batch * oh * ow
        let tiles = (m - mStart + mr - 1) / mr
        let cin = s.inChannels, cout = s.outChannels
        let taps = self.taps
        let mode = self.mode, panels = self.panels, panelsPerBlock = self.panelsPerBlock
        let nLastAll = cout - (panels - 1) * nr
        let geometry = TileGeometry(plan: self, input: input, height: height, width: width)
        let farPrefetch = GemmTuning.nextBlockPrefetch, lean = GemmTuning.lean1x1
        if lean && GemmTuning.gatherWindows && mode == .dense && s.groups == 1 && taps > 1 && s.kernelW * cin < 16 {
            runGathered(f, geometry: geometry, mStart: mStart, m: m, tiles: tiles, output: output, ldo: ldo, outPanel: outPanel,
                        residual: residual, pool: pool)
            return
        }
        // Dense without groups, and all packed weights small enough for L1 (1x1 convs with few channels
        // in or out: EfficientNet's early layers, or a band of rows from a fused block): a block of row
        // tiles runs panel by panel (BLIS order), one call per panel and block instead of one per tile.
        // With larger weights the tile-outer order below keeps a block of panels in L2 and re-reads it
        // for every tile, which measured faster than re-streaming the weights per block of rows.
        let weightBytes = panels * taps * cin * nr * 4
        let blockTiles = mode == .dense && s.groups == 1 && taps == 1 && GemmTuning.rowTiles > 1 && weightBytes <= GemmTuning.tileOrderBytes
            ? GemmTuning.rowTiles : 1
        pool.parallelRanges(tiles) { _, range in
            ThreadScratch.with(UnsafePointer<Float>.self, count: taps * mr * blockTiles) { table in
                if blockTiles > 1 {
                    var cursor = geometry.cursor(at: mStart + range.lowerBound * mr)
                    var t0 = range.lowerBound
                    while t0 < range.upperBound {
                        let nt = min(blockTiles, range.upperBound - t0)
                        let m0 = mStart + t0 * mr
                        var mValid = mr
                        for i in 0..<nt {
                            mValid = min(mr, m - (m0 + i * mr))
                            geometry.fill(table + i * taps * mr, m0: m0 + i * mr, mValid: mValid, cursor: &cursor)
                        }
                        let out = output + (m0 - mStart) * ldo, res = residual.map { $0 + (m0 - mStart) * cout }
                        if lean {
                            gemm1x1Kernel6x16(f, rows: table, kp: cin, b: packed, panelStride: cin * nr, panels: panels, bias: bias,
                                              out: out, ldo: ldo, residual: res, mValid: mValid, nLast: nLastAll, act: s.activation,
                                              tiles: nt, outPanel: outPanel, lookahead: .none)
                        } else {
                            gemmKernel6x16(f, rows: table, taps: taps, kOffset: 0, kp: cin, b: packed, panelStride: taps * cin * nr,
                                           panels: panels, bias: bias, out: out, ldo: ldo, residual: res, mValid: mValid,
                                           nLast: nLastAll, act: s.activation, tiles: nt, tableStride: taps * mr, outPanel: outPanel)
                        }
                        t0 += nt
                    }
                    return
                }
                var pb = 0
                while pb < panels {
                    let pe = min(pb + panelsPerBlock, panels)
                    let nLast = pe == panels ? nLastAll : nr
                    // Floats from this block's packed weights to the next block's, when the next is prefetched.
                    let nextBlock = farPrefetch && pe < panels ? panelsPerBlock * taps * cin * nr : 0
                    var cursor = geometry.cursor(at: mStart + range.lowerBound * mr)
                    var m0 = mStart + range.lowerBound * mr
                    for _ in range {
                        let mValid = min(mr, m - m0)
                        // A dense KxK tile whose windows all lie inside the image horizontally reads each
                        // window row as one run of kernelW x Cin floats (the packed weights are in the same
                        // [ky][kx][ci] order): kernelH table entries per pixel instead of kernelH x kernelW,
                        // so the 3-channel stems run 9-21 steps per entry instead of 3.
                        let runs = mode == .dense && s.groups == 1 && taps > 1 && GemmTuning.rowRuns
                            && geometry.interior(cursor, count: mValid)
                        if runs {
                            geometry.fillRuns(table, mValid: mValid, cursor: &cursor)
                        } else {
                            geometry.fill(table, m0: m0, mValid: mValid, cursor: &cursor)
                        }
                        let out = output + (m0 - mStart) * ldo
                        let res = residual.map { $0 + (m0 - mStart) * cout }
                        switch mode {
                        case .dense where s.groups == 1 && taps == 1 && lean && mValid > 1:
                            // A 1x1 on its own kernel; a lone last row (7x7 maps) stays on the general
                            // kernel below, which hands it to the row kernels.
                            gemm1x1Kernel6x16(f, rows: table, kp: cin, b: packed + panelOffset[pb], panelStride: cin * nr,
                                              panels: pe - pb, bias: bias + pb * nr, out: out + pb * outPanel, ldo: ldo,
                                              residual: res.map { $0 + pb * nr }, mValid: mValid, nLast: nLast, act: s.activation,
                                              tiles: 1, outPanel: outPanel,
                                              lookahead: nextBlock > 0 ? .l2(distance: nextBlock)
                                                : GemmTuning.prefetchSteps > 0 ? .l1(distance: GemmTuning.prefetchSteps * 16) : .none)
                        case .dense where s.groups == 1:
                            // Every panel reads the same K: one call covers the whole panel block.
                            gemmKernel6x16(f, rows: table, taps: runs ? s.kernelH : taps, kOffset: 0,
                                           kp: runs ? s.kernelW * cin : cin,
                                           b: packed + panelOffset[pb], panelStride: taps * cin * nr,
                                           panels: pe - pb, bias: bias + pb * nr, out: out + pb * outPanel, ldo: ldo,
                                           residual: res.map { $0 + pb * nr }, mValid: mValid, nLast: nLast, act: s.activation,
                                           nextBlock: nextBlock,
                                           outPanel: outPanel)
                        case .dense:
                            for p in pb..<pe {
                                gemmKernel6x16(f, rows: table, taps: taps, kOffset: panelCin[p], kp: panelK[p],
                                               b: packed + panelOffset[p], panelStride: 0, panels: 1,
                                               bias: bias + p * nr, out: out + p * nr, ldo: cout,
                                               residual: res.map { $0 + p * nr }, mValid: mValid,
                                               nLast: p == panels - 1 ? nLast : nr, act: s.activation)
                            }
                        case .groups8, .groups4:
                            for p in pb..<pe {
                                runGroupedPanel(f, p: p, table: table, out: out, residual: res, mValid: mValid)
                            }
                        }
                        m0 += mValid
                    }
                    pb = pe
                }
            }
        }
    }

    /// A dense KxK conv whose window rows are short (kernelW x Cin < 16 floats: EfficientNet's 3x3/2
    /// stem on 3 channels reads runs of 9) as a 1x1 conv over gathered windows: a block of row tiles'
    /// windows is copied into a [pixel][taps x Cin] buffer in L1, then every panel runs over the block
    /// on the 1x1 kernel with K = taps x Cin (27 for that stem). Read in place, the same windows made
    /// the general kernel restart its reduction every 9 steps (three row-pointer reloads per tile and
    /// panel) and the stem ran at a third to a half of the kernel's peak. The packed weights are
    /// [panel][tap][ci][16], i.e. already the 1x1 layout with K = taps x Cin.
    private func runGathered<F: MulAdd>(_ f: F.Type, geometry: TileGeometry, mStart: Int, m: Int, tiles: Int,
                                        output: UnsafeMutablePointer<Float>, ldo: Int, outPanel: Int,
                                        residual: UnsafePointer<Float>?, pool: ThreadPool) {
        let mr = GemmConvPlan.tileRows, nr = GemmConvPlan.panelWidth
        let k = taps * shape.inChannels, cout = shape.outChannels
        let block = max(1, GemmTuning.rowTiles), blockRows = block * mr
        let nLast = cout - (panels - 1) * nr
        // One scratch per thread holds the windows (64-byte aligned) and, after them, the row table.
        let tableOffset = (blockRows * k + 15) / 16 * 16
        pool.parallelRanges(tiles) { _, range in
            ThreadScratch.with(Float.self, count: tableOffset + 2 * blockRows) { scratch in
                let windows = scratch
                let table = UnsafeMutableRawPointer(scratch + tableOffset).bindMemory(to: UnsafePointer<Float>.self, capacity: blockRows)
                var cursor = geometry.cursor(at: mStart + range.lowerBound * mr)
                var t0 = range.lowerBound
                while t0 < range.upperBound {
                    let nt = min(block, range.upperBound - t0)
                    let m0 = mStart + t0 * mr
                    let rows = min(nt * mr, m - m0)
                    geometry.gather(windows, count: rows, cursor: &cursor)
                    // Rows past the last pixel repeat it (computed, not stored), as `fill` does.
                    for j in 0..<(nt * mr) { table[j] = UnsafePointer(windows + min(j, rows - 1) * k) }
                    gemm1x1Kernel6x16(f, rows: table, kp: k, b: packed, panelStride: k * nr, panels: panels, bias: bias,
                                      out: output + (m0 - mStart) * ldo, ldo: ldo, residual: residual.map { $0 + (m0 - mStart) * cout },
                                      mValid: rows - (nt - 1) * mr, nLast: nLast, act: shape.activation, tiles: nt,
                                      outPanel: outPanel, lookahead: .none)
                    t0 += nt
                }
            }
        }
    }

    /// One 16-channel panel of a 4- or 8-channels-per-group conv for one row tile: two 8-channel halves
    /// on the pair kernels, compiled once per activation (chosen here, once per panel).
    @inline(__always)
    private func runGroupedPanel<F: MulAdd>(_ f: F.Type, p: Int, table: UnsafePointer<UnsafePointer<Float>>,
                                            out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, mValid: Int) {
        switch shape.activation {
        case .none: runGroupedPanel(f, NoActivation.self, p: p, table: table, out: out, residual: residual, mValid: mValid)
        case .relu: runGroupedPanel(f, ReLU.self, p: p, table: table, out: out, residual: residual, mValid: mValid)
        case .relu6: runGroupedPanel(f, ReLU6.self, p: p, table: table, out: out, residual: residual, mValid: mValid)
        }
    }

    @inline(__always)
    private func runGroupedPanel<F: MulAdd, A: ActivationKind>(_ f: F.Type, _ a: A.Type, p: Int,
                                                               table: UnsafePointer<UnsafePointer<Float>>,
                                                               out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                                                               mValid: Int) {
        let nr = GemmConvPlan.panelWidth
        for h in 0..<2 {
            let c0 = p * nr + h * 8
            if mode == .groups8 {
                microKernel6x8Groups8Pairs(f, a, rows: table, taps: taps, kOffset: c0, b: packed + c0 * taps * 8, bias: bias + c0,
                                           out: out + c0, ldo: shape.outChannels, residual: residual.map { $0 + c0 },
                                           mValid: mValid)
            } else {
                microKernel6x8Groups4Pairs(f, a, rows: table, taps: taps, kOffset: c0, b: packed + c0 * taps * 4, bias: bias + c0,
                                           out: out + c0, ldo: shape.outChannels, residual: residual.map { $0 + c0 },
                                           mValid: mValid)
            }
        }
    }

    /// Session 1's driver (a table per tile built with divisions, one micro-kernel call per tile and
    /// panel, tile-outer blocks), on today's micro-kernels: kept only so `GemmBench` can show what the
    /// driver's changes are worth, side by side in one process.
    func runLegacy<F: MulAdd>(_ f: F.Type, input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
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
                            switch mode {
                            case .dense:
                                gemmKernel6x16(f, rows: table, taps: taps, kOffset: panelCin[p], kp: panelK[p],
                                               b: packed + panelOffset[p], panelStride: 0, panels: 1, bias: bias + p * nr,
                                               out: out + p * nr, ldo: cout, residual: res.map { $0 + p * nr },
                                               mValid: mValid, nLast: min(nr, cout - p * nr), act: s.activation)
                            case .groups8, .groups4:
                                runGroupedPanel(f, p: p, table: table, out: out, residual: res, mValid: mValid)
                            }
                        }
                    }
                    pb = pe
                }
            }
        }
    }
}

/// Packed weights start on a cache line: the micro-kernel reads each panel row as two 32-byte loads,
/// and with malloc's 16-byte alignment every other one would straddle two lines (two loads' worth
/// of L1 bandwidth in a loop that issues 8 loads per 12 FMAs). Activation arenas use it for the same
/// reason. Blocks from 4 KB up sit on 2 MB pages where granted (Memory.swift). The memory comes zeroed.
public func allocateAligned(_ count: Int) -> UnsafeMutablePointer<Float> {
    LargePages.allocate(bytes: max(count, 1) * 4).bindMemory(to: Float.self, capacity: max(count, 1))
}

public func freeAligned(_ p: UnsafeMutablePointer<Float>) {
    LargePages.free(UnsafeMutableRawPointer(p))
}

/// Where each output pixel's input rows are, tile by tile. A cursor (image, output row, column) is
/// advanced pixel by pixel, so no tile pays two integer divisions per row; 1x1 stride-1 convs skip
/// even that, since output pixel i reads input row i.
struct TileGeometry {
    let input: UnsafePointer<Float>
    let zero: UnsafePointer<Float>
    let height: Int, width: Int, cin: Int, oh: Int, ow: Int
    let kh: Int, kw: Int, sh: Int, sw: Int, pt: Int, pl: Int
    let pointwise: Bool, contiguous: Bool

    init(plan: GemmConvPlan, input: UnsafePointer<Float>, height: Int, width: Int) {
        let s = plan.shape
        self.input = input; zero = UnsafePointer(plan.zeros)
        self.height = height; self.width = width; cin = s.inChannels
        (oh, ow) = s.outputSize(height: height, width: width)
        kh = s.kernelH; kw = s.kernelW; sh = s.strideH; sw = s.strideW; pt = s.padTop; pl = s.padLeft
        pointwise = kh == 1 && kw == 1 && pt == 0 && pl == 0 && s.padBottom == 0 && s.padRight == 0
        contiguous = pointwise && sh == 1 && sw == 1
    }

    struct Cursor { var image: Int, oy: Int, ox: Int }

    func cursor(at pixel: Int) -> Cursor {
        Cursor(image: pixel / (oh * ow), oy: (pixel % (oh * ow)) / ow, ox: pixel % ow)
    }

    @inline(__always)
    func advance(_ c: inout Cursor) {
        c.ox += 1
        if c.ox == ow { c.ox = 0; c.oy += 1; if c.oy == oh { c.oy = 0; c.image += 1 } }
    }

    /// Whether the next `count` pixels' windows all lie inside the image horizontally.
    func interior(_ c: Cursor, count: Int) -> Bool {
        var c = c
        for _ in 0..<count {
            let ix0 = c.ox * sw - pl
            if ix0 < 0 || ix0 + kw > width { return false }
            advance(&c)
        }
        return true
    }

    /// Like `fill` for a tile that `interior` accepted: kernelH groups of 6 pointers, each to the first
    /// of kernelW consecutive input pixels (or to zeros for a row in the padding).
    func fillRuns(_ table: UnsafeMutablePointer<UnsafePointer<Float>>, mValid: Int, cursor c: inout Cursor) {
        let mr = GemmConvPlan.tileRows
        for r in 0..<mr {
            if r >= mValid {
                for ky in 0..<kh { table[ky * mr + r] = table[ky * mr + r - 1] }
                continue
            }
            let image = input + c.image * height * width * cin
            let iy0 = c.oy * sh - pt, ix0 = c.ox * sw - pl
            for ky in 0..<kh {
                let iy = iy0 + ky
                table[ky * mr + r] = iy >= 0 && iy < height ? image + (iy * width + ix0) * cin : zero
            }
            advance(&c)
        }
    }

    /// Copies the windows of the next `count` pixels into dst, one after the other, each as its
    /// kernelH x kernelW x Cin floats in [ky][kx][ci] order with zeros for the padding (for
    /// `GemmConvPlan.runGathered`; window rows shorter than 16 floats). Advances the cursor.
    func gather(_ dst: UnsafeMutablePointer<Float>, count: Int, cursor c: inout Cursor) {
        let run = kw * cin
        var d = dst
        for _ in 0..<count {
            let image = input + c.image * height * width * cin
            let iy0 = c.oy * sh - pt, ix0 = c.ox * sw - pl
            let inside = ix0 >= 0 && ix0 + kw <= width
            for ky in 0..<kh {
                let iy = iy0 + ky
                if iy < 0 || iy >= height {
                    for j in 0..<run { d[j] = 0 }
                } else if inside && run >= 8 {
                    // Two overlapping 8-float copies cover a run of 8..16 floats without a loop.
                    let src = image + (iy * width + ix0) * cin
                    d.store(src.vec(0), 0)
                    d.store(src.vec(run - 8), run - 8)
                } else {
                    let row = image + iy * width * cin
                    for kx in 0..<kw {
                        let ix = ix0 + kx
                        for ci in 0..<cin { d[kx * cin + ci] = ix >= 0 && ix < width ? row[ix * cin + ci] : 0 }
                    }
                }
                d += run
            }
            advance(&c)
        }
    }

    /// Writes the tile's table, taps groups of 6 pointers; rows past mValid repeat the last real pixel.
    /// The cursor must point at pixel m0 and ends at m0 + mValid.
    @inline(__always)
    func fill(_ table: UnsafeMutablePointer<UnsafePointer<Float>>, m0: Int, mValid: Int, cursor c: inout Cursor) {
        let mr = GemmConvPlan.tileRows
        if contiguous {
            for r in 0..<mr { table[r] = input + (m0 + min(r, mValid - 1)) * cin }
            return
        }
        let taps = kh * kw
        for r in 0..<mr {
            if r >= mValid {
                for t in 0..<taps { table[t * mr + r] = table[t * mr + r - 1] }
                continue
            }
            let image = input + c.image * height * width * cin
            if pointwise {
                table[r] = image + (c.oy * sh * width + c.ox * sw) * cin
            } else {
                let iy0 = c.oy * sh - pt, ix0 = c.ox * sw - pl
                var t = r
                for ky in 0..<kh {
                    let iy = iy0 + ky
                    if iy < 0 || iy >= height {
                        for _ in 0..<kw { table[t] = zero; t += mr }
                        continue
                    }
                    let row = image + iy * width * cin
                    for kx in 0..<kw {
                        let ix = ix0 + kx
                        table[t] = ix >= 0 && ix < width ? row + ix * cin : zero
                        t += mr
                    }
                }
            }
            c.ox += 1
            if c.ox == ow { c.ox = 0; c.oy += 1; if c.oy == oh { c.oy = 0; c.image += 1 } }
        }
    }
}
