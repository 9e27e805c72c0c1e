import ArgumentParser
import Dispatch
import Foundation
import Imaging
import Models

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
                _ = try decodeImage(data: data, name: f, minimumShortSide: prep.decodeShortSide)
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
                    if let (image, _) = try? decodeImage(data: inputs[i], name: names[i], minimumShortSide: prep.decodeShortSide) {
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
        switch format {
        case .json:
            print("{\"images\": \(inputs.count), \"images_per_second\": \((rate * 100).rounded() / 100), \"threads\": \(threadCount), \"model\": \"\(model)\", \"cpu_ms_per_image\": \((cpuMs * 1000).rounded() / 1000)}")
        case .text:
            print(String(format: "%d images, %.1f images/s with %d thread(s) (%.2f ms CPU per image), %@ preprocessing",
                         inputs.count, rate, threadCount, cpuMs, model))
        }
        if failed { throw Diagnostics.partialFailure }
    }
}
