/// Grouping: k-means, near-duplicate groups and similarity search over embedding vectors.
public enum GroupingModule {}
