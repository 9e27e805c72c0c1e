import Foundation
import ArgumentParser
import Catalog
import Models
import UI
import TerminalCurses

/// `corral browse PATH...` (and plain `corral PATH...`): the full-screen interface.
struct BrowseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "browse",
        abstract: "Browse clusters and near-duplicates in a full-screen interface (the default command).",
        discussion: """
            Scans PATH (reusing the cache), then shows the pictures grouped by content and the near-duplicates
            with a suggested keeper. Flag with space (keep) and x (reject), move rejected files to the Trash
            with T (asks first; u undoes), export with e, ? for every key. q quits.
            NO_COLOR disables colour; CORRAL_COLOR=truecolor|256|8|mono overrides the detected colours.
            Examples:
              corral ~/Pictures
              corral browse ~/Pictures /mnt/camera --k 12
            """)

    @OptionGroup var common: CommonOptions
    @Argument(help: "Files or folders (walked recursively).") var paths: [String]
    @Option(name: .long, help: "Number of clusters, or auto (default).") var k: String = "auto"
    @Option(name: .long, help: "Where the interface logs library messages while it owns the screen (default: <cache>/ui.log).")
    var log: String?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one folder or image, e.g. `corral ~/Pictures`") }
        if k != "auto", Int(k).map({ $0 < 1 }) ?? true { throw ValidationError("--k must be a positive number or auto") }
    }

    func run() throws {
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = paths.map { p -> String in
            let expanded = (p as NSString).expandingTildeInPath
            return URL(fileURLWithPath: expanded, relativeTo: URL(fileURLWithPath: cwd, isDirectory: true)).standardizedFileURL.path
        }
        for p in absolute where !FileManager.default.fileExists(atPath: p) {
            Diagnostics.fileError(p, "no such file or directory")
            throw ExitCode(1)
        }
        guard isatty(0) == 1, isatty(1) == 1 else {
            Diagnostics.warn("browse needs a terminal; for scripts use `corral cluster` or `corral dups` with --format json")
            throw ExitCode(1)
        }
        // An uninstalled model is a usage error, said before the screen is taken over.
        do { _ = try ModelStore().path(for: common.model ?? CatalogSession.defaultModel) } catch {
            Diagnostics.warn("\(error)")
            throw ExitCode(1)
        }
        let session = try CatalogSession(common: common)
        let service = BrowseLibrary(library: session.library, paths: absolute)
        let env = ProcessInfo.processInfo.environment
        let logPath = log ?? session.library.cacheDirectory.appendingPathComponent("ui.log").path
        let terminal: CursesTerminal
        do {
            terminal = try CursesTerminal(logPath: logPath, environment: env)
        } catch {
            Diagnostics.warn("\(error)")
            throw ExitCode(1)
        }
        let title = absolute.count == 1 ? absolute[0] : "\(absolute[0]) and \(absolute.count - 1) more"
        let config = AppConfig(title: title, workingDirectory: cwd, homeDirectory: env["HOME"] ?? cwd,
                               initialK: k == "auto" ? nil : Int(k))
        let state = AppState(config: config, size: terminal.size,
                             theme: Theme.forEnvironment(env, terminalHasColor: terminal.colorMode.hasColor))
        let app = App(service: service, state: state)
        let status = app.run(on: terminal)
        // A scan still running stops after its batch; finished work is already in the cache.
        service.cancellation.cancel()
        terminal.stop()
        if status != 0 { throw ExitCode(status) }
    }
}
