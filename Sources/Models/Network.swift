import Foundation
import Tensors

/// A `NetworkDefinition` made runnable for one input size: batch norm folded into each conv,
/// weights packed once by `Conv2D`, and every activation placed in one of a few arenas that are
/// allocated once and reused (a value's arena is free again after its last reader has run).
///
/// Not thread-safe: `forward` writes the shared arenas. `Embedder` serialises calls.
final class Network {
    enum Step {
        case conv(Conv2D, input: Int, residual: Int?, output: Int)
        case maxPool(kernel: Int, stride: Int, padding: Int, input: Int, output: Int)
        /// Expand (optional) + depthwise + project run band by band; the two inner values are never stored.
        case fused(FusedMBConv, input: Int, residual: Int?, output: Int)
    }

    /// Smallest depthwise input (bytes per image) for which a block is fused. Below it the layer-by-layer
    /// path already runs from L2, and small bands would only cut the 1x1 GEMMs into short, wasteful
    /// pieces. `CORRAL_FUSE_MIN_KB` overrides it (benchmarks, tests); `CORRAL_FUSE=0` turns fusion off.
    nonisolated(unsafe) static var fuseMinimumBytes: Int? = {
        let env = ProcessInfo.processInfo.environment
        if env["CORRAL_FUSE"] == "0" { return nil }
        if let kb = env["CORRAL_FUSE_MIN_KB"].flatMap(Int.init) { return kb * 1024 }
        return 1024 * 1024
    }()

    /// Whether a dense first conv (EfficientNet's stem) may open a fused block; `CORRAL_FUSE_STEM=0`
    /// keeps it a layer of its own, for side-by-side benchmarks.
    nonisolated(unsafe) static var fuseStem = ProcessInfo.processInfo.environment["CORRAL_FUSE_STEM"] != "0"

    /// Per step: a readable name, and time spent while `Conv2D.profiling` is on (per-layer profile).
    let stepNames: [String]
    private(set) var stepNanoseconds: [UInt64]
    private(set) var profiledImages = 0

    struct ValueShape: Equatable { var height, width, channels: Int; var count: Int { height * width * channels } }

    let definition: NetworkDefinition
    let inputSize: Int
    let steps: [Step]
    /// Shape of every value (per image); value 0 is the input.
    let shapes: [ValueShape]
    /// Arena holding each value; -1 for the input, which stays in the caller's memory.
    let arenaOf: [Int]
    let arenaCount: Int
    /// Floats per image in each arena (the largest value it ever holds).
    let arenaStride: Int
    /// The fully connected classifier as a 1x1 convolution over a 1x1 map: its weights are packed once
    /// here, where `fullyConnected` would repack all 1280 x 1000 of them on every call.
    let classifier: Conv2D
    var embeddingSize: Int { shapes[definition.features].channels }
    var classes: Int { definition.classes }

    private var arenas: UnsafeMutablePointer<Float>?
    private var arenaBatch = 0

