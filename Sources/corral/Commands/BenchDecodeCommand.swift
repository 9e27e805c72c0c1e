import ArgumentParser
import Dispatch
import Foundation
import Imaging
import Models
import Catalog

/// `corral bench decode PATH...`: decode + EXIF orientation + the model's preprocessing into its
/// input tensor, no inference. Repeats passes over the files until `--seconds` have elapsed.
struct BenchDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Measure decoding + orientation + preprocessing to the model input (no inference).")

    enum OutputFormat: String, ExpressibleByArgument { case json, text }

    @Argument(help: "Image files or folders (walked recursively).")
    var paths: [String]

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Model whose preprocessing to run (efficientnet-lite0/1/2, resnet50, resnext50_32x4d, ...).")
    var model: String = "efficientnet-lite0"

    @Option(name: .long, help: "Minimum measuring time in seconds (after one warm-up pass).")
    var seconds: Double = 2

    @Option(name: .long, help: "Output format: json or text.")
    var format: OutputFormat = .text

    enum Stage: String, ExpressibleByArgument { case decode, scan }

    @Option(name: .long, help: "decode: decode + orientation + model input (what `embed` does per image); scan: everything a scan's decode worker does per new file (content hash, decode, model input, thumbnail, pixel signature).")
    var stage: Stage = .decode

    @Option(name: .long, help: ArgumentHelp("Decode JPEGs at the smallest DCT scale keeping this short side (default: the model's Preprocessing.decodeShortSide), to measure the cost of another choice.", visibility: .hidden))
    var decodeShortSide: Int?

    @Flag(name: .long, help: "Also print the CPU time of each step of the scan's decode stage (implies --stage scan).")
    var breakdown = false

    /// The model's own declaration (Models.ModelCatalog), so the bench runs exactly what `embed` runs.
    static func preprocessing(forModel name: String) -> Preprocessing? {
        ModelCatalog.definition(named: name).map { ModelCatalog.preprocessing(for: $0) }
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Usage errors: one line with the reason and a hint, exit status 1.
    private func usageError(_ message: String) -> ExitCode {
        Diagnostics.warn(message)
        return ExitCode(1)
    }

    func run() throws {
        if let t = threads, t < 1 { throw usageError("--threads must be at least 1") }
        if seconds < 0 { throw usageError("--seconds must not be negative") }
        guard let prep = Self.preprocessing(forModel: model) else {
            throw usageError("unknown model '\(model)'; known: \(ModelCatalog.names.joined(separator: ", "))")
        }
        let shortSide = decodeShortSide ?? prep.decodeShortSide
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        var files: [String] = []
        var failed = false
        for p in paths {
            let abs = URL(fileURLWithPath: (p as NSString).expandingTildeInPath).standardizedFileURL.path
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: abs, isDirectory: &isDir) else {
                Diagnostics.fileError(abs, "no such file or folder"); failed = true; continue
            }
            if isDir.boolValue {
                let e = FileManager.default.enumerator(atPath: abs)
                var found: [String] = []
                while let rel = e?.nextObject() as? String {
                    let f = abs + "/" + rel
                    var d: ObjCBool = false
                    if FileManager.default.fileExists(atPath: f, isDirectory: &d), !d.boolValue { found.append(f) }
                }
                files += found.sorted()
            } else {
                files.append(abs)
            }
        }
        // Warm-up pass: also drops what does not decode (named once on stderr) and non-images in folders.
        var usable: [[UInt8]] = []
        var names: [String] = []
        for f in files {
            do {
                let data = try Array(Data(contentsOf: URL(fileURLWithPath: f)))
                _ = try decodeImage(data: data, name: f, minimumShortSide: shortSide)
                usable.append(data); names.append(f)
            } catch let error as ImageError {
                if error.kind == .unsupported && !paths.contains(f) { continue }  // non-image inside a folder
                Diagnostics.fileError(f, error.reason); failed = true
            } catch {
                Diagnostics.fileError(f, "\(error)"); failed = true
            }
        }
        guard !usable.isEmpty else {
            Diagnostics.warn("no decodable images in the given paths")
            throw failed ? Diagnostics.partialFailure : ExitCode(1)
        }
        // Files are read once up front: the figure is decode + orient + preprocess, not disk speed.
        let inputs = usable
        let size = prep.inputSize * prep.inputSize * 3
        let scanStage = (stage == .scan || breakdown) ? DecodeStage.standard(preprocessing: prep, decodeShortSide: shortSide) : nil
        let profile = breakdown ? StageProfile() : nil
        let lock = NSLock()
        var decoded = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = Self.processCPUSeconds()
        var elapsed = 0.0
        repeat {
            var next = 0
            DispatchQueue.concurrentPerform(iterations: threadCount) { _ in
                let tensor = UnsafeMutablePointer<Float>.allocate(capacity: size)
                defer { tensor.deallocate() }
                while true {
                    lock.lock()
                    let i = next
                    next += 1
                    lock.unlock()
                    if i >= inputs.count { break }
                    if let scanStage {
                        _ = profile.map { p in p.measure("content hash") { ContentHasher.hash(inputs[i]) } }
                            ?? ContentHasher.hash(inputs[i])
                        _ = try? scanStage.prepare(data: inputs[i], path: names[i], profile: profile)
                    } else if let (image, _) = try? decodeImage(data: inputs[i], name: names[i], minimumShortSide: shortSide) {
                        prep.apply(image, into: tensor)
                    }
                }
            }
            decoded += inputs.count
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        let rate = Double(decoded) / elapsed
        // CPU time per image is robust to other processes competing for the cores (wall time is not).
        let cpuMs = (Self.processCPUSeconds() - cpuStart) * 1000 / Double(decoded)
        let stepMs: [(String, Double)] = profile.map { p in
            p.steps.map { ($0, Double(p.nanoseconds($0)) / 1e6 / Double(decoded)) }
        } ?? []
        let stageName = scanStage == nil ? "decode" : "scan"
        switch format {
        case .json:
            let steps = stepMs.map { "\"\($0.0)\": \(($0.1 * 1000).rounded() / 1000)" }.joined(separator: ", ")
            print("{\"images\": \(inputs.count), \"images_per_second\": \((rate * 100).rounded() / 100), \"threads\": \(threadCount), \"model\": \"\(model)\", \"stage\": \"\(stageName)\", \"cpu_ms_per_image\": \((cpuMs * 1000).rounded() / 1000)"
                  + (steps.isEmpty ? "" : ", \"step_cpu_ms\": {\(steps)}") + "}")
        case .text:
            print(String(format: "%d images, %.1f images/s with %d thread(s) (%.2f ms CPU per image), %@ preprocessing, %@ stage",
                         inputs.count, rate, threadCount, cpuMs, model, stageName))
            for (name, ms) in stepMs {
                print("  " + name.padding(toLength: 14, withPad: " ", startingAt: 0) + String(format: "%7.2f ms CPU per image", ms))
            }
        }
        if failed { throw Diagnostics.partialFailure }
    }
}
