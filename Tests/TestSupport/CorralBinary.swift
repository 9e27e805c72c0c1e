import Foundation

/// The `corral` executable built alongside the tests, and a way to run it and capture its output.
public enum CorralBinary {
    public static var url: URL {
        if let p = ProcessInfo.processInfo.environment["CORRAL_BIN"] { return URL(fileURLWithPath: p) }
        // Test bundles live in .build*/<config>/; the executable is built into the same folder.
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("corral")
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), !isDir.boolValue { return candidate }
            dir.deleteLastPathComponent()
        }
        return TestPaths.repoRoot.appendingPathComponent(".build/release/corral")
    }

    /// One cache folder per test process, under the temporary directory.
    static let scratchCache: String = {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("corral-test-cache-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }()

    public struct Output { public let status: Int32; public let stdout: String; public let stderr: String }

    public static func run(_ args: [String], environment: [String: String] = [:], stdin: Data? = nil) throws -> Output {
        let p = Process()
        p.executableURL = url
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        // Commands that go through the catalog (embed, cluster, dups, ...) must never read or upgrade
        // the user's own cache: each test process gets a throwaway one unless the test names its own.
        if env["CORRAL_CACHE"] == nil { env["CORRAL_CACHE"] = CorralBinary.scratchCache }
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(stdin) }
        try? inp.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        var errData = Data()
        let group = DispatchGroup(); group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait(); p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
