import ArgumentParser
/// Commands owned by the grouping work (cluster, dups, similar).
enum GroupingCommands {
    static let all: [ParsableCommand.Type] = [ClusterCommand.self, DupsCommand.self, SimilarCommand.self]
    /// `corral bench group`.
    static let bench: [ParsableCommand.Type] = [BenchGroupCommand.self]
}
