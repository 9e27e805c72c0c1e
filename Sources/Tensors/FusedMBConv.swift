import Dispatch
import Foundation

/// An inverted-residual (MBConv) block: 1x1 expand + act -> depthwise kxk + act -> 1x1 project
/// (+ residual), computed band by band of output rows.
///
/// Why: in the first stages of EfficientNet the expanded activation is several MB per image (112x112x96
/// is 4.8 MB), far more than the 512 KB L2, so layer by layer it is written to memory by the expand,
/// read back by the depthwise, whose output is written and read again by the project. Those layers run
/// at memory speed. Here a worker expands only the input rows one band of output rows needs into a
/// small scratch buffer (about 256 KB with the depthwise output of the band), runs the depthwise on
/// it and projects the band straight into the output, so the big intermediate never leaves L2.
///
/// Consecutive bands of one worker share their halo: the expanded rows the next band needs again are
/// moved to the front of the buffer instead of being recomputed. Only where a worker starts (a new
/// image, or its part of an image at batch 1) are the halo rows computed twice.
///
/// The expand writes its rows in the layout the depthwise kernel works in (one plane of zero-padded
/// rows per 16 channels: DepthwiseTiled.swift) rather than NHWC, so the depthwise reads them in place;
/// from NHWC it would copy every row into its ring once per 16-channel tile, which on the stride-2
/// blocks cost about as many stores as its multiply-adds. The expand runs a row at a time for that
/// (a row's pixels are contiguous in a plane, between its padding columns).
///
/// The expand is optional (EfficientNet's first block has none): the depthwise then reads its band
/// straight from the input. It need not be a 1x1: any dense conv computes its rows a band at a time
/// (`Conv2D.forwardRows`), so EfficientNet's 3x3/2 stem can take the place of block 0's missing
/// expand and its 112x112 output never leaves L2 either.
public final class FusedMBConv: @unchecked Sendable {
    public let expand: Conv2D?
    public let depthwise: Conv2D
    public let project: Conv2D
    /// Output rows per band; nil picks the largest band whose scratch fits `scratchBudgetBytes`.
    public let bandRows: Int?
    /// Per worker: the expanded band plus the depthwise output of the band, sized to stay in a 512 KB
    /// L2 next to the block's weights and the input/output rows streaming through.
    /// `CORRAL_FUSE_BUDGET_KB` overrides it, for tuning with `corral bench embed`.
    nonisolated(unsafe) public static var scratchBudgetBytes: Int = {
        ProcessInfo.processInfo.environment["CORRAL_FUSE_BUDGET_KB"].flatMap(Int.init).map { max(1, $0) * 1024 } ?? 256 * 1024
    }()

    private let dw: DepthwisePlan
    /// Time in the expand, depthwise and project stages while `Conv2D.profiling` is on (all workers
    /// summed; `takeStageNanoseconds` resets it). Says which stage a change to the block should target.
    private var stageNanoseconds = SIMD3<UInt64>()
    private let stageLock = NSLock()
    private var scratch: UnsafeMutablePointer<Float>?
    private var scratchCapacity = 0
    private let scratchLock = NSLock()

    /// A 1x1 convolution that reads exactly the pixel it writes, so a run of rows is a contiguous GEMM.
    public static func isPlainPointwise(_ s: ConvShape) -> Bool {
        s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 && s.groups == 1
            && s.padTop == 0 && s.padLeft == 0 && s.padBottom == 0 && s.padRight == 0
    }

    public init(expand: Conv2D?, depthwise: Conv2D, project: Conv2D, bandRows: Int? = nil) {
        if let e = expand {
            precondition(e.depthwisePlan == nil, "fused block: the first conv must not be depthwise")
            precondition(e.shape.outChannels == depthwise.shape.inChannels, "fused block: expand/depthwise channels differ")
        }
        guard let plan = depthwise.depthwisePlan else { preconditionFailure("fused block: middle conv must be depthwise") }
        precondition(FusedMBConv.isPlainPointwise(project.shape), "fused block: project must be a plain 1x1 conv")
        precondition(project.shape.inChannels == depthwise.shape.outChannels, "fused block: depthwise/project channels differ")
        precondition(bandRows.map { $0 >= 1 } ?? true, "fused block: band of at least one row")
        self.expand = expand
        self.depthwise = depthwise
        self.project = project
        self.bandRows = bandRows
        dw = plan
    }

    deinit { scratch.map(freeAligned) }

    public var inChannels: Int { expand?.shape.inChannels ?? depthwise.shape.inChannels }
    public var outChannels: Int { project.shape.outChannels }

    /// The depthwise conv's input size for a block input of height x width: the expand's output (a
    /// strided stem halves it; a 1x1 keeps it).
    func middleSize(height: Int, width: Int) -> (height: Int, width: Int) {
        expand?.outputSize(height: height, width: width) ?? (height, width)
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let (mh, mw) = middleSize(height: height, width: width)
        return depthwise.outputSize(height: mh, width: mw)
    }

