import ArgumentParser
import Foundation
import Models

/// `corral classify PATH... [--top K] --format json|text`: ImageNet-1k classes per image.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Print each image's most likely ImageNet classes.",
        discussion: """
            json: [{"path": "/abs/a.jpg", "top": [{"index": 281, "label": "tabby", "probability": 0.83}, ...]}, ...]
            (standard ImageNet-1k indices; label is the class name's first synonym).
            text: one line per image, "PATH<TAB>label (index) probability, ...".
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case json, text }

    @Argument(help: "Image files or folders.")
    var paths: [String]

    @Option(name: .long, help: "How many classes per image (1-1000).")
    var top: Int = 5

    @Option(name: .long, help: "Output format: json or text.")
    var format: Format = .text

    @Option(name: .long, help: "Threads for decoding and inference (default: all cores).")
    var threads: Int?

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if top < 1 || top > 1000 { throw ValidationError("--top must be between 1 and 1000") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let runner = try ModelRunner(model: common.model, threads: threads, quiet: common.quiet)
        var first = true
        if format == .json { FileHandle.standardOutput.write(Data("[".utf8)) }
        let failed = runner.run(paths) { path, result in
            let p = result.probabilities
            let best = Array(p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }.prefix(top))
            let text: String
            switch format {
            case .json:
                let items = best.map { i in
                    "{\"index\": \(i), \"label\": \(JSONText.string(ImageNetLabels.shortName(i))), \"probability\": \(JSONText.number(p[i]))}"
                }
                text = (first ? "\n" : ",\n") + "{\"path\": \(JSONText.string(path)), \"top\": [" + items.joined(separator: ", ") + "]}"
            case .text:
                text = path + "\t" + best.map { i in
                    "\(ImageNetLabels.shortName(i)) (\(i)) " + String(format: "%.3f", p[i])
                }.joined(separator: ", ") + "\n"
            }
            first = false
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if format == .json { FileHandle.standardOutput.write(Data((first ? "]\n" : "\n]\n").utf8)) }
        if failed { throw Diagnostics.partialFailure }
    }
}
