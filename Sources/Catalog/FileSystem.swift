import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the walk knows about a file without reading it: enough to tell "unchanged since last scan".
public struct FileStat: Sendable, Equatable {
    public var size: Int
    public var mtimeNanoseconds: Int64
    public var device: UInt64
    public var inode: UInt64
    public var isDirectory: Bool
    public var isRegular: Bool
}

/// A file-system failure named the way the CLI prints it: `PATH: reason`.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// `stat(2)` by a name that does not collide with the struct of the same name inside `FS`.
private func sysStat(_ path: String, _ st: inout stat) -> Int32 { stat(path, &st) }

enum FS {
    static func errnoReason(_ e: Int32) -> String {
        switch e {
        case ELOOP: return "symlink loop"
        case EACCES, EPERM: return "permission denied"
        case ENOENT: return "no such file or directory"
        default: return String(cString: strerror(e))
        }
    }

    /// stat (following symlinks).
    static func stat(_ path: String) throws -> FileStat {
        var st = Glibc.stat()
        guard sysStat(path, &st) == 0 else { throw FileError(path: path, reason: errnoReason(errno)) }
        return FileStat(st)
    }

    static func lstatIsSymlink(_ path: String) -> Bool {
        var st = Glibc.stat()
        guard lstat(path, &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) == S_IFLNK
    }

    static func exists(_ path: String) -> Bool {
        var st = Glibc.stat()
        return lstat(path, &st) == 0
    }

    /// Reads a whole regular file. Refuses anything but a regular file so a FIFO or device never
    /// blocks the scan.
    static func readFile(_ path: String, limit: Int = 1 << 31) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw FileError(path: path, reason: errnoReason(errno)) }
        defer { close(fd) }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else { throw FileError(path: path, reason: errnoReason(errno)) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError(path: path, reason: "not a regular file") }
        let expected = Int(st.st_size)
        guard expected <= limit else { throw FileError(path: path, reason: "file too large (\(expected) bytes)") }
        var out = [UInt8](repeating: 0, count: expected)
        var got = 0
        while got < expected {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, expected - got) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, reason: errnoReason(errno))
            }
            if n == 0 { break }
            got += n
        }
        if got < expected { out.removeSubrange(got...) }   // file shrank while reading
        return out
    }

    /// First bytes of a file, for content sniffing.
    static func readPrefix(_ path: String, count: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw FileError(path: path, reason: errnoReason(errno)) }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: count)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, count) }
        guard n >= 0 else { throw FileError(path: path, reason: errnoReason(errno)) }
        return Array(buf.prefix(n))
    }

    /// Absolute, with `.`/`..` and duplicate slashes removed, symlinks kept (the user's own name).
    static func absolute(_ path: String) -> String {
        var p = path
        if !p.hasPrefix("/") {
            let cwd = FileManager.default.currentDirectoryPath
            p = cwd + "/" + p
        }
        var parts: [Substring] = []
        for c in p.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// rename(2) that refuses to replace: link + unlink on the same volume, so an existing
    /// destination is never overwritten even if it appears between our check and the move.
    static func renameNoReplace(_ from: String, _ to: String) throws {
        if link(from, to) == 0 {
            if unlink(from) != 0 {
                let e = errno
                unlink(to)
                throw FileError(path: from, reason: errnoReason(e))
            }
            return
        }
        let e = errno
        if e == EEXIST { throw FileError(path: to, reason: "destination exists") }
        if e == EXDEV { throw FileError(path: from, reason: "on another volume") }
        // Directories and file systems without hard links: check then rename (small race accepted).
        if e == EPERM || e == EMLINK || e == ENOTSUP || e == EOPNOTSUPP {
            if exists(to) { throw FileError(path: to, reason: "destination exists") }
            if Glibc.rename(from, to) != 0 { throw FileError(path: from, reason: errnoReason(errno)) }
            return
        }
        throw FileError(path: from, reason: errnoReason(e))
    }

    /// Writes data to `path` atomically: temp file in the same folder, fsync, rename.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = dir + "/.\((path as NSString).lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: path, reason: errnoReason(errno)) }
        var ok = true
        data.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; ok = false; break }
                off += n
            }
        }
        let e = errno
        if ok { fsync(fd) }
        close(fd)
        guard ok else { unlink(tmp); throw FileError(path: path, reason: errnoReason(e)) }
        if Glibc.rename(tmp, path) != 0 {
            let e2 = errno; unlink(tmp); throw FileError(path: path, reason: errnoReason(e2))
        }
    }
}

extension FileStat {
    init(_ st: stat) {
        size = Int(st.st_size)
        mtimeNanoseconds = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        isRegular = (st.st_mode & S_IFMT) == S_IFREG
    }
}