    public func flops(height: Int, width: Int) -> Double {
        let (mh, mw) = middleSize(height: height, width: width)
        let (oh, ow) = outputSize(height: height, width: width)
        return (expand?.shape.flops(height: height, width: width) ?? 0)
            + depthwise.shape.flops(height: mh, width: mw) + project.shape.flops(height: oh, width: ow)
    }

    /// Expand, depthwise and project nanoseconds since the last call (profiling only).
    public func takeStageNanoseconds() -> [UInt64] {
        stageLock.lock(); defer { stageLock.unlock() }
        let t = stageNanoseconds
        stageNanoseconds = SIMD3()
        return [t[0], t[1], t[2]]
    }

    /// Whether the expand writes its rows straight into the depthwise ring's layout (one plane of
    /// padded rows per 16 channels) so the depthwise reads them in place instead of copying each row
    /// into its ring per tile. Lite0's fused blocks took 8% less time relative to the rest of the
    /// network (`--profile-layers`, 6 alternating runs each way). `CORRAL_TILED_EXPAND=0` turns it
    /// off, for side-by-side runs.
    nonisolated(unsafe) static var tiledExpand = ProcessInfo.processInfo.environment["CORRAL_TILED_EXPAND"] != "0"
    private var tiled: Bool { expand != nil && DepthwisePlan.tiled && FusedMBConv.tiledExpand }

    /// Rows of the expanded band held at once, floats per row, and planes: in the tiled layout one
    /// plane per 16 channels with rows of padded width x 16, else a single NHWC "plane".
    private func expandedBand(band: Int, height: Int, width: Int) -> (rows: Int, rowFloats: Int, planes: Int) {
        let d = depthwise.shape
        let (mh, mw) = middleSize(height: height, width: width)
        let rows = min(mh, (band - 1) * d.strideH + d.kernelH)
        return tiled ? (rows, dw.paddedWidth(width: mw) * 16, (d.inChannels + 15) / 16) : (rows, mw * d.inChannels, 1)
    }

    /// Floats of scratch one worker needs for bands of `band` output rows (block input height x width).
    func scratchFloats(band: Int, height: Int, width: Int) -> (expanded: Int, depthwise: Int) {
        let d = depthwise.shape
        let (_, ow) = outputSize(height: height, width: width)
        let (rows, rowFloats, planes) = expandedBand(band: band, height: height, width: width)
        let e = expand == nil ? 0 : rows * rowFloats * planes
        return (e, band * ow * d.outChannels)
    }

    /// Output rows per band: the configured value, or the largest that fits the scratch budget.
    public func band(height: Int, width: Int) -> Int {
        let (oh, _) = outputSize(height: height, width: width)
        if let b = bandRows { return min(b, oh) }
        let budget = FusedMBConv.scratchBudgetBytes / 4
        var b = 1
        while b < oh {
            let s = scratchFloats(band: b + 1, height: height, width: width)
            if s.expanded + s.depthwise > budget { break }
            b += 1
        }
        return b
    }

    /// Same contract as `Conv2D.forward`: input batch x height x width x Cin, output batch x OH x OW x Cout,
    /// residual like output. Concurrent calls on one instance must each pass their own `slot` (0..<slots,
    /// the same `slots` in every call): the scratch is shared and each slot gets its own part of it.
    public func forward(input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                        output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil, pool: ThreadPool,
                        slot: Int = 0, slots: Int = 1) {
        let (oh, ow) = outputSize(height: height, width: width)
        precondition(oh > 0 && ow > 0, "fused block: input \(height)x\(width) too small for the kernel")
        if batch == 0 { return }
        let start = Conv2D.profiling ? DispatchTime.now().uptimeNanoseconds : 0

        let band = self.band(height: height, width: width)
        let bandsPerImage = (oh + band - 1) / band
        let workers = pool.threads
        // Whole images when they spread evenly over the workers (no halo computed twice); otherwise each
        // image is cut into one part per worker so that at batch 1 both cores share the image.
        let parts = batch % workers == 0 ? 1 : min(bandsPerImage, workers)
        let (eCount, dCount) = scratchFloats(band: band, height: height, width: width)
        let perWorker = eCount + dCount + 16
        let base = ensureScratch(perWorker * workers * slots) + slot * perWorker * workers

        pool.parallelRanges(batch * parts) { worker, range in
            let e = base + worker * perWorker
            let d = e + eCount
            for item in range {
                let n = item / parts, part = item % parts
                let b0 = part * bandsPerImage / parts, b1 = (part + 1) * bandsPerImage / parts
                runPart(image: n, oyStart: b0 * band, oyEnd: min(oh, b1 * band), band: band,
                        input: input, height: height, width: width, output: output, residual: residual,
                        expanded: e, depthwiseOut: d)
            }
        }

        if Conv2D.profiling {
            Conv2D.record(kind: .fused, nanoseconds: DispatchTime.now().uptimeNanoseconds - start,
                          flops: Double(batch) * flops(height: height, width: width))
        }
    }

