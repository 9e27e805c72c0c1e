import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct ExportCluster: Sendable, Equatable {
    public var id: Int
    public var label: String
    public var medoid: String?
    public var images: [String]
    public init(id: Int, label: String, medoid: String?, images: [String]) {
        self.id = id; self.label = label; self.medoid = medoid; self.images = images
    }
}

public struct ExportDuplicateMember: Sendable, Equatable {
    public var path: String
    public var verdict: String
    public var similarity: Float
    public init(path: String, verdict: String, similarity: Float) { self.path = path; self.verdict = verdict; self.similarity = similarity }
}

public struct ExportDuplicateGroup: Sendable, Equatable {
    public var keep: String
    public var reason: String
    public var images: [ExportDuplicateMember]
    public init(keep: String, reason: String, images: [ExportDuplicateMember]) { self.keep = keep; self.reason = reason; self.images = images }
}

public enum ExportFormat: String, CaseIterable, Sendable { case csv, json, txt, links }

/// Writes group lists for other tools. Every format lands atomically (a temporary sibling renamed
/// into place), so a reader never sees half a file and a failed export leaves the old one intact.
public enum Exporter {
    public static func write(clusters: [ExportCluster], duplicates: [ExportDuplicateGroup],
                             format: ExportFormat, to destination: String) throws {
        let dest = FS.absolute(destination)
        switch format {
        case .csv: try FS.writeAtomically(Data(csv(clusters, duplicates).utf8), to: dest)
        case .json: try FS.writeAtomically(try json(clusters, duplicates), to: dest)
        case .txt: try FS.writeAtomically(Data(text(clusters, duplicates).utf8), to: dest)
        case .links: try links(clusters, duplicates, to: dest)
        }
    }

    /// One row per (group, image): kind,group,label,path,verdict,similarity,keep (RFC 4180 quoting).
    static func csv(_ clusters: [ExportCluster], _ dups: [ExportDuplicateGroup]) -> String {
        func q(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var out = "kind,group,label,path,verdict,similarity,keep\r\n"
        for c in clusters {
            for p in c.images { out += "cluster,\(c.id),\(q(c.label)),\(q(p)),,,\r\n" }
        }
        for (i, g) in dups.enumerated() {
            for m in g.images {
                out += "duplicates,\(i),\(q(g.reason)),\(q(m.path)),\(m.verdict),\(String(format: "%.4f", m.similarity)),\(m.path == g.keep ? "yes" : "no")\r\n"
            }
        }
        return out
    }

    static func json(_ clusters: [ExportCluster], _ dups: [ExportDuplicateGroup]) throws -> Data {
        struct C: Encodable { let id: Int; let label: String; let medoid: String?; let images: [String] }
        struct M: Encodable { let path: String; let verdict: String; let similarity: Double }
        struct G: Encodable { let keep: String; let reason: String; let images: [M] }
        struct Doc: Encodable { let clusters: [C]; let duplicates: [G] }
        let doc = Doc(clusters: clusters.map { C(id: $0.id, label: $0.label, medoid: $0.medoid, images: $0.images) },
                      duplicates: dups.map { g in
                          G(keep: g.keep, reason: g.reason, images: g.images.map {
                              M(path: $0.path, verdict: $0.verdict, similarity: (Double($0.similarity) * 10000).rounded() / 10000)
                          })
                      })
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var d = try e.encode(doc); d.append(0x0A)
        return d
    }

    /// One path a line, groups separated by a blank line: clusters first, then duplicate groups.
    static func text(_ clusters: [ExportCluster], _ dups: [ExportDuplicateGroup]) -> String {
        let groups = clusters.map { $0.images } + dups.map { $0.images.map { $0.path } }
        return groups.filter { !$0.isEmpty }.map { $0.joined(separator: "\n") + "\n" }.joined(separator: "\n")
    }

    /// A folder of symlinks per group: DEST/clusters/NN-label/ and DEST/duplicates/NN/. Built in a
    /// temporary sibling and renamed into place; an existing non-empty DEST is not replaced.
    static func links(_ clusters: [ExportCluster], _ dups: [ExportDuplicateGroup], to dest: String) throws {
        if FS.exists(dest) {
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: dest)) ?? ["?"]
            if !contents.isEmpty { throw FileError(path: dest, reason: "already exists and is not an empty folder (not overwriting)") }
        }
        let parent = (dest as NSString).deletingLastPathComponent
        let tmp = parent + "/.\((dest as NSString).lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
            let width = String(max(clusters.count, dups.count, 1) - 1).count
            func pad(_ i: Int) -> String { let s = String(i); return String(repeating: "0", count: max(0, width - s.count)) + s }
            func safe(_ s: String) -> String {
                let cleaned = s.map { $0 == "/" || $0 == "\0" ? "_" : $0 }
                return String(String(cleaned).prefix(60)).trimmingCharacters(in: .whitespaces)
            }
            func fill(_ dir: String, _ paths: [String]) throws {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
                var used = Set<String>()
                for p in paths {
                    let name = (p as NSString).lastPathComponent
                    var n = 1
                    while used.contains(uniqueName(name, n)) { n += 1 }
                    used.insert(uniqueName(name, n))
                    if symlink(p, dir + "/" + uniqueName(name, n)) != 0 { throw FileError(path: dir + "/" + name, reason: FS.errnoReason(errno)) }
                }
            }
            try fm.createDirectory(atPath: tmp, withIntermediateDirectories: false)
            for c in clusters {
                let label = safe(c.label)
                try fill(tmp + "/clusters/" + pad(c.id) + (label.isEmpty ? "" : "-" + label), c.images)
            }
            for (i, g) in dups.enumerated() { try fill(tmp + "/duplicates/" + pad(i), g.images.map { $0.path }) }
            if FS.exists(dest) { rmdir(dest) }
            if rename(tmp, dest) != 0 { throw FileError(path: dest, reason: FS.errnoReason(errno)) }
        } catch {
            try? fm.removeItem(atPath: tmp)
            throw error
        }
    }
}
