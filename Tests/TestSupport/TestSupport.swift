import Foundation
import Tensors

/// Tests and fixtures draw from the same seedable generator as the product (Tensors' SplitMix64),
/// so a seed means the same numbers everywhere.
public typealias SeededRNG = SplitMix64

/// Largest |a - b| / max(1, |b|) over two equally long arrays.
public func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length mismatch \(a.count) vs \(b.count)")
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i]) / max(1, abs(b[i]))) }
    return worst
}

public func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var dot: Double = 0, na: Double = 0, nb: Double = 0
    for i in a.indices { dot += Double(a[i]) * Double(b[i]); na += Double(a[i] * a[i]); nb += Double(b[i] * b[i]) }
    return Float(dot / max(1e-30, (na * nb).squareRoot()))
}

public enum TestPaths {
    /// The repository root (this file lives at Tests/TestSupport/TestSupport.swift).
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Real photos built by ../shared/dev-data/fetch.sh (`make dev-data`); nil when absent.
    public static var devData: URL? {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["CORRAL_DEV_DATA"], (env["HOME"] ?? "") + "/.cache/corral-dev-data"].compactMap { $0 }
        for c in candidates where FileManager.default.fileExists(atPath: c + "/manifest.csv") {
            return URL(fileURLWithPath: c)
        }
        return nil
    }

    /// Downloaded .pth files (`make weights` puts them in assets/weights).
    public static var weightsDir: URL { repoRoot.appendingPathComponent("assets/weights") }
    /// Converted models (`make weights` after `corral model import`).
    public static var modelsDir: URL { repoRoot.appendingPathComponent("assets/models") }

    /// A fresh temporary folder, removed by the caller (or left in /tmp on failure for inspection).
    public static func makeTempDir(_ tag: String = "corral-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(tag)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
