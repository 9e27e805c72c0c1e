import ArgumentParser
/// Commands owned by the embedder work (embed, classify, model).
enum ModelCommands {
    static let all: [ParsableCommand.Type] = [ModelCommand.self, EmbedCommand.self, ClassifyCommand.self]
    static let bench: [ParsableCommand.Type] = [BenchEmbedCommand.self, BenchGemmCommand.self]
}
