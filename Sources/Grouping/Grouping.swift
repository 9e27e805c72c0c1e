/// Grouping: k-means, near-duplicate groups and similarity search over embedding vectors.
/// Depends only on the standard library and Dispatch (and Tensors' kernels), so it can be tested
/// on synthetic vectors and images without any decoder or model.
public enum GroupingModule {}

/// A typed error for bad input, so the CLI can print one clear line instead of crashing.
public struct GroupingError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable { case invalidArgument, nonFinite, shapeMismatch }
    public let kind: Kind
    public let reason: String
    public init(_ kind: Kind, _ reason: String) { self.kind = kind; self.reason = reason }
    public var description: String { reason }
}

