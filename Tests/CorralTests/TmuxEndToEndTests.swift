import XCTest
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The real binary in a real terminal: tmux runs `corral browse` on a small generated folder, keys go
/// in with send-keys, and the screen comes back with capture-pane.
final class TmuxEndToEndTests: XCTestCase {
    var socket = ""
    var root: URL!

    override func setUpWithError() throws {
        guard let tmux = Self.which("tmux") else { throw XCTSkip("tmux is not installed") }
        _ = tmux
        let models = ProcessInfo.processInfo.environment["CORRAL_MODELS"].map { URL(fileURLWithPath: $0) } ?? TestPaths.modelsDir
        guard FileManager.default.fileExists(atPath: models.appendingPathComponent("efficientnet-lite0.safetensors").path) else {
            throw XCTSkip("needs the converted model in \(models.path) (`make weights`)")
        }
        socket = "corral-e2e-\(getpid())-\(UUID().uuidString.prefix(8))"
        root = try TestPaths.makeTempDir("corral-tmux")
    }

    override func tearDown() {
        guard let root else { return }
        _ = try? tmux(["kill-server"])
        try? FileManager.default.removeItem(at: root)
    }

    func testBrowseNavigateHelpQuit() throws {
        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        // Two families of pictures, and one exact copy (a duplicate group).
        for i in 0..<4 {
            try TinyPNG.write(TinyPNG.disc(hue: 0, variant: i), to: photos.appendingPathComponent("red-\(i).png"))
            try TinyPNG.write(TinyPNG.stripes(variant: i), to: photos.appendingPathComponent("stripes-\(i).png"))
        }
        try FileManager.default.copyItem(at: photos.appendingPathComponent("red-0.png"), to: photos.appendingPathComponent("red-0 copy.png"))
        let cache = root.appendingPathComponent("cache").path
        let statusFile = root.appendingPathComponent("status").path
        let command = "'\(CorralBinary.url.path)' browse '\(photos.path)' --cache '\(cache)'; echo $? > '\(statusFile)'; sleep 30"
        try tmux(["new-session", "-d", "-x", "100", "-y", "30", "-s", "e2e", "env", "-u", "NO_COLOR", "/bin/sh", "-c", command])

        let clusters = try waitForScreen(timeout: 300) { $0.contains("clusters of 9 images") }
        XCTAssertTrue(clusters.contains("Clusters"), clusters)
        XCTAssertTrue(clusters.contains("Duplicates"), clusters)
        XCTAssertTrue(clusters.contains("1/"), "the first cluster is selected:\n\(clusters)")

        // Open the first cluster: its header names the image count and a position.
        try keys("Enter")
        let cluster = try waitForScreen { $0.contains(" › ") && $0.contains(".png") }
        XCTAssertTrue(cluster.contains("1/"), cluster)
        try keys("End")
        _ = try waitForScreen { s in
            // Position n/n on the header line.
            guard let line = s.split(separator: "\n").dropFirst().first else { return false }
            let parts = line.split(separator: " ").last?.split(separator: "/") ?? []
            return parts.count == 2 && parts[0] == parts[1]
        }
        try keys("Escape")
        _ = try waitForScreen { $0.contains("clusters of 9 images") }

        // The duplicates tab shows the copied pair.
        try keys("Tab")
        let dups = try waitForScreen { $0.contains("duplicate group") }
        XCTAssertTrue(dups.contains("red-0"), dups)

        try keys("?")
        let help = try waitForScreen { $0.contains("Moving around") }
        XCTAssertTrue(help.contains("Keep the suggested one"), help)
        try keys("?")
        _ = try waitForScreen { !$0.contains("Moving around") }

        try keys("q")
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !FileManager.default.fileExists(atPath: statusFile) { usleep(100_000) }
        let status = try String(contentsOfFile: statusFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(status, "0")
        // The terminal is given back: no curses screen left, nothing stray printed.
        let after = try capture()
        XCTAssertFalse(after.contains("Corral "), after)
    }

    // MARK: tmux helpers

    /// Runs tmux with posix_spawn and waitpid. Foundation's Process is not used: the server that
    /// `new-session` forks outlives the client, and Process on Linux can miss the client's exit and
    /// wait forever. Output goes to a file, never a pipe the server could inherit.
    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        let outPath = root.appendingPathComponent("tmux-out").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([Self.which("tmux")!, "-L", socket] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0]!, &actions, nil, argv, environ)
        guard rc == 0 else { throw NSError(domain: "tmux", code: Int(rc)) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    }

    func capture() throws -> String { try tmux(["capture-pane", "-p", "-t", "e2e"]) }

    func keys(_ k: String) throws { try tmux(["send-keys", "-t", "e2e", k]) }

    func waitForScreen(timeout: TimeInterval = 20, file: StaticString = #filePath, line: UInt = #line,
                       _ ready: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < deadline {
            screen = try capture()
            if ready(screen) { return screen }
            usleep(200_000)
        }
        XCTFail("screen never got there; last screen:\n\(screen)", file: file, line: line)
        throw XCTSkip("stopping after a failed wait")
    }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}

/// Just enough PNG (8-bit RGB, stored deflate blocks) to generate fixtures without any library.
enum TinyPNG {
    struct Picture { var width: Int; var height: Int; var rgb: [UInt8] }

    static func disc(hue: Int, variant: Int) -> Picture {
        let w = 96, h = 72
        var px = [UInt8](repeating: 0, count: w * h * 3)
        let cx = 30 + variant * 10, cy = 36, r = 18 + variant * 2
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                let inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r
                px[i] = inside ? 230 : UInt8(120 + y)
                px[i + 1] = inside ? 40 : UInt8(60 + x / 2)
                px[i + 2] = inside ? 30 : 40
            }
        }
        return Picture(width: w, height: h, rgb: px)
    }

    static func stripes(variant: Int) -> Picture {
        let w = 96, h = 72
        var px = [UInt8](repeating: 0, count: w * h * 3)
        let period = 6 + variant * 2
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                let on = ((x + y) / period) % 2 == 0
                px[i] = on ? 20 : 200
                px[i + 1] = on ? 60 : 220
                px[i + 2] = on ? 200 : 250
            }
        }
        return Picture(width: w, height: h, rgb: px)
    }

    static func write(_ p: Picture, to url: URL) throws {
        var raw: [UInt8] = []
        for y in 0..<p.height {
            raw.append(0)
            raw += p.rgb[(y * p.width * 3)..<((y + 1) * p.width * 3)]
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, raw.count - offset)
            let last: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib += be32(b << 16 | a)
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(UInt32(p.width)) + be32(UInt32(p.height)) + [8, 2, 0, 0, 0])
        png += chunk("IDAT", zlib)
        png += chunk("IEND", [])
        try Data(png).write(to: url)
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in body {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return be32(UInt32(data.count)) + body + be32(~crc)
    }
}
