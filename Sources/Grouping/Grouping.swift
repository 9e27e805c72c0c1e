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

/// SplitMix64: tiny, seedable and identical on every platform, so a seed means the same clustering
/// everywhere (the standard library's generator is not seedable).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 53 random bits.
    mutating func nextUnit() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }
}
