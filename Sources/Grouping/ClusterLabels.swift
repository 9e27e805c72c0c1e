/// Names and representatives for clusters, from what the classifier head said about the members.
public enum ClusterNaming {
    /// The classes with the highest mean probability over the members (a member's missing classes
    /// count as 0), short form (text before the first comma), joined by ", ". A second name is
    /// added only when its mean is at least half the first's, so a clear cluster gets one word.
    public static func label(memberTopClasses: [[(index: Int, probability: Float)]], names: [String],
                             maxNames: Int = 2) -> String {
        guard !memberTopClasses.isEmpty else { return "" }
        var mean: [Int: Double] = [:]
        for top in memberTopClasses { for c in top { mean[c.index, default: 0] += Double(c.probability) } }
        let ranked = mean.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        guard let first = ranked.first else { return "" }
        var picked = [first]
        for r in ranked.dropFirst() where picked.count < maxNames && r.value >= 0.5 * first.value { picked.append(r) }
        var words: [String] = []
        for p in picked {
            let full = p.key >= 0 && p.key < names.count ? names[p.key] : "class \(p.key)"
            let short = full.split(separator: ",", maxSplits: 1).first.map { String($0).trimmingSpaces() } ?? full
            if !words.contains(short) { words.append(short) }
        }
        return words.joined(separator: ", ")
    }

    /// Index (into `members`) of the member with the highest cosine to the centroid: a real image
    /// that stands for the cluster.
    public static func medoid(members: [Int], embeddings: [Float], dim d: Int, centroid: [Float]) -> Int? {
        var best: Int?
        var bestCos = -Float.infinity
        let cn = centroid.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for m in members {
            var dp: Float = 0, nn: Float = 0
            for t in 0..<d { let v = embeddings[m * d + t]; dp += v * centroid[t]; nn += v * v }
            let c = dp / max(1e-30, nn.squareRoot() * cn)
            if c > bestCos { bestCos = c; best = m }
        }
        return best
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
