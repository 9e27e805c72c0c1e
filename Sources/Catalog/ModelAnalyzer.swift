import Foundation

extension Library {
    /// The real analyzer (Imaging decode + Models.Embedder + Grouping.PixelSignature) is wired here
    /// once those modules land; until then scanning needs an injected analyzer.
    static let defaultAnalyzerFactory: AnalyzerFactory = { model, _ in
        throw FileError(path: model, reason: "the embedder is not built into this corral yet")
    }
}