    init(definition: NetworkDefinition, weights: [String: WeightTensor], inputSize: Int? = nil) throws {
        try definition.check(weights)
        self.definition = definition
        let size = inputSize ?? definition.inputSize
        self.inputSize = size

        // Shapes and packed kernels, in order.
        var shapes = [ValueShape(height: size, width: size, channels: 3)]
        var steps: [Step] = []
        for (i, op) in definition.operations.enumerated() {
            let output = i + 1
            switch op {
            case .conv(let c, let input, let residual):
                let s = shapes[input]
                precondition(s.channels == c.inChannels, "\(c.weight): \(s.channels) input channels, expected \(c.inChannels)")
                let (top, bottom) = Network.padding(c.padding, input: s.height, kernel: c.kernel, stride: c.stride)
                let (left, right) = Network.padding(c.padding, input: s.width, kernel: c.kernel, stride: c.stride)
                let shape = ConvShape(inChannels: c.inChannels, outChannels: c.outChannels, kernelH: c.kernel,
                                      kernelW: c.kernel, strideH: c.stride, strideW: c.stride, padTop: top,
                                      padLeft: left, padBottom: bottom, padRight: right, groups: c.groups,
                                      activation: c.activation)
                let (w, b) = Network.fold(c, weights, epsilon: definition.batchNormEpsilon)
                let conv = Conv2D(shape: shape, weights: w, bias: b)
                let (oh, ow) = conv.outputSize(height: s.height, width: s.width)
                precondition(oh > 0 && ow > 0, "input \(size)x\(size) too small for \(definition.name)")
                let out = ValueShape(height: oh, width: ow, channels: c.outChannels)
                if let r = residual {
                    precondition(shapes[r] == out, "\(c.weight): residual shape \(shapes[r]) != \(out)")
                }
                shapes.append(out)
                steps.append(.conv(conv, input: input, residual: residual, output: output))
            case .maxPool(let k, let stride, let pad, let input):
                let s = shapes[input]
                let (oh, ow) = poolOutputSize(height: s.height, width: s.width, kernel: k, stride: stride, padding: pad)
                shapes.append(ValueShape(height: oh, width: ow, channels: s.channels))
                steps.append(.maxPool(kernel: k, stride: stride, padding: pad, input: input, output: output))
            }
        }
        var names: [String] = []
        for op in definition.operations {
            switch op {
            case .conv(let c, _, _): names.append(String(c.weight.dropLast(".weight".count)))
            case .maxPool(let k, let st, _, _): names.append("maxpool \(k)x\(k)/\(st)")
            }
        }
        (steps, names) = Network.fuseBlocks(steps, names: names, shapes: shapes, features: definition.features)
        stepNames = names
        let plan = BufferPlan(steps: steps.map { step in
            switch step {
            case .conv(_, let input, let residual, let output), .fused(_, let input, let residual, let output):
                return ([input] + (residual.map { [$0] } ?? []), output)
            case .maxPool(_, _, _, let input, let output):
                return ([input], output)
            }
        }, features: definition.features, valueCount: shapes.count)
        stepNanoseconds = [UInt64](repeating: 0, count: steps.count + 1)   // + the head
        self.steps = steps
        self.shapes = shapes
        self.arenaOf = plan.arenaOf
        self.arenaCount = plan.arenaCount
        // Values inside fused blocks have no arena (-1) and need no room.
        // Arenas are padded so that they do not start a multiple of 64 KB apart: a layer reads and writes
        // the same pixel in two or three arenas at once, and on 2 MB pages (Tensors' allocateAligned)
        // arenas 64 KB apart map those lines to the same L2 sets (ResNeXt's 56x56x256 values are
        // exactly 49 x 64 KB). 4 KB + 64 bytes of padding staggers them.
        let largest = shapes.indices.dropFirst().filter { plan.arenaOf[$0] >= 0 }.map { shapes[$0].count }.max() ?? 0
        self.arenaStride = (largest + 1023) / 1024 * 1024 + 1040
        let embedding = shapes[definition.features].channels
        classifier = Conv2D(shape: ConvShape(inChannels: embedding, outChannels: definition.classes, kernel: 1),
                            weights: weights[definition.classifierWeight]!.data, bias: weights[definition.classifierBias]!.data)
    }

    deinit { arenas.map(freeAligned) }

