import ArgumentParser
import Dispatch
import Foundation
import Models
import Tensors

/// `corral bench embed`: images per second of the embedder on synthetic input (weights loaded, no
/// decoding), peak memory, and with `--profile` where the time goes per kind of convolution.
/// Architectures without installed weights run with seeded random weights, and say so: speed does
/// not depend on the values (no data-dependent branches in the kernels), only on the shapes.
struct BenchEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Measure inference speed (images/s) of a model on synthetic input.")

    enum OutputFormat: String, ExpressibleByArgument { case json, text }

    @Option(name: .long, help: "Model name (installed, or any known architecture with seeded random weights).")
    var model: String = ModelCatalog.defaultModel

    @Option(name: .long, help: "Threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Images per call.")
    var batch: Int = 8

    @Option(name: .long, help: "Minimum measuring time in seconds (after one warm-up call).")
    var seconds: Double = 3

    @Flag(name: .long, help: "Also report time, GFLOP/s and % of peak per kind of convolution.")
    var profile = false

    @Flag(name: .long, help: "Also report time and GFLOP/s per layer (implies --profile).")
    var profileLayers = false

    @Flag(name: .long, help: "Use seeded random weights even if the model is installed.")
    var randomWeights = false

    @Option(name: .long, help: "Write the synthetic input (input.f32, NHWC) and the logits of the first call (logits.f32) into this folder, for comparing with another runtime.")
    var dump: String?

    @Option(name: .long, help: "Output format: json or text.")
    var format: OutputFormat = .text

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if seconds < 0 { throw ValidationError("--seconds must not be negative") }
        if ModelCatalog.definition(named: model) == nil && !ModelStore().list().contains(where: { $0.name == model }) {
            throw ValidationError("unknown model '\(model)'; known: \(ModelCatalog.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let store = ModelStore()
        let installed = store.list().contains { $0.name == model }
        let embedder: Embedder
        let weightsSource: String
        if installed && !randomWeights {
            do {
                embedder = try Embedder(modelName: model, store: store, threads: threadCount)
            } catch {
                throw ValidationError("\(error)")
            }
            weightsSource = "installed"
        } else {
            guard let definition = ModelCatalog.definition(named: model) else {
                throw ValidationError("model '\(model)' has no known architecture")
            }
            if !randomWeights {
                Diagnostics.warn("\(model) is not installed in \(store.directory.path); benchmarking with seeded random weights (same shapes, same speed)")
            }
            let weights = Self.seededWeights(definition, seed: 42)
            embedder = try Embedder(name: model, definition: definition, weights: weights, threads: threadCount)
            weightsSource = "seeded-random"
        }

        let size = embedder.inputSize
        var rng = SplitMix64(seed: 7)
        let input = (0..<(batch * size * size * 3)).map { _ in rng.nextSigned() }
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: batch * embedder.definition.classes)
        defer { logits.deallocate() }

        _ = embedder.run(batch: input, count: batch, logits: logits)   // warm-up: arenas, caches, page faults
        if let dump {
            try writeDump(folder: dump, input: input, logits: logits, count: batch * embedder.definition.classes)
        }

        let profile = self.profile || profileLayers
        let peakPerCore = profile ? KernelPeak.measure() : 0
        Conv2D.profiling = profile
        _ = Conv2D.takeProfile()
        _ = embedder.takeLayerProfile()
        let cpuStart = Self.cpuSeconds()
        var images = 0, calls = 0
        var callTimes: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = embedder.run(batch: input, count: batch)
            callTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            images += batch; calls += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds || calls < 3
        let cpuPerImage = (Self.cpuSeconds() - cpuStart) / Double(images)
        Conv2D.profiling = false
        let kinds = Conv2D.takeProfile()
        let layers = profileLayers ? embedder.takeLayerProfile() : []

        let rate = Double(images) / elapsed
        callTimes.sort()
        let medianRate = Double(batch) / callTimes[callTimes.count / 2]
        // The fastest tenth of the calls: this VM's core alternates, a second or so at a time, between two
        // speeds about 25% apart (ONNX Runtime sees it too), so the totals above depend on how much of
        // the run fell in the slow phase. This figure depends far less on it, and compares like with
        // like against another runtime timed the same way (bench/compare_onnxruntime.py).
        let fastCallMsPerImage = callTimes[callTimes.count / 10] * 1000 / Double(batch)
        let peakMB = Self.peakMemoryMB()
        let convFlops = embedder.definition.convFlops(inputSize: size)
        let convNanoseconds = max(1, Double(kinds.values.reduce(UInt64(0)) { $0 + $1.nanoseconds }))

        switch format {
        case .json:
            var fields: [String] = [
                "\"model\": \"\(model)\"", "\"threads\": \(threadCount)", "\"batch\": \(batch)",
                "\"images_per_second\": \(Self.round(rate, 2))",
                "\"images_per_second_median_call\": \(Self.round(medianRate, 2))",
                "\"images\": \(images)", "\"seconds\": \(Self.round(elapsed, 3))",
                "\"peak_memory_mb\": \(Self.round(peakMB, 1))", "\"cpu_ms_per_image\": \(Self.round(cpuPerImage * 1000, 3))", "\"call_ms_per_image_p10\": \(Self.round(fastCallMsPerImage, 3))", "\"weights\": \"\(weightsSource)\"",
                "\"input_size\": \(size)", "\"conv_gflop_per_image\": \(Self.round(convFlops / 1e9, 4))",
            ]
            if profile {
                let peak = peakPerCore * Double(threadCount)
                var parts: [String] = []
                for kind in Conv2D.Kind.allCases {
                    guard let p = kinds[kind] else { continue }
                    parts.append("\"\(kind.rawValue)\": {\"ms_per_image\": \(Self.round(Double(p.nanoseconds) / 1e6 / Double(images), 3)), \"gflops\": \(Self.round(p.gflopsPerSecond, 1)), \"percent_of_peak\": \(Self.round(100 * p.gflopsPerSecond / peak, 1)), \"share_of_conv_time\": \(Self.round(Double(p.nanoseconds) / convNanoseconds, 3))}")
                }
                fields.append("\"peak_gflops_measured\": \(Self.round(peak, 1))")
                fields.append("\"profile\": {\(parts.joined(separator: ", "))}")
                if profileLayers {
                    let rows = layers.map { l in
                        "{\"name\": \"\(l.name)\", \"detail\": \"\(l.detail)\", \"kind\": \"\(l.kind)\", \"ms_per_image\": \(Self.round(l.millisecondsPerImage, 4)), \"gflops\": \(Self.round(l.gflopsPerSecond, 1))}"
                    }
                    fields.append("\"layers\": [\(rows.joined(separator: ", "))]")
                }
            }
            print("{" + fields.joined(separator: ", ") + "}")
        case .text:
            print(String(format: "%@: %.1f images/s (median call %.1f images/s), %d thread(s), batch %d, %@ weights, peak memory %.0f MB, CPU %.2f ms/image",
                         model, rate, medianRate, threadCount, batch, weightsSource, peakMB, cpuPerImage * 1000))
            if profile {
                let peak = peakPerCore * Double(threadCount)
                print(String(format: "measured peak %.1f GFLOP/s (%d thread(s), micro-kernel in L1)", peak, threadCount))
                for kind in Conv2D.Kind.allCases {
                    guard let p = kinds[kind] else { continue }
                    print(String(format: "  %-10@ %7.3f ms/image  %6.1f GFLOP/s  %5.1f%% of peak  %4.0f%% of conv time",
                                 kind.rawValue as NSString, Double(p.nanoseconds) / 1e6 / Double(images),
                                 p.gflopsPerSecond, 100 * p.gflopsPerSecond / peak, 100 * Double(p.nanoseconds) / convNanoseconds))
                }
                if profileLayers {
                    let total = max(1e-9, layers.reduce(0) { $0 + $1.millisecondsPerImage })
                    print("per layer (\(threadCount == 1 ? "thread CPU" : "wall") ms/image, GFLOP/s, share of the network's layer time):")
                    for l in layers {
                        print(String(format: "  %-28@ %-9@ %-36@ %7.3f ms %6.1f GFLOP/s %5.1f%%",
                                     l.name as NSString, l.kind as NSString, l.detail as NSString,
                                     l.millisecondsPerImage, l.gflopsPerSecond, 100 * l.millisecondsPerImage / total))
                    }
                }
            }
        }
    }

    private func writeDump(folder: String, input: [Float], logits: UnsafeMutablePointer<Float>, count: Int) throws {
        let url = URL(fileURLWithPath: folder).standardizedFileURL
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try input.withUnsafeBufferPointer { try Data(buffer: $0).write(to: url.appendingPathComponent("input.f32"), options: .atomic) }
            try Data(buffer: UnsafeBufferPointer(start: logits, count: count)).write(to: url.appendingPathComponent("logits.f32"), options: .atomic)
        } catch {
            throw ValidationError("\(url.path): cannot write the dump: \((error as NSError).localizedDescription)")
        }
    }

    /// Weights with plausible magnitudes for every tensor the definition expects: convolutions and the
    /// classifier scaled by fan-in (He), batch norm near identity, so activations stay finite.
    static func seededWeights(_ definition: NetworkDefinition, seed: UInt64) -> [String: WeightTensor] {
        var rng = SplitMix64(seed: seed)
        var out: [String: WeightTensor] = [:]
        for (name, shape) in definition.expectedTensors {
            let count = shape.reduce(1, *)
            let data: [Float]
            if name.hasSuffix("running_var") {
                data = (0..<count).map { _ in 1 + 0.25 * abs(rng.nextSigned()) }
            } else if name.hasSuffix("running_mean") || name.hasSuffix("bias") {
                data = (0..<count).map { _ in 0.1 * rng.nextSigned() }
            } else if shape.count == 1 {   // batch norm gamma
                data = (0..<count).map { _ in 0.75 + 0.25 * rng.nextSigned() }
            } else {
                let fanIn = Float(count / shape[0])
                let scale = (6 / fanIn).squareRoot()
                data = (0..<count).map { _ in scale * rng.nextSigned() }
            }
            out[name] = WeightTensor(shape: shape, data: data)
        }
        return out
    }

    /// User + system CPU time of the process: at one thread a steadier measure than wall time on a
    /// shared machine (time the scheduler gives to others is not counted; cache contention still is).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// The process's own peak resident memory: VmHWM from /proc/self/status. Not `ru_maxrss`: Linux
    /// carries that high-water mark across execve, so a bench started by a large process (the
    /// ONNX Runtime comparison script, ~800 MB) reported its parent's peak instead of its own.
    static func peakMemoryMB() -> Double {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kb = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) {
            return kb / 1024
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024   // kilobytes on Linux
    }

    static func round(_ x: Double, _ digits: Int) -> Double {
        let f = pow(10, Double(digits))
        return (x * f).rounded() / f
    }
}


