import Foundation
import ArgumentParser

/// One place for the CLI's exit-status contract (../shared/CLI.md): 0 success, 1 usage error,
/// 2 some inputs failed (each named once on stderr as `corral: PATH: reason`).
enum Diagnostics {
    static func fileError(_ path: String, _ reason: String) {
        FileHandle.standardError.write(Data("corral: \(path): \(reason)\n".utf8))
    }
    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("corral: \(message)\n".utf8))
    }
    /// Exit code for "some inputs failed, the rest were processed".
    static let partialFailure = ExitCode(2)
}

/// Options every data command shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Model to embed with (see `corral model list`).")
    var model: String?
    @Option(name: .long, help: "Cache folder (default $CORRAL_CACHE, else $XDG_CACHE_HOME/corral, else ~/.cache/corral).")
    var cache: String?
    @Flag(name: .long, help: "No progress bar.")
    var quiet = false
}