    /// Replaces expand -> depthwise -> project (and depthwise -> project) chains whose inner values
    /// nobody else reads by one FusedMBConv step, where the depthwise input is large enough to miss L2.
    static func fuseBlocks(_ steps: [Step], names: [String], shapes: [ValueShape], features: Int) -> ([Step], [String]) {
        guard let minimum = fuseMinimumBytes else { return (steps, names) }
        var readers = [Int](repeating: 0, count: shapes.count)
        readers[features] += 1
        for step in steps {
            switch step {
            case .conv(_, let input, let residual, _), .fused(_, let input, let residual, _):
                readers[input] += 1
                if let r = residual { readers[r] += 1 }
            case .maxPool(_, _, _, let input, _):
                readers[input] += 1
            }
        }
        func conv(_ i: Int) -> (Conv2D, input: Int, residual: Int?, output: Int)? {
            guard i < steps.count, case .conv(let c, let input, let residual, let output) = steps[i] else { return nil }
            return (c, input, residual, output)
        }
        /// depthwise at i, project at i + 1, both reading only the previous one's output.
        func tail(_ i: Int) -> Bool {
            guard let d = conv(i), let p = conv(i + 1), d.0.kind == .depthwise, d.residual == nil,
                  FusedMBConv.isPlainPointwise(p.0.shape), p.input == d.output, readers[d.output] == 1 else { return false }
            return shapes[d.input].count * 4 >= minimum
        }
        var out: [Step] = [], outNames: [String] = []
        var i = 0
        while i < steps.count {
            // The first conv of a fused block is the block's 1x1 expand, or, for EfficientNet's first
            // block (which has no expand), the stem before it: a 3x3/2 conv whose 112x112x32 output
            // (1.6 MB) would otherwise go to memory and come back for the depthwise.
            if let e = conv(i), e.0.kind == .pointwise || (e.0.kind == .dense && fuseStem), e.residual == nil, readers[e.output] == 1,
               let d = conv(i + 1), d.input == e.output, tail(i + 1), let p = conv(i + 2) {
                out.append(.fused(FusedMBConv(expand: e.0, depthwise: d.0, project: p.0), input: e.input,
                                  residual: p.residual, output: p.output))
                let name = block(names[i]) == block(names[i + 1]) ? block(names[i]) : names[i] + "+" + block(names[i + 1])
                outNames.append(name + " (fused)")
                i += 3
            } else if let d = conv(i), tail(i), let p = conv(i + 1) {
                out.append(.fused(FusedMBConv(expand: nil, depthwise: d.0, project: p.0), input: d.input,
                                  residual: p.residual, output: p.output))
                outNames.append(block(names[i]) + " (fused)")
                i += 2
            } else {
                out.append(steps[i]); outNames.append(names[i])
                i += 1
            }
        }
        return (out, outNames)
    }