extension NetworkDefinition {
    /// Convolution FLOPs (2 x multiply-adds) per image at the given input size.
    func convFlops(inputSize: Int) -> Double {
        var sizes = [(inputSize, inputSize)]
        var total = 0.0
        for op in operations {
            switch op {
            case .conv(let c, let input, _):
                let (h, w) = sizes[input]
                let pad: (Int, Int, Int, Int)
                switch c.padding {
                case .symmetric(let n): pad = (n, n, n, n)
                case .same:
                    let ph = ConvShape.samePadding(input: h, kernel: c.kernel, stride: c.stride)
                    let pw = ConvShape.samePadding(input: w, kernel: c.kernel, stride: c.stride)
                    pad = (ph.before, pw.before, ph.after, pw.after)
                }
                let shape = ConvShape(inChannels: c.inChannels, outChannels: c.outChannels, kernelH: c.kernel, kernelW: c.kernel,
                                      strideH: c.stride, strideW: c.stride, padTop: pad.0, padLeft: pad.1,
                                      padBottom: pad.2, padRight: pad.3, groups: c.groups)
                total += shape.flops(height: h, width: w)
                sizes.append(shape.outputSize(height: h, width: w))
            case .maxPool(let k, let s, let p, let input):
                let (h, w) = sizes[input]
                sizes.append(poolOutputSize(height: h, width: w, kernel: k, stride: s, padding: p))
            }
        }
        return total
    }
}
