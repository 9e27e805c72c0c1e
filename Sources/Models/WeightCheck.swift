/// Why a set of weights does not fit a network: every missing, unexpected and misshaped tensor by
/// name, so a user who imported the wrong checkpoint sees exactly which key differs.
public struct ModelWeightsError: Error, CustomStringConvertible, Equatable {
    public var model: String
    public var missing: [String]
    public var unexpected: [String]
    /// (name, expected shape, shape found)
    public var misshaped: [Misshaped]
    public var nonFinite: [String]

    public struct Misshaped: Equatable, Sendable {
        public var name: String
        public var expected: [Int]
        public var found: [Int]
    }

    public var description: String {
        func list(_ names: [String]) -> String {
            names.count <= 5 ? names.joined(separator: ", ") : names.prefix(5).joined(separator: ", ") + " and \(names.count - 5) more"
        }
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing tensor \(list(missing))") }
        if !misshaped.isEmpty {
            let shown = misshaped.prefix(5).map { "\($0.name) has shape \($0.found), expected \($0.expected)" }
            parts.append("misshaped tensor " + shown.joined(separator: "; ") + (misshaped.count > 5 ? " and \(misshaped.count - 5) more" : ""))
        }
        if !unexpected.isEmpty { parts.append("unexpected tensor \(list(unexpected))") }
        if !nonFinite.isEmpty { parts.append("non-finite values in \(list(nonFinite))") }
        return "weights do not match \(model): " + parts.joined(separator: "; ")
    }
}

extension NetworkDefinition {
    /// Checks names and shapes (and that values are finite). Batch-norm step counters
    /// (`num_batches_tracked`) are bookkeeping from training and are ignored.
    public func check(_ weights: [String: WeightTensor]) throws {
        var error = ModelWeightsError(model: name, missing: [], unexpected: [], misshaped: [], nonFinite: [])
        var known = Set<String>()
        for (key, shape) in expectedTensors {
            known.insert(key)
            guard let t = weights[key] else { error.missing.append(key); continue }
            if t.shape != shape {
                error.misshaped.append(.init(name: key, expected: shape, found: t.shape))
            } else if t.data.count != shape.reduce(1, *) {
                error.misshaped.append(.init(name: key, expected: shape, found: [t.data.count]))
            } else if !t.data.allSatisfy({ $0.isFinite }) {
                error.nonFinite.append(key)
            }
        }
        error.unexpected = weights.keys.filter { !known.contains($0) && !$0.hasSuffix("num_batches_tracked") }.sorted()
        if !error.missing.isEmpty || !error.unexpected.isEmpty || !error.misshaped.isEmpty || !error.nonFinite.isEmpty {
            throw error
        }
    }
}