    /// "_blocks.3._expand_conv" -> "_blocks.3"
    private static func block(_ name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[..<dot])
    }

    /// Per step of the last profiled runs: name, what it computes, ms and GFLOP per image; resets.
    func takeLayerProfile() -> [(name: String, detail: String, kind: String, nanosecondsPerImage: Double, flopsPerImage: Double)] {
        var out: [(String, String, String, Double, Double)] = []
        let images = Double(max(1, profiledImages))
        for (i, step) in steps.enumerated() {
            let ns = Double(stepNanoseconds[i]) / images
            switch step {
            case .conv(let c, let input, _, _):
                let s = shapes[input], sh = c.shape
                out.append((stepNames[i], "\(s.height)x\(s.width)x\(sh.inChannels)->\(sh.outChannels) k\(sh.kernelH) s\(sh.strideH)",
                            c.kind.rawValue, ns, sh.flops(height: s.height, width: s.width)))
            case .fused(let f, let input, _, _):
                let s = shapes[input]
                let band = f.band(height: s.height, width: s.width)
                let stages = f.takeStageNanoseconds().map { String(format: "%.2f", Double($0) / images / 1e6) }
                out.append((stepNames[i], "\(s.height)x\(s.width)x\(f.inChannels)->\(f.depthwise.shape.inChannels)->\(f.outChannels) k\(f.depthwise.shape.kernelH) s\(f.depthwise.shape.strideH) band \(band) (\(stages.joined(separator: "/")) ms)",
                            "fused", ns, f.flops(height: s.height, width: s.width)))
            case .maxPool(_, _, _, let input, _):
                let s = shapes[input]
                out.append((stepNames[i], "\(s.height)x\(s.width)x\(s.channels)", "pool", ns, 0))
            }
        }
        let f = shapes[definition.features]
        out.append(("head", "global average pool \(f.height)x\(f.width)x\(f.channels), classifier ->\(classes)", "head",
                    Double(stepNanoseconds[steps.count]) / images, 2.0 * Double(f.channels * classes)))
        stepNanoseconds = [UInt64](repeating: 0, count: steps.count + 1)
        profiledImages = 0
        return out
    }

    /// TF 'SAME' or fixed symmetric padding for one axis.
    static func padding(_ p: NetworkDefinition.Padding, input: Int, kernel: Int, stride: Int) -> (Int, Int) {
        switch p {
        case .symmetric(let n): return (n, n)
        case .same:
            let out = (input + stride - 1) / stride
            let total = max((out - 1) * stride + kernel - input, 0)
            return (total / 2, total - total / 2)
        }
    }

    /// Folds y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta into conv weights and a bias
    /// (in Double, so folding adds no error of its own).
    static func fold(_ c: NetworkDefinition.Conv, _ weights: [String: WeightTensor], epsilon: Float) -> ([Float], [Float]) {
        let w = weights[c.weight]!.data
        var bias = c.bias.map { weights[$0]!.data.map(Double.init) } ?? [Double](repeating: 0, count: c.outChannels)
        guard let bn = c.batchNorm else { return (w, bias.map { Float($0) }) }
        let gamma = weights[bn + ".weight"]!.data, beta = weights[bn + ".bias"]!.data
        let mean = weights[bn + ".running_mean"]!.data, variance = weights[bn + ".running_var"]!.data
        let perOut = w.count / c.outChannels
        var folded = [Float](repeating: 0, count: w.count)
        for o in 0..<c.outChannels {
            let scale = Double(gamma[o]) / (Double(variance[o]) + Double(epsilon)).squareRoot()
            for j in 0..<perOut { folded[o * perOut + j] = Float(Double(w[o * perOut + j]) * scale) }
            bias[o] = (bias[o] - Double(mean[o])) * scale + Double(beta[o])
        }
        return (folded, bias.map { Float($0) })
    }

    private func ensureArenas(batch: Int) {
        guard batch > arenaBatch else { return }
        arenas.map(freeAligned)
        // Cache-line aligned, like the packed weights: kernels read and write them in 32-byte vectors.
        arenas = allocateAligned(max(1, arenaCount * arenaStride * batch))
        arenaBatch = batch
    }

    /// Runs `batch` images (NHWC, inputSize x inputSize x 3 each). Writes the pooled features
    /// ([batch x embeddingSize], not normalised) and the logits ([batch x classes]).
    ///
    /// With several threads and at least one image per thread (and no profile being taken), each worker
    /// runs whole images through the whole network on its own core, with its own part of the arenas.
    /// Why: splitting every layer of a batch across the cores makes each layer stream the whole batch's
    /// activations (8 images of 56x56x144 are 14 MB) through L2 and L3, and synchronises the cores
    /// ~70 times per call; one image at a time keeps a core's working set near its own L2.
    /// Batch 1 (and profiles, whose counters are not thread-safe) split each layer instead.
    func forward(input: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>,
                 logits: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let workers = min(pool.threads, batch)
        guard workers > 1, !Conv2D.profiling else {
            ensureArenas(batch: batch)
            run(input: input, batch: batch, features: features, logits: logits, pool: pool, base: arenas!, slot: 0, slots: 1)
            return
        }
        let most = (batch + workers - 1) / workers
        ensureArenas(batch: most * workers)
        let base = arenas!
        let perSlot = arenaCount * arenaStride * most
        let inputFloats = inputSize * inputSize * 3
        pool.parallelRanges(workers) { _, range in
            let serial = ThreadPool(threads: 1)
            for w in range {
                let b0 = w * batch / workers, b1 = (w + 1) * batch / workers
                run(input: input + b0 * inputFloats, batch: b1 - b0, features: features + b0 * embeddingSize,
                    logits: logits + b0 * classes, pool: serial, base: base + w * perSlot, slot: w, slots: workers)
            }
        }
    }

    /// The layers in order on `batch` images, activations in the arenas at `base`.
    private func run(input: UnsafePointer<Float>, batch: Int, features: UnsafeMutablePointer<Float>,
                     logits: UnsafeMutablePointer<Float>, pool: ThreadPool, base: UnsafeMutablePointer<Float>,
                     slot: Int, slots: Int) {
        let stride = arenaStride * batch
        func value(_ v: Int) -> UnsafeMutablePointer<Float>? { v == 0 ? nil : base + arenaOf[v] * stride }
        func read(_ v: Int) -> UnsafePointer<Float> { v == 0 ? input : UnsafePointer(base + arenaOf[v] * stride) }

        let profiling = Conv2D.profiling
        if profiling { profiledImages += batch }
        // With one thread, the thread's CPU time: on a shared machine wall time also counts the time
        // the scheduler gave to other processes, which swamps the differences between layers.
        let clock = pool.threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC
        func now() -> UInt64 {
            var t = timespec()
            clock_gettime(clock, &t)
            return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
        }
        for (i, step) in steps.enumerated() {
            let start = profiling ? now() : 0
            defer { if profiling { stepNanoseconds[i] += now() - start } }
            switch step {
            case .conv(let conv, let input, let residual, let output):
                let s = shapes[input]
                conv.forward(input: read(input), batch: batch, height: s.height, width: s.width,
                             output: value(output)!, residual: residual.map { read($0) }, pool: pool)
            case .fused(let block, let input, let residual, let output):
                let s = shapes[input]
                block.forward(input: read(input), batch: batch, height: s.height, width: s.width,
                              output: value(output)!, residual: residual.map { read($0) }, pool: pool,
                              slot: slot, slots: slots)
            case .maxPool(let k, let st, let pad, let input, let output):
                let s = shapes[input]
                maxPool2D(read(input), batch: batch, height: s.height, width: s.width, channels: s.channels,
                          kernel: k, stride: st, padding: pad, output: value(output)!, pool: pool)
            }
        }
        let start = profiling ? now() : 0
        let f = shapes[definition.features]
        globalAveragePool(read(definition.features), batch: batch, height: f.height, width: f.width,
                          channels: f.channels, output: features)
        classifier.forward(input: features, batch: batch, height: 1, width: 1, output: logits, pool: pool)
        if profiling { stepNanoseconds[steps.count] += now() - start }
    }
}

