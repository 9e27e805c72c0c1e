import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Image kinds recognised from the first bytes, so a photo named `IMG_0001` or `x.jpg.bak` is found
/// and a text file named `x.jpg` is reported instead of crashing a decoder.
public enum SniffedFormat: String, Sendable {
    case jpeg, png, webp, heic

    public static func detect(_ b: [UInt8]) -> SniffedFormat? {
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
        if b.count >= 8, b[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if b.count >= 12, b[0..<4].elementsEqual(Array("RIFF".utf8)), b[8..<12].elementsEqual(Array("WEBP".utf8)) { return .webp }
        if b.count >= 12, b[4..<8].elementsEqual(Array("ftyp".utf8)) {
            let brand = String(decoding: b[8..<12], as: UTF8.self)
            if ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "avif"].contains(brand) { return .heic }
        }
        return nil
    }

    /// Extensions that promise an image: such a file whose content is not one is reported.
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "jpe", "jfif", "png", "webp", "heic", "heif", "avif"]
}

public struct WalkOptions: Sendable {
    public var includeHidden: Bool
    public init(includeHidden: Bool = false) { self.includeHidden = includeHidden }
}

public struct WalkedFile: Sendable {
    public let path: String       // absolute, as reached (through symlinks, not resolved)
    public let stat: FileStat
}

public struct WalkResult: Sendable {
    public var files: [WalkedFile] = []
    public var failures: [FileError] = []
}

/// Recursive walk of the user's paths. Symlinks are followed (photos are often organised with
/// links), loops are cut by remembering the (device, inode) of every directory entered, and every
/// entry that cannot be read is reported and skipped: one bad folder never stops a scan.
public struct FolderWalk {
    public let options: WalkOptions
    public init(options: WalkOptions = WalkOptions()) { self.options = options }

    public func walk(_ paths: [String], cancelled: () -> Bool = { false }) -> WalkResult {
        var result = WalkResult()
        var visitedDirs = Set<DevIno>()
        var seenFiles = Set<DevIno>()
        for raw in paths {
            let path = FS.absolute(raw)
            let st: FileStat
            do { st = try FS.stat(path) } catch let e as FileError { result.failures.append(e); continue } catch { continue }
            if st.isDirectory {
                walkDirectory(path, st, ancestors: [], visited: &visitedDirs, seenFiles: &seenFiles, into: &result, cancelled: cancelled)
            } else {
                // Named explicitly: always a candidate; the content check reports non-images.
                consider(path, st, explicit: true, seenFiles: &seenFiles, into: &result)
            }
        }
        return result
    }

    struct DevIno: Hashable { let dev: UInt64; let ino: UInt64 }

    private func walkDirectory(_ dir: String, _ st: FileStat, ancestors: Set<DevIno>, visited: inout Set<DevIno>,
                               seenFiles: inout Set<DevIno>, into result: inout WalkResult, cancelled: () -> Bool) {
        let key = DevIno(dev: st.device, ino: st.inode)
        if ancestors.contains(key) {
            result.failures.append(FileError(path: dir, reason: "symlink loop (links back to a folder that contains it)"))
            return
        }
        // Reached again through another link: already walked, nothing to report.
        guard visited.insert(key).inserted else { return }
        guard let d = opendir(dir) else {
            result.failures.append(FileError(path: dir, reason: FS.errnoReason(errno)))
            return
        }
        var names: [String] = []
        while let ent = readdir(d) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        closedir(d)
        names.sort()
        var inner = ancestors; inner.insert(key)
        for name in names {
            if cancelled() { return }
            if !options.includeHidden && name.hasPrefix(".") { continue }
            let path = dir == "/" ? "/" + name : dir + "/" + name
            let est: FileStat
            do { est = try FS.stat(path) } catch let e as FileError {
                // A dangling link or a loop of links: worth a report only when its name promises an
                // image (folders are full of dangling links to icons and the like).
                if SniffedFormat.imageExtensions.contains(ext(name)) { result.failures.append(e) }
                continue
            } catch { continue }
            if est.isDirectory {
                walkDirectory(path, est, ancestors: inner, visited: &visited, seenFiles: &seenFiles, into: &result, cancelled: cancelled)
            } else {
                consider(path, est, explicit: false, seenFiles: &seenFiles, into: &result)
            }
        }
    }

    private func ext(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }

    /// Decides whether a non-directory is an image to scan (content first, then the name's promise).
    private func consider(_ path: String, _ st: FileStat, explicit: Bool, seenFiles: inout Set<DevIno>, into result: inout WalkResult) {
        let promised = explicit || SniffedFormat.imageExtensions.contains(ext(path.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(path[path.index(after: $0)...]) } ?? path))
        guard st.isRegular else {
            if promised { result.failures.append(FileError(path: path, reason: "not a regular file")) }
            return
        }
        if st.size == 0 {
            if promised { result.failures.append(FileError(path: path, reason: "empty file")) }
            return
        }
        let head: [UInt8]
        do { head = try FS.readPrefix(path, count: 16) } catch let e as FileError {
            result.failures.append(e); return   // unreadable: always worth saying
        } catch { return }
        guard SniffedFormat.detect(head) != nil else {
            if promised { result.failures.append(FileError(path: path, reason: "not an image (content is not JPEG, PNG, WebP or HEIC)")) }
            return
        }
        // The same file reached by two routes (links, hard links) is scanned once.
        guard seenFiles.insert(DevIno(dev: st.device, ino: st.inode)).inserted else { return }
        result.files.append(WalkedFile(path: path, stat: st))
    }
}
