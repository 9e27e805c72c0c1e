import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where rejected files go. Nothing is ever deleted: the Trash is the freedesktop.org one that file
/// managers show (so people can restore from there too), and every move is journalled for `undo`.
public enum ActionTarget: Sendable, Equatable {
    case trash
    case folder(String)
}

public struct MoveRecord: Sendable, Equatable {
    public let id: Int64
    public let batch: Int64
    public let action: String          // "trash" or "move"
    public let source: String
    public let destination: String
    public let trashInfo: String?
    public let state: String           // intent, done, undone, failed
}

public struct ActionResult {
    public var batch: Int64
    public var records: [MoveRecord]
    public var failures: [(path: String, reason: String)]
}

/// A refused action, said before anything moved.
public struct ActionRefused: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// The freedesktop.org Trash a file goes to (Trash specification 1.0): the home trash when the file
/// is on the same volume, else the volume's own `$topdir/.Trash/$uid` or `$topdir/.Trash-$uid`, so
/// trashing never copies a photo across disks.
struct TrashDirectory {
    let files: String
    let info: String
    /// Set for a volume trash: the .trashinfo Path is then relative to it.
    let topdir: String?

    static func homeTrash(_ env: [String: String]) -> String {
        if let x = env["XDG_DATA_HOME"], x.hasPrefix("/") { return x + "/Trash" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/share/Trash"
    }

    static func device(_ path: String) -> UInt64? { (try? FS.stat(path))?.device }

    /// Nearest existing ancestor (the home trash may not exist yet).
    static func existingAncestor(_ path: String) -> String {
        var p = path
        while !FS.exists(p) && p != "/" { p = (p as NSString).deletingLastPathComponent }
        return p
    }

    static func mountPoint(of path: String) -> String {
        var p = (path as NSString).deletingLastPathComponent
        guard let dev = device(p) else { return "/" }
        while p != "/" {
            let parent = (p as NSString).deletingLastPathComponent
            if device(parent) != dev { return p }
            p = parent
        }
        return "/"
    }

    static func forFile(_ path: String, environment env: [String: String]) throws -> TrashDirectory {
        let home = homeTrash(env)
        let parent = (path as NSString).deletingLastPathComponent
        if let d = device(parent), d == device(existingAncestor(home)) {
            try makeDir(home + "/files"); try makeDir(home + "/info")
            return TrashDirectory(files: home + "/files", info: home + "/info", topdir: nil)
        }
        let top = mountPoint(of: path)
        let uid = getuid()
        // $topdir/.Trash/$uid only when .Trash is a real sticky directory (not a link), as the spec asks.
        var st = stat()
        let shared = top == "/" ? "/.Trash" : top + "/.Trash"
        if lstat(shared, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, (st.st_mode & S_ISVTX) != 0 {
            let dir = shared + "/\(uid)"
            if (try? makeDir(dir + "/files")) != nil, (try? makeDir(dir + "/info")) != nil {
                return TrashDirectory(files: dir + "/files", info: dir + "/info", topdir: top)
            }
        }
        let dir = (top == "/" ? "" : top) + "/.Trash-\(uid)"
        try makeDir(dir + "/files"); try makeDir(dir + "/info")
        return TrashDirectory(files: dir + "/files", info: dir + "/info", topdir: top)
    }

    static func makeDir(_ p: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw FileError(path: p, reason: "cannot create trash folder")
        }
    }

    /// Percent-encodes a path as the spec asks (RFC 2396 escaping, '/' kept).
    static func encode(_ path: String) -> String {
        var out = ""
        for b in path.utf8 {
            let c = Character(Unicode.Scalar(b))
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "-_.~/".contains(c) {
                out.append(c)
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    static func deletionDate(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone.current
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.string(from: date)
    }

    /// Claims a unique name by creating its .trashinfo with O_EXCL (the spec's way of reserving a
    /// name against other trashers) and writes it. Returns (files/NAME, info/NAME.trashinfo).
    func reserve(for path: String, date: Date) throws -> (String, String) {
        let name = (path as NSString).lastPathComponent
        let recorded = topdir.map { top -> String in
            let prefix = top == "/" ? "/" : top + "/"
            return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
        } ?? path
        let body = "[Trash Info]\nPath=\(TrashDirectory.encode(recorded))\nDeletionDate=\(TrashDirectory.deletionDate(date))\n"
        for n in 1...10_000 {
            let candidate = uniqueName(name, n)
            let infoPath = info + "/" + candidate + ".trashinfo"
            let fd = open(infoPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0 {
                if errno == EEXIST { continue }
                throw FileError(path: infoPath, reason: FS.errnoReason(errno))
            }
            let ok = body.utf8CString.withUnsafeBufferPointer { buf in write(fd, buf.baseAddress!, buf.count - 1) == buf.count - 1 }
            fsync(fd); close(fd)
            if !ok { unlink(infoPath); throw FileError(path: infoPath, reason: "cannot write trash info") }
            let target = files + "/" + candidate
            if FS.exists(target) { unlink(infoPath); continue }   // stale file without info: leave it alone
            return (target, infoPath)
        }
        throw FileError(path: path, reason: "no free name in the trash")
    }
}

/// "photo.jpg", "photo.2.jpg", "photo.3.jpg", ... (the numbering file managers use).
func uniqueName(_ name: String, _ n: Int) -> String {
    guard n > 1 else { return name }
    let ext = (name as NSString).pathExtension
    let stem = (name as NSString).deletingPathExtension
    return ext.isEmpty ? "\(name).\(n)" : "\(stem).\(n).\(ext)"
}

extension Library {
    /// Moves files to the Trash or a folder, never overwriting (unique names), journalling each move
    /// before it happens so `undoLastBatch` can restore even after a crash mid-way.
    /// `protecting` lists duplicate groups: trashing that would leave a group with no copy on disk is
    /// refused before anything moves.
    public func moveFiles(_ paths: [String], to target: ActionTarget, protecting groups: [[String]] = [],
                          environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ActionResult {
        let sources = paths.map(FS.absolute)
        if target == .trash {
            let leaving = Set(sources)
            for g in groups {
                let members = g.map(FS.absolute)
                guard members.contains(where: leaving.contains) else { continue }
                if !members.contains(where: { !leaving.contains($0) && FS.exists($0) }) {
                    throw ActionRefused(reason: "refusing to trash every copy of a duplicate group (\(members.sorted().joined(separator: ", "))): keep at least one")
                }
            }
        }
        let batch = try locked { Int64(try db.scalar("SELECT COALESCE(MAX(batch), 0) + 1 FROM journal")?.int64 ?? 1) }
        var result = ActionResult(batch: batch, records: [], failures: [])
        let now = Date()
        for src in sources {
            do {
                guard FS.exists(src) else { throw FileError(path: src, reason: "no such file or directory") }
                switch target {
                case .trash:
                    let trash = try TrashDirectory.forFile(src, environment: environment)
                    let (dest, info) = try trash.reserve(for: src, date: now)
                    let id = try journalIntent(batch: batch, action: "trash", source: src, destination: dest, trashInfo: info)
                    do { try FS.renameNoReplace(src, dest) } catch {
                        unlink(info); try journalState(id, "failed"); throw error
                    }
                    try journalDone(id, source: src, destination: dest)
                    result.records.append(MoveRecord(id: id, batch: batch, action: "trash", source: src, destination: dest, trashInfo: info, state: "done"))
                case .folder(let folder):
                    let dir = FS.absolute(folder)
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    let name = (src as NSString).lastPathComponent
                    var n = 1
                    var dest = dir + "/" + uniqueName(name, n)
                    while FS.exists(dest) { n += 1; dest = dir + "/" + uniqueName(name, n) }
                    let id = try journalIntent(batch: batch, action: "move", source: src, destination: dest, trashInfo: nil)
                    do { try Library.moveAcrossVolumes(src, dest) } catch { try journalState(id, "failed"); throw error }
                    try journalDone(id, source: src, destination: dest)
                    result.records.append(MoveRecord(id: id, batch: batch, action: "move", source: src, destination: dest, trashInfo: nil, state: "done"))
                }
            } catch {
                result.failures.append((src, failureReason(error, path: src)))
            }
        }
        return result
    }

    /// rename without replacing; across volumes: copy to a temporary name beside the destination,
    /// flush, link into place without replacing, then remove the source.
    static func moveAcrossVolumes(_ src: String, _ dest: String) throws {
        do { try FS.renameNoReplace(src, dest); return } catch let e as FileError where e.reason == "on another volume" {
            let tmp = (dest as NSString).deletingLastPathComponent + "/.corral-move-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            do { try FileManager.default.copyItem(atPath: src, toPath: tmp) } catch {
                try? FileManager.default.removeItem(atPath: tmp)
                throw FileError(path: src, reason: "copy to \(dest) failed: \(error.localizedDescription)")
            }
            let fd = open(tmp, O_RDONLY); if fd >= 0 { fsync(fd); close(fd) }
            do { try FS.renameNoReplace(tmp, dest) } catch { try? FileManager.default.removeItem(atPath: tmp); throw error }
            if unlink(src) != 0 { throw FileError(path: src, reason: "copied to \(dest) but could not remove: \(FS.errnoReason(errno))") }
        }
    }

    private func journalIntent(batch: Int64, action: String, source: String, destination: String, trashInfo: String?) throws -> Int64 {
        try locked {
            try db.run("INSERT INTO journal(batch, action, source, destination, trash_info, state, created) VALUES (?,?,?,?,?,'intent',?)",
                       batch, action, source, destination, trashInfo, Date().timeIntervalSince1970)
            return db.lastInsertRowID
        }
    }

    private func journalState(_ id: Int64, _ state: String) throws {
        try locked { try db.run("UPDATE journal SET state = ? WHERE id = ?", state, id) }
    }

    /// Marks the move done and carries the file's cache identity along, so the moved file is still
    /// "unchanged" for the next scan of its new folder.
    private func journalDone(_ id: Int64, source: String, destination: String) throws {
        try locked {
            try db.transaction {
                try db.run("UPDATE journal SET state = 'done' WHERE id = ?", id)
                try db.run("DELETE FROM files WHERE path = ?", destination)
                try db.run("UPDATE files SET path = ? WHERE path = ?", destination, source)
            }
        }
    }

    /// The journal, newest first.
    public func journal(limit: Int = 100) throws -> [MoveRecord] {
        try locked {
            try db.query("SELECT id, batch, action, source, destination, trash_info, state FROM journal ORDER BY id DESC LIMIT ?", limit) {
                MoveRecord(id: $0.int64(0) ?? 0, batch: $0.int64(1) ?? 0, action: $0.string(2) ?? "", source: $0.string(3) ?? "",
                           destination: $0.string(4) ?? "", trashInfo: $0.string(5), state: $0.string(6) ?? "")
            }
        }
    }

    /// Restores the most recent batch that still has moves to undo, including moves a crash left
    /// as "intent": the file is wherever the disk says it is, and that is what is restored.
    public func undoLastBatch() throws -> ActionResult? {
        let batch: Int64? = try locked {
            try db.scalar("SELECT MAX(batch) FROM journal WHERE state IN ('intent', 'done')")?.int64
        }
        guard let batch else { return nil }
        let records = try locked {
            try db.query("SELECT id, batch, action, source, destination, trash_info, state FROM journal WHERE batch = ? AND state IN ('intent','done') ORDER BY id DESC", batch) {
                MoveRecord(id: $0.int64(0) ?? 0, batch: $0.int64(1) ?? 0, action: $0.string(2) ?? "", source: $0.string(3) ?? "",
                           destination: $0.string(4) ?? "", trashInfo: $0.string(5), state: $0.string(6) ?? "")
            }
        }
        var result = ActionResult(batch: batch, records: [], failures: [])
        for r in records {
            let atSource = FS.exists(r.source), atDest = FS.exists(r.destination)
            do {
                if atDest && !atSource {
                    try FileManager.default.createDirectory(atPath: (r.source as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try Library.moveAcrossVolumes(r.destination, r.source)
                    try locked {
                        try db.transaction {
                            try db.run("DELETE FROM files WHERE path = ?", r.source)
                            try db.run("UPDATE files SET path = ? WHERE path = ?", r.source, r.destination)
                        }
                    }
                } else if atDest && atSource {
                    throw FileError(path: r.source, reason: "cannot restore from \(r.destination): a file is in the way (not overwriting)")
                } else if !atDest && !atSource {
                    throw FileError(path: r.source, reason: "cannot restore: \(r.destination) is gone")
                }
                // else: the move never happened (crash between intent and rename): nothing to restore.
                if let info = r.trashInfo { unlink(info) }
                try journalState(r.id, "undone")
                result.records.append(MoveRecord(id: r.id, batch: r.batch, action: r.action, source: r.source, destination: r.destination,
                                                 trashInfo: r.trashInfo, state: "undone"))
            } catch {
                result.failures.append((r.source, failureReason(error, path: r.source)))
            }
        }
        return result
    }
}