/// Which arena holds each value. Greedy: the output of step i takes the first arena whose value is
/// no longer read at or after step i (so an output never overwrites one of its own inputs). The
/// plan depends only on the graph, not on sizes: every arena is as large as the largest value.
struct BufferPlan {
    /// Arena per value; -1 for the input (value 0), which stays in the caller's memory.
    let arenaOf: [Int]
    let arenaCount: Int

    init(definition: NetworkDefinition, valueCount: Int) {
        let steps: [(reads: [Int], output: Int)] = definition.operations.enumerated().map { i, op in
            switch op {
            case .conv(_, let input, let residual): return ([input] + (residual.map { [$0] } ?? []), i + 1)
            case .maxPool(_, _, _, let input): return ([input], i + 1)
            }
        }
        self.init(steps: steps, features: definition.features, valueCount: valueCount)
    }

    /// The same for any list of steps, each reading some values and writing one (fused blocks read
    /// their input until they write their last output row, so their output never shares its arena).
    init(steps: [(reads: [Int], output: Int)], features: Int, valueCount: Int) {
        var lastUse = [Int](repeating: -1, count: valueCount)
        for (i, step) in steps.enumerated() {
            for v in step.reads { lastUse[v] = i }
        }
        lastUse[features] = steps.count   // read by the pooling head
        var arenaOf = [Int](repeating: -1, count: valueCount)
        var holder: [Int] = []   // value currently in each arena
        for (i, step) in steps.enumerated() {
            let output = step.output
            if let free = holder.indices.first(where: { lastUse[holder[$0]] < i }) {
                holder[free] = output
                arenaOf[output] = free
            } else {
                holder.append(output)
                arenaOf[output] = holder.count - 1
            }
        }
        self.arenaOf = arenaOf
        arenaCount = holder.count
    }
}
