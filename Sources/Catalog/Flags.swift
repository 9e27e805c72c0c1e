import Foundation

/// A person's decision about one picture. Keyed by content hash, so it survives renames, moves and
/// rescans, and applies to every copy of the same bytes.
public enum ImageFlag: String, Sendable, Codable { case keep, reject }

/// Two contents the person said are not duplicates (order-free).
public struct ContentPair: Hashable, Sendable {
    public let a: String, b: String
    public init(_ x: String, _ y: String) { if x < y { a = x; b = y } else { a = y; b = x } }
}

extension Library {
    /// Sets (or with nil clears) the flag of a content hash.
    public func setFlag(_ flag: ImageFlag?, contentHash: String) throws {
        try locked {
            if let flag {
                try db.run("INSERT OR REPLACE INTO flags(content_hash, flag, updated) VALUES (?,?,?)",
                           contentHash, flag.rawValue, Date().timeIntervalSince1970)
            } else {
                try db.run("DELETE FROM flags WHERE content_hash = ?", contentHash)
            }
        }
    }

    /// Sets several flags in one transaction ("keep the suggested one, reject the rest").
    public func setFlags(_ flags: [String: ImageFlag?]) throws {
        try locked { try db.transaction { for (h, f) in flags { try setFlag(f, contentHash: h) } } }
    }

    public func flag(contentHash: String) throws -> ImageFlag? {
        try locked {
            try db.query("SELECT flag FROM flags WHERE content_hash = ?", contentHash) { ImageFlag(rawValue: $0.string(0) ?? "") }.first ?? nil
        }
    }

    public func allFlags() throws -> [String: ImageFlag] {
        try locked {
            var out: [String: ImageFlag] = [:]
            for (h, f) in try db.query("SELECT content_hash, flag FROM flags", row: { ($0.string(0) ?? "", ImageFlag(rawValue: $0.string(1) ?? "")) }) {
                if let f { out[h] = f }
            }
            return out
        }
    }

    public func setNotDuplicates(_ x: String, _ y: String, _ value: Bool = true) throws {
        guard x != y else { return }
        let p = ContentPair(x, y)
        try locked {
            if value {
                try db.run("INSERT OR IGNORE INTO not_duplicates(a, b, created) VALUES (?,?,?)", p.a, p.b, Date().timeIntervalSince1970)
            } else {
                try db.run("DELETE FROM not_duplicates WHERE a = ? AND b = ?", p.a, p.b)
            }
        }
    }

    public func notDuplicatePairs() throws -> Set<ContentPair> {
        try locked { Set(try db.query("SELECT a, b FROM not_duplicates") { ContentPair($0.string(0) ?? "", $0.string(1) ?? "") }) }
    }
}
