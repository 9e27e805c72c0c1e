import Foundation

/// An installed model as `corral model list` shows it.
public struct InstalledModel: Sendable, Equatable {
    public var name: String
    public var architecture: String
    public var embeddingSize: Int
    public var fileSize: Int
    /// The file it was imported from (base name) and that file's sha256, as recorded at import.
    public var source: String
    public var sourceSHA256: String
    public var path: URL
}

/// The model folder: one `<name>.safetensors` per model, converted once by `corral model import`
/// (so run time never parses pickles and never needs the network).
public struct ModelStore: Sendable {
    public let directory: URL

    /// The models `make weights` installs; a missing one is fixed by that command.
    public static let defaultModels = ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2"]

    /// `directory` nil: $CORRAL_MODELS, else <exe dir>/../share/corral/models (an installed
    /// binary), else assets/models of the source tree the executable was built in.
    public init(directory: URL? = nil) {
        self.directory = directory ?? ModelStore.defaultDirectory()
    }

    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                        executable: URL? = ModelStore.executableURL()) -> URL {
        if let dir = environment["CORRAL_MODELS"], !dir.isEmpty {
            return URL(fileURLWithPath: dir).standardizedFileURL
        }
        guard let exe = executable else {
            return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("assets/models")
        }
        let exeDir = exe.deletingLastPathComponent()
        let installed = exeDir.appendingPathComponent("../share/corral/models").standardizedFileURL
        if FileManager.default.fileExists(atPath: installed.path) { return installed }
        // A build tree: .build/release/corral (or a test bundle) somewhere below the package root.
        var dir = exeDir
        for _ in 0..<8 {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
               FileManager.default.fileExists(atPath: dir.appendingPathComponent("assets").path) {
                return dir.appendingPathComponent("assets/models")
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        return installed
    }

    /// The running executable, symlinks resolved (so /usr/local/bin/corral -> the real install).
    public static func executableURL() -> URL? {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return Bundle.main.executableURL?.resolvingSymlinksInPath()
    }

    public func file(for name: String) -> URL { directory.appendingPathComponent(name + ".safetensors") }

    /// Installed models, sorted by name. Files that are not readable safetensors are left out.
    public func list() -> [InstalledModel] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }.sorted().compactMap { file in
            let url = directory.appendingPathComponent(file)
            guard let meta = try? SafeTensors.readMetadata(path: url.path) else { return nil }
            let arch = meta["architecture"] ?? "unknown"
            return InstalledModel(name: String(file.dropLast(".safetensors".count)), architecture: arch,
                                  embeddingSize: ModelArchitecture(rawValue: arch)?.embeddingSize ?? 0,
                                  fileSize: ModelStore.fileSize(url), source: meta["source"] ?? "", sourceSHA256: meta["source_sha256"] ?? "",
                                  path: url)
        }
    }

    /// Where model `name` lives, or an error that says how to install it.
    public func path(for name: String) throws -> URL {
        try ModelStore.validate(name: name)
        let url = file(for: name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let how = ModelStore.defaultModels.contains(name)
                ? "run `make weights`"
                : "import it with `corral model import FILE --name \(name)`"
            throw WeightsError(path: "", kind: .notInstalled,
                               reason: "model \(name) is not installed in \(directory.path); \(how)")
        }
        return url
    }

    /// The model's tensors and its architecture (from the file's metadata, else re-detected).
    public func load(_ name: String) throws -> (tensors: [String: WeightTensor], architecture: ModelArchitecture) {
        let url = try path(for: name)
        let tensors = try SafeTensors.read(path: url.path)
        let meta = try SafeTensors.readMetadata(path: url.path)
        if let a = meta["architecture"].flatMap(ModelArchitecture.init(rawValue:)) { return (tensors, a) }
        return (tensors, try ModelArchitecture.detect(tensors, path: url.path))
    }

    /// Converts a PyTorch checkpoint (legacy or zip) or a safetensors file into `<name>.safetensors`,
    /// replacing an existing model of that name atomically. The name defaults to the architecture.
    @discardableResult
    public func importModel(from source: String, name: String? = nil) throws -> InstalledModel {
        let mapped = try mapFile(source)
        let (isSafeTensors, digest) = mapped.withUnsafeBytes { (SafeTensors.looksLikeSafeTensors($0), SHA256.hex($0)) }
        let tensors = isSafeTensors ? try SafeTensors.read(path: source) : try loadTorchCheckpoint(path: source)
        let architecture = try ModelArchitecture.detect(tensors, path: source)
        let modelName = name ?? architecture.rawValue
        try ModelStore.validate(name: modelName)
        // An architecture's own name must hold that architecture, or `--model resnet50` would lie.
        if let claimed = ModelArchitecture(rawValue: modelName), claimed != architecture {
            throw WeightsError(path: source, kind: .invalidName,
                               reason: "holds \(architecture.rawValue) weights; the name \(modelName) is reserved for \(modelName) (choose another --name)")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw WeightsError(path: directory.path, kind: .unreadable, reason: "cannot create the model folder: \((error as NSError).localizedDescription)")
        }
        let destination = file(for: modelName)
        let sourceName = URL(fileURLWithPath: source).lastPathComponent
        try SafeTensors.write(tensors, to: destination.path, metadata: [
            "architecture": architecture.rawValue, "source": sourceName, "source_sha256": digest, "format": "pt",
        ])
        return InstalledModel(name: modelName, architecture: architecture.rawValue, embeddingSize: architecture.embeddingSize,
                              fileSize: ModelStore.fileSize(destination), source: sourceName, sourceSHA256: digest, path: destination)
    }

    static func fileSize(_ url: URL) -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Names become file names: lower-case letters, digits, '.', '_' and '-' only, no leading dot.
    public static func validate(name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        guard !name.isEmpty, name.count <= 100, !name.hasPrefix("."), name.allSatisfy({ allowed.contains($0) }) else {
            throw WeightsError(path: "", kind: .invalidName,
                               reason: "invalid model name '\(name)': use lower-case letters, digits, '.', '_' and '-'")
        }
    }
}