    /// Output rows oyStart..<oyEnd of image n, band after band, on the calling thread.
    private func runPart(image n: Int, oyStart: Int, oyEnd: Int, band: Int, input: UnsafePointer<Float>,
                         height: Int, width: Int, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                         expanded e: UnsafeMutablePointer<Float>, depthwiseOut d: UnsafeMutablePointer<Float>) {
        let ds = depthwise.shape
        let (oh, ow) = outputSize(height: height, width: width)
        let (mh, mw) = middleSize(height: height, width: width)
        let cin = inChannels, cout = outChannels
        let (bandCap, rowFloats, planes) = expandedBand(band: band, height: height, width: width)
        // Tiled: plane t (channels 16t..16t+15) of row r at e + t * planeFloats + r * rowFloats.
        let tiled = self.tiled, planeFloats = bandCap * rowFloats
        let image = input + n * height * width * cin
        var eLo = 0, eHi = 0   // image rows held in `e` (e row 0 = image row eLo)
        // Stage times only while profiling; a vector, not an array, and updated through `lap`'s inout
        // arguments rather than by a nested function capturing them (which boxed both on the heap on
        // every call, profiling or not).
        let profiling = Conv2D.profiling
        var stages = SIMD3<UInt64>()
        var t0 = profiling ? DispatchTime.now().uptimeNanoseconds : 0
        defer {
            if profiling {
                stageLock.lock()
                stageNanoseconds &+= stages
                stageLock.unlock()
            }
        }
        var o0 = oyStart
        while o0 < oyEnd {
            let o1 = min(o0 + band, oyEnd)
            let lo = max(0, o0 * ds.strideH - ds.padTop)
            let hi = min(mh, (o1 - 1) * ds.strideH - ds.padTop + ds.kernelH)
            let bandInput: UnsafePointer<Float>
            if let ex = expand {
                var have = 0
                if eHi > lo && eLo <= lo {
                    // The halo of the previous band: move it to the front rather than recompute it.
                    have = min(eHi, hi) - lo
                    if lo > eLo {
                        for t in 0..<planes {
                            let plane = e + t * planeFloats
                            memmove(plane, plane + (lo - eLo) * rowFloats, have * rowFloats * 4)
                        }
                    }
                }
                if tiled {
                    // Row by row: each row's pixels are contiguous in a plane, between its padding columns.
                    let pl = ds.padLeft, right = rowFloats / 16 - pl - mw
                    for y in (lo + have)..<hi {
                        let row = e + (y - lo) * rowFloats
                        for t in 0..<planes {
                            let r = row + t * planeFloats
                            r.update(repeating: 0, count: pl * 16)
                            (r + (pl + mw) * 16).update(repeating: 0, count: right * 16)
                        }
                        ex.forwardRows(input: image, height: height, width: width, oy0: y, oy1: y + 1,
                                       output: row + pl * 16, planeFloats: planeFloats)
                    }
                } else if hi > lo + have {
                    // Rows lo + have ..< hi of the expand's output (of a 1x1, the same input rows; of a
                    // strided stem, the input rows its windows cover).
                    ex.forwardRows(input: image, height: height, width: width, oy0: lo + have, oy1: hi,
                                   output: e + have * rowFloats)
                }
                eLo = lo; eHi = hi
                bandInput = UnsafePointer(e)
            } else {
                bandInput = image + lo * rowFloats
            }
            FusedMBConv.lap(0, profiling, &stages, &t0)
            dw.forwardRows(band: bandInput, bandRow0: lo, height: mh, width: mw, oy0: o0, oy1: o1,
                           output: d, residual: nil, planeFloats: tiled ? planeFloats : nil)
            FusedMBConv.lap(1, profiling, &stages, &t0)
            let outOffset = ((n * oh) + o0) * ow * cout
            project.forwardSerial(input: d, batch: 1, height: o1 - o0, width: ow, output: output + outOffset,
                                  residual: residual.map { $0 + outOffset })
            FusedMBConv.lap(2, profiling, &stages, &t0)
            o0 = o1
        }
    }

    @inline(__always)
    private static func lap(_ stage: Int, _ profiling: Bool, _ stages: inout SIMD3<UInt64>, _ t0: inout UInt64) {
        guard profiling else { return }
        let t = DispatchTime.now().uptimeNanoseconds
        stages[stage] += t - t0
        t0 = t
    }

    private func ensureScratch(_ count: Int) -> UnsafeMutablePointer<Float> {
        scratchLock.lock(); defer { scratchLock.unlock() }
        if let s = scratch, scratchCapacity >= count { return s }
        scratch.map(freeAligned)
        let s = allocateAligned(count)
        scratch = s
        scratchCapacity = count
        return s
    }
}
