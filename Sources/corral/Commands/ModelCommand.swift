import ArgumentParser
import Foundation
import Models

/// `corral model list|import`: the model folder seen from the command line. Import is the only
/// place pickles are parsed; everything else reads the safetensors files it writes.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "List installed models, or import PyTorch (.pth, legacy or zip) or safetensors weights.",
        subcommands: [List.self, Import.self]
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    /// The JSON shape of one model, shared by list and import.
    struct ModelJSON: Encodable {
        let name: String
        let architecture: String
        let embedding_size: Int
        let file_size: Int
        let source: String
        let source_sha256: String
        let path: String
        init(_ m: InstalledModel) {
            name = m.name; architecture = m.architecture; embedding_size = m.embeddingSize
            file_size = m.fileSize; source = m.source; source_sha256 = m.sourceSHA256; path = m.path.path
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show installed models: name, architecture, embedding size, file size, source.",
            discussion: "Models live in $CORRAL_MODELS, else <prefix>/share/corral/models next to an installed binary, else the source tree's assets/models."
        )
        @Option(help: "Output format: text or json.") var format: Format = .text

        func run() throws {
            let store = ModelStore()
            let models = store.list()
            switch format {
            case .json:
                struct Listing: Encodable { let directory: String; let models: [ModelJSON] }
                print(try ModelCommand.json(Listing(directory: store.directory.path, models: models.map(ModelJSON.init))))
            case .text:
                if models.isEmpty {
                    Diagnostics.warn("no models in \(store.directory.path); run `make weights`, or `corral model import FILE`")
                    return
                }
                let rows = [["NAME", "ARCHITECTURE", "EMBEDDING", "SIZE", "SOURCE"]] + models.map {
                    [$0.name, $0.architecture, String($0.embeddingSize), ModelCommand.megabytes($0.fileSize), $0.source]
                }
                let widths = (0..<5).map { c in rows.map { $0[c].count }.max() ?? 0 }
                for row in rows {
                    let cells = row.enumerated().map { c, s in c == row.count - 1 ? s : s.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                    print(cells.joined(separator: "  "))
                }
                Diagnostics.warn("models folder: \(store.directory.path)")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a PyTorch checkpoint or a safetensors file into the model folder.",
            discussion: """
            Reads torch.save files in the legacy and the zip (torch >= 1.6) format, and safetensors. Only the \
            pickle operations a state dict needs are accepted; any other global (code) is refused. The \
            architecture is recognised from the keys: efficientnet-lite0/1/2, resnet18/34/50/101/152, \
            resnext50_32x4d, resnext101_32x8d, resnext101_64x4d. Re-importing a name replaces it atomically.
            """
        )
        @Argument(help: "The weights file (.pth/.pt or .safetensors).") var file: String
        @Option(help: "Model name (default: the detected architecture, e.g. resnext50_32x4d).") var name: String?
        @Option(help: "Output format: text or json.") var format: Format = .text

        func run() throws {
            let path = URL(fileURLWithPath: file).standardizedFileURL.path
            if let name {
                do { try ModelStore.validate(name: name) } catch {
                    Diagnostics.warn("\(error)")
                    throw ExitCode(1)
                }
            }
            let store = ModelStore()
            let model: InstalledModel
            do {
                model = try store.importModel(from: path, name: name)
            } catch let e as WeightsError {
                Diagnostics.fileError(e.path.isEmpty ? path : e.path, e.reason)
                throw Diagnostics.partialFailure
            }
            switch format {
            case .json: print(try ModelCommand.json(ModelJSON(model)))
            case .text:
                print("imported \(model.name) (\(model.architecture), \(model.embeddingSize)-d embedding, \(ModelCommand.megabytes(model.fileSize))) -> \(model.path.path)")
            }
        }
    }
}
